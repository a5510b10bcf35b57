/**
 * Sandboxes on two Docker engines under one Temporal behave like sandboxes on one: placement
 * spreads them, every lifecycle and data-plane call reaches the sandbox's own engine, an admin
 * may pin and drain, a worker refuses a host name another engine serves, a deadline on a host
 * whose worker is down fires when it is back (on that host), and a lost host's sandboxes stop
 * with `host_lost` while its late-returning containers are removed. The second engine is
 * started by the test on this machine (test/helpers/private-engine.ts); all traffic is local.
 */
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLogger } from '../../../src/logger.js';
import { HostConflictError } from '../../../src/temporal/host-registration.js';
import { ensureReconcileSchedule, deleteReconcileSchedule } from '../../../src/temporal/reconcile-schedule.js';
import { createBerthWorker } from '../../../src/worker.js';
import { hostTaskQueue } from '../../../src/workflows/host-queue.js';
import { eventually } from '../../helpers/stack.js';
import { HOST_B, startTwoHosts, type TwoHosts } from '../../helpers/two-hosts.js';

const GRACE_MS = 6000;
let hosts: TwoHosts;

beforeAll(async () => {
  hosts = await startTwoHosts({
    owners: ['alice', 'admin'],
    env: { BERTH_HOST_HEARTBEAT_MS: '500', BERTH_HOST_GRACE_MS: String(GRACE_MS), BERTH_ORPHAN_GRACE_MS: '0', BERTH_RECONCILE_INTERVAL_MS: '1000' },
    adminOwners: ['admin'],
  });
}, 240_000);
afterAll(async () => {
  await deleteReconcileSchedule(hosts.stack.client, { hostName: HOST_B, taskQueue: hosts.stack.config.temporal.taskQueue }).catch(() => undefined);
  await hosts?.stop();
}, 120_000);

async function create(body: Record<string, unknown> = {}, as = 'alice') {
  const res = await hosts.stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600, ...body }, as });
  return res;
}
const engineOf = (host: string) => (host === HOST_B ? hosts.engine.docker : hosts.stack.docker);
const exists = (host: string, id: string) => engineOf(host).getContainer(id).inspect().then(() => true, () => false);

describe('two hosts', () => {
  it('both hosts report: healthy, their own engines and capacity (admin only)', async () => {
    expect((await hosts.stack.api('GET', '/admin/hosts')).status).toBe(403);
    const res = await hosts.stack.api('GET', '/admin/hosts', { as: 'admin' });
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.hosts.map((h: { host: string }) => [h.host, h]));
    expect(Object.keys(byName).sort()).toEqual(['host-b', 'test-host']);
    expect(byName['host-b']).toMatchObject({ healthy: true, drained: false, lost: false });
    expect(byName['test-host']).toMatchObject({ healthy: true });
    expect(byName['host-b'].engineID).not.toBe(byName['test-host'].engineID);
    expect(byName['host-b'].capacity.cpus).toBeGreaterThan(0);
    expect(byName['host-b'].images).toContain('berth/busybox:1');
  });

  it('places sandboxes on both hosts; lifecycle and data-plane calls work on each', async () => {
    const ids: Record<string, string> = {};
    for (let i = 0; i < 4 && Object.keys(ids).length < 2; i++) {
      const res = await create();
      expect(res.status).toBe(201);
      ids[res.body.host] ??= res.body.sandboxID;
    }
    expect(Object.keys(ids).sort()).toEqual(['host-b', 'test-host']);
    for (const [host, id] of Object.entries(ids)) {
      expect(await exists(host, id)).toBe(true);
      expect(await exists(host === HOST_B ? 'test-host' : HOST_B, id)).toBe(false);
      const run = await hosts.stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'echo hi from $(hostname); echo -n data > /tmp/f' } });
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({ exitCode: 0, stdout: 'hi from sandbox\n' });
      const read = await hosts.stack.api('GET', `/sandboxes/${id}/files?path=/tmp/f`);
      expect(read.status).toBe(200);
      expect(read.body).toBe('data');
      expect((await hosts.stack.api('GET', `/sandboxes/${id}/metrics`)).status).toBe(200);
      const paused = await hosts.stack.api('POST', `/sandboxes/${id}/pause`);
      expect(paused.body.status).toBe('paused');
      expect((await engineOf(host).getContainer(id).inspect()).State.Paused).toBe(true);
      expect((await hosts.stack.api('POST', `/sandboxes/${id}/resume`)).body.status).toBe('running');
      expect((await engineOf(host).getContainer(id).inspect()).State.Paused).toBe(false);
      expect((await hosts.stack.api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
      expect(await exists(host, id)).toBe(false);
    }
  }, 120_000);

  it('an admin may pin a host; anyone else gets 403, an unknown host 400', async () => {
    const denied = await create({ host: HOST_B });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('forbidden');
    expect((await create({ host: 'nowhere' }, 'admin')).status).toBe(400);
    const pinned = await create({ host: HOST_B }, 'admin');
    expect(pinned.status).toBe(201);
    expect(pinned.body.host).toBe(HOST_B);
    expect(await exists(HOST_B, pinned.body.sandboxID)).toBe(true);
    expect((await hosts.stack.api('DELETE', `/sandboxes/${pinned.body.sandboxID}`, { as: 'admin' })).status).toBe(204);
  }, 60_000);

  it('a drained host takes no new sandboxes; its existing ones keep running and answering', async () => {
    const before = await create({ host: HOST_B }, 'admin');
    expect(before.body.host).toBe(HOST_B);
    expect((await hosts.stack.api('POST', `/admin/hosts/${HOST_B}/drain`)).status).toBe(403);
    const drained = await hosts.stack.api('POST', `/admin/hosts/${HOST_B}/drain`, { as: 'admin' });
    expect(drained.status).toBe(200);
    expect(drained.body.drained).toBe(true);
    for (let i = 0; i < 3; i++) {
      const res = await create();
      expect(res.body.host).toBe('test-host');
      await hosts.stack.api('DELETE', `/sandboxes/${res.body.sandboxID}`);
    }
    expect((await create({ host: HOST_B }, 'admin')).status).toBe(409);
    const run = await hosts.stack.api('POST', `/sandboxes/${before.body.sandboxID}/commands`, { body: { cmd: 'echo still here' }, as: 'admin' });
    expect(run.body.stdout).toBe('still here\n');
    expect((await hosts.stack.api('POST', `/admin/hosts/${HOST_B}/undrain`, { as: 'admin' })).body.drained).toBe(false);
    expect((await hosts.stack.api('DELETE', `/sandboxes/${before.body.sandboxID}`, { as: 'admin' })).status).toBe(204);
  }, 60_000);

  it('a worker refuses a host name that a live worker serves with another engine', async () => {
    const connection = await NativeConnection.connect({ address: hosts.stack.config.temporal.address });
    try {
      // The shared engine under host-b's name.
      const attempt = createBerthWorker({
        config: { ...hosts.configB, dockerSocket: '/var/run/docker.sock', network: hosts.stack.config.network },
        docker: hosts.stack.docker,
        logger: createLogger('silent', 'impostor'),
        connection,
        workflowBundle: { codePath: inject('workflowBundlePath') },
      });
      await expect(attempt).rejects.toBeInstanceOf(HostConflictError);
      await expect(attempt).rejects.toThrow(/another Docker engine/);
    } finally {
      await connection.close();
    }
  }, 60_000);

  it('a deadline on a host whose worker is down (engine up) fires when the worker is back, on that host', async () => {
    const res = await create({ host: HOST_B, timeout: 2 }, 'admin');
    const id = res.body.sandboxID as string;
    await hosts.stopWorkerB();
    // Past the deadline: nobody else may run its stop (the other worker cannot reach this engine).
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(await exists(HOST_B, id)).toBe(true);
    expect((await hosts.stack.api('GET', `/sandboxes/${id}`, { as: 'admin' })).body.status).toBe('running');
    await hosts.startWorkerB();
    await eventually(async () => !(await exists(HOST_B, id)), 60_000, 200);
    const events = await eventually(async () => {
      const e = await hosts.stack.api('GET', `/sandboxes/${id}/events`, { as: 'admin' });
      return e.body.status === 'stopped' && e.body;
    }, 30_000, 200);
    expect(events.events.at(-1)).toMatchObject({ status: 'stopped', reason: 'idle_timeout' });
  }, 120_000);

  it('a lost host: its sandboxes stop with host_lost; its returning containers are removed', async () => {
    const { stack } = hosts;
    await ensureReconcileSchedule(stack.client, {
      hostName: HOST_B,
      taskQueue: stack.config.temporal.taskQueue,
      hostTaskQueue: hostTaskQueue(stack.config.temporal.taskQueue, HOST_B),
      intervalMs: 1000,
      orphanGraceMs: 0,
    });
    const res = await create({ host: HOST_B }, 'admin');
    const id = res.body.sandboxID as string;
    expect(res.body.host).toBe(HOST_B);
    const killedAt = Date.now();
    await hosts.stopWorkerB();
    await hosts.engine.kill();
    const events = await eventually(async () => {
      const e = await stack.api('GET', `/sandboxes/${id}/events`, { as: 'admin' });
      return e.body.status === 'stopped' && e.body;
    }, GRACE_MS + 60_000, 250);
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(GRACE_MS - 1000);
    expect(events.events.at(-1)).toMatchObject({ status: 'stopped', reason: 'host_lost' });
    expect(events.events.at(-1).detail).toMatch(/host-b silent/);
    expect((await stack.api('GET', `/sandboxes/${id}`, { as: 'admin' })).status).toBe(404);
    const list = await stack.api('GET', '/admin/hosts', { as: 'admin' });
    expect(list.body.hosts.find((h: { host: string }) => h.host === HOST_B)).toMatchObject({ healthy: false, lost: true });
    // New sandboxes go to the host that is up.
    const elsewhere = await create();
    expect(elsewhere.body.host).toBe('test-host');
    await stack.api('DELETE', `/sandboxes/${elsewhere.body.sandboxID}`);

    // The host comes back with its old container: the reconciler removes it.
    await hosts.engine.restart();
    expect(await exists(HOST_B, id)).toBe(true);
    await hosts.startWorkerB();
    await eventually(async () => !(await exists(HOST_B, id)), 60_000, 250);
    const back = await eventually(async () => {
      const l = await stack.api('GET', '/admin/hosts', { as: 'admin' });
      const b = l.body.hosts.find((h: { host: string }) => h.host === HOST_B);
      return b?.healthy && b;
    }, 30_000, 250);
    expect(back.lost).toBe(false);
  }, 180_000);
});
