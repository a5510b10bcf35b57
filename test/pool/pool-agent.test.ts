/**
 * berth-agent in warm-pool sandboxes (real Temporal dev server and Docker): a claimed container
 * runs its commands through the agent like a cold-created one, the agent answers only the
 * sandbox's own token, and an unclaimed pool container's agent answers nobody.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentStart } from '../../src/dataplane/agent-client.js';
import { agentTargetFor } from '../../src/dataplane/agent-route.js';
import { collect, dockerStartExec, ROOT } from '../../src/dataplane/exec.js';
import { agentSocketPath, agentToken } from '../../src/docker/agent.js';
import { LABELS } from '../../src/docker/labels.js';
import { isUnclaimedPoolContainer, POOL_LABELS } from '../../src/docker/pool-labels.js';
import { eventually, startStack, type TestStack } from '../helpers/stack.js';

const POOL_SIZE = 2;
let stack: TestStack;

async function poolContainers(): Promise<Docker.ContainerInfo[]> {
  const listed = await stack.docker.listContainers({ filters: { label: [POOL_LABELS.pool, `${LABELS.queue}=${stack.config.temporal.taskQueue}`] } });
  return listed.filter((c) => isUnclaimedPoolContainer(c));
}

beforeAll(async () => {
  stack = await startStack({ env: { BERTH_WARM_POOL: `tiny:${POOL_SIZE}`, BERTH_WARM_POOL_REFILL_INTERVAL_MS: '500' } });
  expect(stack.config.agent.binaryPath, 'BERTH_AGENT_BINARY (source .berth/setup.env)').toBeTruthy();
  await eventually(async () => (await poolContainers()).length === POOL_SIZE, 60_000, 200);
});
afterAll(async () => {
  await stack?.stop();
});

/** Who started this process: the agent (its binary is /.berth-agent) or docker exec (a parent outside the sandbox: PPID 0). */
const PARENT = 'p=$(cut -d" " -f4 /proc/$$/stat); if [ "$p" = 0 ]; then echo docker; else cat /proc/$p/comm; fi';

describe('berth-agent in pool sandboxes', () => {
  it("a claimed sandbox's commands go through its agent, which takes only the sandbox's token", async () => {
    const pooled = new Set((await poolContainers()).map((c) => c.Id));
    const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300, envs: { FROM_CREATE: 'yes' } } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.sandboxID as string;
    const info = await stack.docker.getContainer(id).inspect();
    expect(pooled.has(info.Id), 'the sandbox claimed a pool container').toBe(true);

    // Through the REST API: started by the agent (failed before the fix: pool containers had no agent, so docker exec ran it).
    const cmd = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: `${PARENT}; echo "env:$FROM_CREATE"` } });
    expect(cmd.status).toBe(200);
    expect(cmd.body.stdout).toBe('.berth-agent\nenv:yes\n');

    // Its socket is at the sandbox's own path, only root's; the token was read and removed.
    const socket = agentSocketPath(stack.config.agent.dir, id)!;
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const run = async (c: string) => {
      const h = await dockerStartExec(stack.docker, id, { cmd: ['/bin/sh', '-c', c], user: ROOT });
      const [out] = await Promise.all([collect(h.stdout, 1 << 20), collect(h.stderr, 1 << 20)]);
      await h.exit;
      return out.data.toString('utf8');
    };
    expect(await run('stat -c %a /run/berth /run/berth/agent.sock; ls /run/berth')).toBe('700\n600\nagent.sock\n');

    const target = agentTargetFor(stack.docker, id)!;
    expect(await agentStart({ ...target, token: 'not-the-token' }, { cmd: ['true'] }, async () => -1)).toBeNull();
    const handle = await agentStart(target, { cmd: ['true'] }, async () => -1);
    expect(handle).not.toBeNull();
    expect(await handle!.exit).toBe(0);
  });

  it("an unclaimed pool container's agent answers no token, and agent folders go with their containers", async () => {
    // A killed (claimed) sandbox leaves no agent folder behind.
    const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300 } });
    expect(res.status).toBe(201);
    const id = res.body.sandboxID as string;
    expect(existsSync(path.join(stack.config.agent.dir, id))).toBe(true);
    expect((await stack.api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
    await eventually(async () => !existsSync(path.join(stack.config.agent.dir, id)));

    await eventually(async () => (await poolContainers()).length === POOL_SIZE, 60_000, 200);
    const [c] = await poolContainers();
    const name = (c!.Names[0] ?? '').slice(1);
    const socket = agentSocketPath(stack.config.agent.dir, name)!;
    await eventually(async () => existsSync(socket));
    // No token at all before the claim: neither the pool name's nor anything else opens it.
    const tokenOfName = agentToken(stack.config.secretKeyHex, name);
    expect(await agentStart({ socketPath: socket, token: tokenOfName }, { cmd: ['true'] }, async () => -1)).toBeNull();
    expect(await agentStart({ socketPath: socket, token: '' }, { cmd: ['true'] }, async () => -1)).toBeNull();

    // A pool container removed under the pool: the next sweep forgets it and removes its folder.
    await stack.docker.getContainer(c!.Id).remove({ force: true });
    await eventually(async () => !readdirSync(stack.config.agent.dir).includes(name), 30_000, 200);
  });
});
