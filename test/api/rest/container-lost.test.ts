/**
 * Finding 4: a sandbox whose container is removed by hand or exits (what an engine restart
 * does to restart-policy-`no` containers) ends with `container_lost`, found by a data-plane
 * call or by the reconciler's sweep; orphan containers are removed, live ones never.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSandboxID, workflowIdFor } from '../../../src/ids.js';
import { sandboxChain } from '../../../src/network/rules.js';
import { LOCAL_IMAGES } from '../../../src/templates.js';
import { checkContainerSignal } from '../../../src/workflows/definitions.js';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

const create = async (stack: TestStack) => {
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600 } });
  expect(res.status).toBe(201);
  return res.body as { sandboxID: string; endAt: string };
};

/** True while the sandbox's own iptables chain exists on this host. */
const chainExists = (id: string) =>
  promisify(execFile)('iptables', ['-S', sandboxChain(id)]).then(
    () => true,
    () => false,
  );

/** The last event once the sandbox stopped (GET /events is a query: it does not touch the sandbox). */
const stopEvent = (stack: TestStack, id: string) =>
  eventually(async () => {
    const res = await stack.api('GET', `/sandboxes/${id}/events`);
    const last = res.body.events?.at(-1);
    return last?.status === 'stopped' && last;
  }, 60_000, 250);

describe('without the reconciler: a data-plane call finds the container gone', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('answers 404 and the sandbox stops with container_lost instead of running to its lifetime', async () => {
    const { sandboxID: id } = await create(stack);
    await stack.docker.getContainer(id).remove({ force: true });
    const res = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'true' } });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'not_found' });
    const stop = await stopEvent(stack, id);
    expect(stop).toMatchObject({ status: 'stopped', reason: 'container_lost' });
    expect(stop.detail).toMatch(/no longer exists.*data-plane/);
    expect((await stack.api('GET', `/sandboxes/${id}`)).status).toBe(404);
  });

  it('a command on an exited container answers 404 and ends the sandbox (container_lost)', async () => {
    const { sandboxID: id } = await create(stack);
    await stack.docker.getContainer(id).kill();
    const res = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'true' } });
    expect(res.status).toBe(404);
    const stop = await stopEvent(stack, id);
    expect(stop).toMatchObject({ reason: 'container_lost' });
    expect(stop.detail).toMatch(/exited/);
    // The exited container is cleaned up by the stop.
    await expect(stack.docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('the port proxy and metrics find the container gone too (404, container_lost)', async () => {
    for (const path of ['/proxy/8080/', '/metrics']) {
      const { sandboxID: id } = await create(stack);
      // The endpoint answer puts the container's address in the proxy's cache: a cached
      // address of a removed container must not turn into "nothing listens" (502).
      expect((await stack.api('GET', `/sandboxes/${id}/endpoints/8080`)).status).toBe(200);
      await stack.docker.getContainer(id).remove({ force: true });
      const res = await stack.api('GET', `/sandboxes/${id}${path}`);
      expect(res.status, path).toBe(404);
      expect(await stopEvent(stack, id), path).toMatchObject({ reason: 'container_lost' });
    }
  });

  it('a spurious report never stops a healthy sandbox', async () => {
    const { sandboxID: id } = await create(stack);
    const handle = stack.client.workflow.getHandle(`sandbox-${id}`);
    await handle.signal(checkContainerSignal, { source: 'reconciler' });
    await handle.signal(checkContainerSignal, { source: 'dataplane' });
    // The checks ran (an inspect activity each, under the lock) and found the container running.
    await eventually(async () => {
      const history = await handle.fetchHistory();
      const checks = (history.events ?? []).filter((e) => e.activityTaskCompletedEventAttributes && e.activityTaskCompletedEventAttributes.scheduledEventId);
      return checks.length >= 2; // provision + at least one inspect
    });
    const res = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'echo alive' } });
    expect(res.body.stdout).toBe('alive\n');
    expect((await stack.api('GET', `/sandboxes/${id}`)).body.status).toBe('running');
  });
});

describe('with the reconciler schedule', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ reconcile: true, env: { BERTH_RECONCILE_INTERVAL_MS: '1000', BERTH_ORPHAN_GRACE_MS: '2000' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('ends a sandbox whose container was removed by hand, with no call to it', async () => {
    const { sandboxID: id } = await create(stack);
    await stack.docker.getContainer(id).remove({ force: true });
    const stop = await stopEvent(stack, id);
    expect(stop).toMatchObject({ status: 'stopped', reason: 'container_lost' });
    expect(stop.detail).toMatch(/reconciler/);
    const list = await stack.api('GET', '/sandboxes?status=stopped');
    expect(list.body.sandboxes.find((s: { sandboxID: string }) => s.sandboxID === id)).toMatchObject({ stopReason: 'container_lost' });
  });

  it('ends running and paused sandboxes whose containers exited (as after an engine restart)', async () => {
    const running = await create(stack);
    const paused = await create(stack);
    expect((await stack.api('POST', `/sandboxes/${paused.sandboxID}/pause`)).status).toBe(200);
    // An engine restart leaves restart-policy-no containers exited; the stand-in is to kill them.
    await stack.docker.getContainer(running.sandboxID).kill();
    await stack.docker.getContainer(paused.sandboxID).unpause();
    await stack.docker.getContainer(paused.sandboxID).kill();
    for (const id of [running.sandboxID, paused.sandboxID]) {
      const stop = await stopEvent(stack, id);
      expect(stop).toMatchObject({ reason: 'container_lost' });
      expect(stop.detail).toMatch(/exited/);
    }
  });

  it('removes an orphan\'s packet-filter rules with its container', async () => {
    const { sandboxID: id } = await create(stack);
    expect(await chainExists(id)).toBe(true);
    // A workflow ended from outside (terminated in the Temporal UI) never destroys its container.
    await stack.client.workflow.getHandle(workflowIdFor(id)).terminate('test: leave an orphan container');
    await eventually(async () => {
      try {
        await stack.docker.getContainer(id).inspect();
        return false;
      } catch (err) {
        return (err as { statusCode?: number }).statusCode === 404;
      }
    }, 60_000, 250);
    // Its address may go to the next sandbox: its rules must be gone with it. The sweep removes
    // the container first and its rules right after (never rules before the container), so
    // the rules may outlive the container by one call: wait for the sweep to report it.
    await eventually(async () => !(await chainExists(id)), 10_000, 100);
    expect(await chainExists(id)).toBe(false);
  });

  it('removes an orphan container after the grace period, never a live sandbox or another queue\'s container', async () => {
    const live = await create(stack);
    const orphanID = newSandboxID();
    const otherQueueID = newSandboxID();
    const labels = (sandboxID: string, queue: string) => ({
      'berth.managed': 'true',
      'berth.sandbox': sandboxID,
      'berth.owner': stack.owners.alice ?? '',
      'berth.host': stack.config.hostName,
      'berth.queue': queue,
    });
    const cmd = ['/bin/sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];
    const orphan = await stack.docker.createContainer({ name: orphanID, Image: LOCAL_IMAGES.busybox, Cmd: cmd, Labels: labels(orphanID, stack.config.temporal.taskQueue) });
    await orphan.start();
    const other = await stack.docker.createContainer({ name: otherQueueID, Image: LOCAL_IMAGES.busybox, Cmd: cmd, Labels: labels(otherQueueID, 'some-other-queue') });
    await other.start();
    try {
      await eventually(async () => {
        try {
          await orphan.inspect();
          return false;
        } catch (err) {
          return (err as { statusCode?: number }).statusCode === 404;
        }
      }, 60_000, 250);
      // The sweep that removed it counted it in its result (the reconcile workflow's result in the Temporal UI).
      await eventually(async () => {
        const query = `WorkflowType = 'reconcileWorkflow' AND TaskQueue = '${stack.config.temporal.taskQueue}' AND ExecutionStatus = 'Completed'`;
        for await (const run of stack.client.workflow.list({ query })) {
          const result = (await stack.client.workflow.getHandle(run.workflowId, run.runId).result()) as { orphansRemoved: string[] };
          if (result.orphansRemoved.includes(orphanID)) return true;
        }
        return false;
      }, 30_000, 500);
      expect((await other.inspect()).State.Running).toBe(true);
      expect((await stack.docker.getContainer(live.sandboxID).inspect()).State.Running).toBe(true);
      expect((await stack.api('GET', `/sandboxes/${live.sandboxID}`)).body.status).toBe('running');
    } finally {
      await other.remove({ force: true });
    }
  });
});

describe('disk limit measured by the reconciler (the engine here has no storage-opt size)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startStack({ reconcile: true, env: { BERTH_RECONCILE_INTERVAL_MS: '1000', BERTH_DISK_LIMIT_MB: '5' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('stops a sandbox whose writable layer grows above the limit (disk_quota) and leaves one below it running', async () => {
    const big = await create(stack);
    const small = await create(stack);
    expect((await stack.api('POST', `/sandboxes/${small.sandboxID}/commands`, { body: { cmd: 'dd if=/dev/zero of=/tmp/f bs=1024 count=512' } })).body.exitCode).toBe(0);
    expect((await stack.api('POST', `/sandboxes/${big.sandboxID}/commands`, { body: { cmd: 'dd if=/dev/zero of=/tmp/f bs=1048576 count=8' } })).body.exitCode).toBe(0);
    const stop = await stopEvent(stack, big.sandboxID);
    expect(stop).toMatchObject({ status: 'stopped', reason: 'disk_quota' });
    expect(stop.detail).toMatch(/writable layer uses \d+ MB, above the limit of 5 MB/);
    expect((await stack.api('GET', `/sandboxes/${small.sandboxID}`)).body.status).toBe('running');
  });
});
