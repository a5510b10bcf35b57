/**
 * A caller's pause and resume are durable before Docker runs (patch 'durable-pause-resume'):
 * the update's acceptance is in history before the pause / resume activity task is scheduled,
 * so a kill of the whole control plane cannot leave a container frozen behind a sandbox that
 * says running. (Runs from before the patch ran them as local activities, inside the workflow
 * task that accepted the update: test/workflows/replay.test.ts replays those.) Real Temporal
 * dev server, real Docker engine.
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

it('pauses and resumes the container, each Docker call an activity task scheduled after its update was accepted (never a local activity)', async () => {
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
  for (const [name, activity] of [['pause', 'pauseSandbox'], ['resume', 'resumeSandbox']] as const) {
    const accepted = events.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === name);
    expect(accepted, `${name} accepted`).toBeGreaterThan(0);
    const completed = events.findIndex((e, i) => i > accepted && e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED);
    expect(completed, `${name} completed`).toBeGreaterThan(accepted);
    const between = events.slice(accepted, completed);
    const scheduled = between.flatMap((e) => (e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED ? [e.activityTaskScheduledEventAttributes?.activityType?.name] : []));
    expect(scheduled, `${name}: Docker ran as an activity task after the acceptance`).toEqual([activity]);
    const local = between.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    expect(local, `${name}: no local activity`).toHaveLength(0);
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
