/**
 * A sandbox paused to disk survives an engine restart (issue 13): on a private dockerd (never
 * the shared one), a file written before a disk pause is there after the engine restarted while
 * the sandbox was paused. A frozen sandbox, for contrast, loses its container to the restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type TestStack } from '../helpers/stack.js';
import type { PrivateEngine } from '../helpers/private-engine.js';
import { startPrivateStack, type PrivateStack } from '../helpers/private-stack.js';

let engine: PrivateEngine | undefined;
let stack: TestStack | undefined;
let run: PrivateStack['run'];
let privateStack: PrivateStack | undefined;

beforeAll(async () => {
  privateStack = await startPrivateStack();
  ({ engine, stack, run } = privateStack);
}, 180_000);
afterAll(async () => {
  await privateStack?.stop();
}, 120_000);

describe('pause to disk and an engine restart', () => {
  it('keeps the files of a disk-paused sandbox across an engine restart; a frozen one is lost', async () => {
    const s = stack!;
    const create = async () => {
      const res = await s.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600 } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.sandboxID as string;
    };
    const disk = await create();
    const frozen = await create();
    await run(disk, 'echo survives > /home/user/kept.txt');
    await run(frozen, 'echo lost > /home/user/kept.txt');
    expect((await s.api('POST', `/sandboxes/${disk}/pause`, { body: { mode: 'disk' } })).body.pausedMode).toBe('disk');
    expect((await s.api('POST', `/sandboxes/${frozen}/pause`)).body.pausedMode).toBe('freeze');

    await engine!.restart();

    const resumed = await s.api('POST', `/sandboxes/${disk}/resume`);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect((await run(disk, 'cat /home/user/kept.txt')).stdout).toBe('survives\n');

    // The frozen sandbox's container did not survive the restart (restart policy "no"): resume ends it.
    const lost = await s.api('POST', `/sandboxes/${frozen}/resume`);
    expect(lost.status).toBe(404);
    const stop = await eventually(async () => {
      const events = (await s.api('GET', `/sandboxes/${frozen}/events`)).body.events as Array<{ status: string; reason: string }>;
      return events.at(-1)?.status === 'stopped' && events.at(-1);
    });
    expect(stop).toMatchObject({ reason: 'host_lost' });
    expect((await s.api('DELETE', `/sandboxes/${disk}`)).status).toBe(204);
  }, 240_000);
});
