/**
 * A caller's pause and resume run as local activities (patch 'local-pause-resume'): Docker is
 * called inside the workflow task that accepted the update, which completes in that same task
 * (one workflow task per call instead of two, and no activity dispatch). Real Temporal dev
 * server, real Docker engine.
 */
import proto from '@temporalio/proto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pauseUpdate, resumeUpdate, type SandboxResult } from '../../src/workflows/definitions.js';
import { startWorkflowTestEnv, type WorkflowTestEnv } from '../helpers/workflow-env.js';

const EventType = proto.temporal.api.enums.v1.EventType;

let t: WorkflowTestEnv;
beforeAll(async () => {
  t = await startWorkflowTestEnv();
});
afterAll(async () => {
  await t?.stop();
});

it('pauses and resumes the container, each update completing in the workflow task that accepted it, with no activity task', async () => {
  const { handle, sandboxID } = await t.startSandbox({ idleTimeoutMs: 600_000 });
  const paused = await handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] });
  expect(paused.status).toBe('paused');
  expect((await t.docker.getContainer(sandboxID).inspect()).State.Paused).toBe(true);
  const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ owner: t.owner, reason: 'user' }] });
  expect(resumed.status).toBe('running');
  const state = (await t.docker.getContainer(sandboxID).inspect()).State;
  expect(state.Paused).toBe(false);
  expect(state.Running).toBe(true);

  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.flatMap((e) => (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ? [e.activityTaskScheduledEventAttributes?.activityType?.name] : []));
  expect(scheduled).toContain('provisionSandbox');
  expect(scheduled).not.toContain('pauseSandbox');
  expect(scheduled).not.toContain('resumeSandbox');
  for (const name of ['pause', 'resume']) {
    const accepted = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name);
    expect(accepted, `${name} accepted`).toBeGreaterThan(0);
    const completed = events.findIndex((e, i) => i > accepted && e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED);
    expect(completed, `${name} completed`).toBeGreaterThan(accepted);
    const between = events.slice(accepted, completed).map((e) => e.eventType);
    expect(between, `${name}: no second workflow task between accept and complete`).not.toContain(EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    expect(between, `${name}: Docker ran as a local activity (a marker)`).toContain(EventType.EVENT_TYPE_MARKER_RECORDED);
  }
});

it('a container removed from outside still ends the sandbox as host_lost when a pause finds it gone', async () => {
  const { handle, sandboxID } = await t.startSandbox({ idleTimeoutMs: 600_000 });
  await t.docker.getContainer(sandboxID).remove({ force: true });
  await expect(handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] })).rejects.toThrow();
  const result = (await handle.result()) as SandboxResult;
  expect(result.info.status).toBe('stopped');
  expect(result.events.at(-1)?.reason).toBe('host_lost');
});
