/**
 * The hazard of many Docker hosts under one Temporal: two workers, each on its own engine, on
 * one shared task queue. Before per-host queues any worker could take any sandbox's Docker
 * activity, so a kill's destroy could run against the other engine, where the container does
 * not exist (404 counts as "already gone"): the sandbox said stopped while its container ran on.
 * With per-host queues every Docker call of a sandbox goes to its own host's worker.
 *
 * While both workers run, the SDK's sticky queues and eager activity dispatch usually keep a
 * sandbox's calls on the worker that ran its workflow first; the hazard shows as soon as that
 * worker restarts (a deploy): its sandboxes' workflows move to the other worker, and so did
 * their Docker calls. The test kills sandboxes while host-b's worker restarts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HOST_B, startTwoHosts, type TwoHosts } from '../helpers/two-hosts.js';

let hosts: TwoHosts;

beforeAll(async () => {
  hosts = await startTwoHosts();
}, 240_000);
afterAll(async () => {
  await hosts?.stop();
}, 120_000);

/** Which engine has the sandbox's container (null: neither). */
async function whereIs(sandboxID: string): Promise<'test-host' | typeof HOST_B | null> {
  const exists = async (docker: typeof hosts.engine.docker) => (await docker.getContainer(sandboxID).inspect().then(() => true, () => false));
  if (await exists(hosts.stack.docker)) return 'test-host';
  if (await exists(hosts.engine.docker)) return HOST_B;
  return null;
}

it('a kill removes the container from the engine it runs on, also while that host\'s worker restarts', async () => {
  const { stack } = hosts;
  const created: Array<{ id: string; on: string | null; host: string | null }> = [];
  for (let i = 0; i < 6; i++) {
    const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600 } });
    expect(res.status).toBe(201);
    created.push({ id: res.body.sandboxID, on: await whereIs(res.body.sandboxID), host: res.body.host });
  }
  // Every container exists somewhere, and where the sandbox says it is.
  for (const c of created) {
    expect(c.on).not.toBeNull();
    expect(c.host).toBe(c.on);
  }
  // host-b's worker restarts (its engine stays up) while every sandbox is killed.
  await hosts.stopWorkerB();
  const kills = created.map((c) => stack.api('DELETE', `/sandboxes/${c.id}`));
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await hosts.startWorkerB();
  for (const res of await Promise.all(kills)) expect(res.status).toBe(204);
  // Stopped for the API, and gone from both engines (not left running on one of them).
  const leftovers: string[] = [];
  for (const c of created) {
    expect((await stack.api('GET', `/sandboxes/${c.id}`)).status).toBe(404);
    const on = await whereIs(c.id);
    if (on) leftovers.push(`${c.id} still on ${on}`);
  }
  expect(leftovers).toEqual([]);
}, 240_000);
