/**
 * A placed sandbox's pause and resume run as activity tasks on its host's queue, scheduled after
 * the update's acceptance is in history (patch 'durable-pause-resume'; runs from between
 * 'local-pause-resume-on-host' and it ran them as local activities: see the replay fixtures).
 * Two engines, two workers on one shared queue (test/helpers/two-hosts.ts). Each engine holds a
 * decoy container with the name of the other engine's sandbox: a pause run against the wrong
 * engine would freeze the decoy. Which worker runs a workflow is steered by stopping the other
 * worker while the sandbox gets a call (its sticky queue then keeps it there; a worker that shuts
 * down gives up its sticky queue at once).
 */
import proto from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createActivities } from '../../../src/activities/index.js';
import { workflowIdFor } from '../../../src/ids.js';
import { createLogger } from '../../../src/logger.js';
import { hostTaskQueue } from '../../../src/workflows/host-queue.js';
import { HOST_B, startTwoHosts, type TwoHosts } from '../../helpers/two-hosts.js';

const EventType = proto.temporal.api.enums.v1.EventType;
const TEST_HOST = 'test-host';
let hosts: TwoHosts;
const decoys: Array<{ host: string; id: string }> = [];

beforeAll(async () => {
  // A long sticky timeout: a workflow stays on the worker that ran it last, also on a busy machine.
  hosts = await startTwoHosts({ owners: ['alice', 'admin'], adminOwners: ['admin'], env: { BERTH_STICKY_TIMEOUT_MS: '60000' } });
}, 240_000);
afterAll(async () => {
  for (const d of decoys) await engineOf(d.host).getContainer(d.id).remove({ force: true }).catch(() => undefined);
  await hosts?.stop();
}, 120_000);

const engineOf = (host: string) => (host === HOST_B ? hosts.engine.docker : hosts.stack.docker);
const api = (method: string, path: string, body?: unknown) => hosts.stack.api(method, path, { as: 'admin', ...(body ? { body } : {}) });

async function createOn(host: string): Promise<string> {
  const res = await api('POST', '/sandboxes', { templateID: 'tiny', timeout: 600, host });
  expect(res.status).toBe(201);
  expect(res.body.host).toBe(host);
  return res.body.sandboxID as string;
}

/** A container named like the sandbox on the engine it does not run on (no berth labels). */
async function plantDecoy(host: string, id: string): Promise<void> {
  const docker = engineOf(host);
  const c = await docker.createContainer({ name: id, Image: 'berth/busybox:1', Cmd: ['sleep', '3600'] });
  decoys.push({ host, id });
  await c.start();
}

const paused = async (host: string, id: string) => (await engineOf(host).getContainer(id).inspect()).State.Paused;

/** Moves the sandbox's workflow to `host`'s worker: the other worker is down while it gets a call. */
async function runWorkflowOn(host: string, id: string): Promise<void> {
  const other = host === HOST_B ? { stop: () => hosts.stack.stopWorker(), start: () => hosts.stack.startWorker() } : { stop: () => hosts.stopWorkerB(), start: () => hosts.startWorkerB() };
  await other.stop();
  try {
    expect((await api('POST', `/sandboxes/${id}/timeout`, { timeout: 600 })).status).toBe(200);
  } finally {
    await other.start();
  }
}

/** Pauses and resumes through the API; the sandbox's own container freezes and thaws, the decoy never does. */
async function pauseAndResume(host: string, decoyHost: string, id: string): Promise<void> {
  const p = await api('POST', `/sandboxes/${id}/pause`);
  expect(p.status, JSON.stringify(p.body)).toBe(200);
  expect(p.body.status).toBe('paused');
  expect(await paused(host, id)).toBe(true);
  expect(await paused(decoyHost, id)).toBe(false);
  const r = await api('POST', `/sandboxes/${id}/resume`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body.status).toBe('running');
  expect(await paused(host, id)).toBe(false);
  expect(await paused(decoyHost, id)).toBe(false);
}

/** How the sandbox's last `calls` pauses / resumes ran: activity tasks (names), workflow tasks started after the first was accepted, local activity markers. */
async function lastPauseResume(id: string, calls = 2): Promise<{ activityTasks: string[]; workflowTasksStarted: number; markers: number }> {
  const events = (await hosts.stack.client.workflow.getHandle(workflowIdFor(id)).fetchHistory()).events ?? [];
  const accepted = events.map((e, i) => ({ e, i })).filter(({ e }) => ['pause', 'resume'].includes(e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? ''));
  const from = accepted.at(-calls)?.i ?? 0;
  const tail = events.slice(from);
  return {
    activityTasks: tail.flatMap((e) => (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ? [e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''] : [])),
    workflowTasksStarted: tail.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED).length,
    markers: tail.filter((e) => e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && e.markerRecordedEventAttributes?.markerName !== 'core_patch').length,
  };
}

it('pause / resume go to the host\'s queue as activity tasks from a worker of either host, never touching the other engine', async () => {
  const a = await createOn(TEST_HOST);
  const b = await createOn(HOST_B);
  await plantDecoy(HOST_B, a);
  await plantDecoy(TEST_HOST, b);

  // Wherever the workflow task runs, an activity task on the host's queue does the Docker call
  // (after the update's acceptance is in history: 'durable-pause-resume'), and no local call is made.
  for (const onWorker of ['other', 'own'] as const) {
    for (const [id, host, other] of [[a, TEST_HOST, HOST_B], [b, HOST_B, TEST_HOST]] as const) {
      await runWorkflowOn(onWorker === 'own' ? host : other, id);
      await pauseAndResume(host, other, id);
      const ran = await lastPauseResume(id);
      expect(ran.activityTasks, `${id} on the ${onWorker} host's worker`).toEqual(['pauseSandbox', 'resumeSandbox']);
      expect(ran.markers, 'no local calls').toBe(0);
    }
  }

  for (const id of [a, b]) expect((await api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
  // The decoys ran on, untouched (a kill on the wrong engine would have removed them).
  for (const d of decoys) expect((await engineOf(d.host).getContainer(d.id).inspect()).State.Running).toBe(true);
}, 300_000);

it('an engine that is down: a pause on its host\'s worker and one on a bare worker of the host answer the same 503', async () => {
  const b = await createOn(HOST_B);
  await runWorkflowOn(HOST_B, b);
  await hosts.engine.kill();
  let bare: { worker: Worker; running: Promise<void>; connection: NativeConnection } | undefined;
  try {
    // On host-b's own worker.
    const local = await api('POST', `/sandboxes/${b}/pause`);
    expect(local.status, JSON.stringify(local.body)).toBe(503);
    expect(local.body.code).toBe('unavailable');
    expect(local.body.message).toMatch(/ECONNREFUSED|docker|engine/i);
    expect((await lastPauseResume(b, 1)).activityTasks, 'it ran as an activity task').toEqual(['pauseSandbox']);

    // As an activity task: host-b's full worker stops (its workflow tasks move to test-host's
    // worker, which refuses the local call) and a bare worker of host-b serves only its queue.
    await hosts.stopWorkerB();
    const connection = await NativeConnection.connect({ address: hosts.stack.config.temporal.address });
    const worker = await Worker.create({
      connection,
      taskQueue: hostTaskQueue(hosts.stack.config.temporal.taskQueue, HOST_B),
      activities: createActivities({ docker: hosts.engine.docker, logger: createLogger('silent', 'bare-host-b'), config: hosts.configB, taskQueue: hosts.stack.config.temporal.taskQueue }),
    });
    bare = { worker, connection, running: worker.run() };
    const task = await api('POST', `/sandboxes/${b}/pause`);
    expect((await lastPauseResume(b, 1)).activityTasks, 'it ran as an activity task').toEqual(['pauseSandbox']);
    expect(task.status).toBe(local.status);
    expect(task.body).toEqual(local.body);
    // The sandbox stays as it was: running.
    expect((await api('GET', `/sandboxes/${b}`)).body.status).toBe('running');
  } finally {
    if (bare) {
      bare.worker.shutdown();
      await bare.running.catch(() => undefined);
      await bare.connection.close();
    }
    await hosts.engine.restart();
  }
}, 300_000);
