/**
 * gVisor (issue 13): on a private dockerd with runsc registered (`--platform=ptrace
 * --network=none`, `--experimental`), a pause to disk of a `gvisor` sandbox checkpoints its
 * processes: the container exits (no memory or CPU held), survives an engine restart, and on
 * resume the same processes go on (same PID, a counter that did not restart). Never the shared engine.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type TestStack } from '../helpers/stack.js';
import type { PrivateEngine } from '../helpers/private-engine.js';
import { startPrivateStack, type PrivateStack } from '../helpers/private-stack.js';

const RUNSC = '/usr/bin/runsc';
let engine: PrivateEngine | undefined;
let stack: TestStack | undefined;
let run: PrivateStack['run'];
let privateStack: PrivateStack | undefined;

beforeAll(async () => {
  if (!existsSync(RUNSC)) return;
  privateStack = await startPrivateStack({ experimental: true, runtimes: { runsc: { path: RUNSC, runtimeArgs: ['--platform=ptrace', '--network=none'] } } });
  ({ engine, stack, run } = privateStack);
}, 180_000);
afterAll(async () => {
  await privateStack?.stop();
}, 120_000);

describe('gVisor: pause to disk checkpoints processes', () => {
  // Debian's runsc package is installed by scripts/setup.sh (non-fatal): without it this cannot run.
  it.skipIf(!existsSync(RUNSC))('keeps running processes and memory across a disk pause and an engine restart', async () => {
    const s = stack!;
    const created = await s.api('POST', '/sandboxes', { body: { templateID: 'gvisor', timeout: 600 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.sandboxID as string;
    const inspect = await engine!.docker.getContainer(id).inspect();
    expect(inspect.HostConfig.Runtime).toBe('runsc');
    expect(inspect.HostConfig.NetworkMode).toBe('none');
    const out = await run(id, 'echo kept > /tmp/file.txt; sleep 1000 >/dev/null 2>&1 & echo $!; (i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.2; done) >/dev/null 2>&1 &');
    const sleeper = out.stdout.trim();
    const counted = await eventually(async () => {
      const n = Number((await run(id, 'cat /tmp/count')).stdout);
      return n >= 5 && n;
    });

    const paused = await s.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'disk' } });
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body.pausedMode).toBe('disk');
    // Checkpointed: the container has exited (no processes, no memory held); no pause image.
    expect((await engine!.docker.getContainer(id).inspect()).State.Running).toBe(false);
    await expect(engine!.docker.getImage(`berth-pause:${id}`).inspect()).rejects.toMatchObject({ statusCode: 404 });

    await engine!.restart();

    const resumed = await s.api('POST', `/sandboxes/${id}/resume`);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect((await run(id, 'cat /tmp/file.txt')).stdout).toBe('kept\n');
    expect((await run(id, `kill -0 ${sleeper} && echo alive`)).stdout).toBe('alive\n');
    // The counter's shell kept its variable: it goes on from where it was, it did not restart at 1.
    const after = Number((await run(id, 'cat /tmp/count')).stdout);
    expect(after).toBeGreaterThanOrEqual(counted);
    expect((await s.api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
  }, 240_000);
});
