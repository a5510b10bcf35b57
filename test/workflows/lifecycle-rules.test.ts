/**
 * Every lifecycle rule of DESIGN.md, on the real Temporal dev server and the real Docker
 * engine, with millisecond-scale durations. Assertions are about order and exactness
 * (never stopped early, right reason), never about speed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectUpdate,
  eventsQuery,
  infoQuery,
  killUpdate,
  pauseUpdate,
  refreshUpdate,
  resumeUpdate,
  setTimeoutUpdate,
  touchSignal,
  type SandboxResult,
} from '../../src/workflows/definitions.js';
import type { sandboxWorkflow } from '../../src/workflows/sandbox.js';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { workflowIdFor } from '../../src/ids.js';
import { testSandboxSpec } from '../helpers/spec.js';
import { sleep, startWorkflowTestEnv, type WorkflowTestEnv } from '../helpers/workflow-env.js';

let t: WorkflowTestEnv;
beforeAll(async () => {
  t = await startWorkflowTestEnv();
});
afterAll(async () => {
  await t?.stop();
});

const ms = (iso: string | null) => (iso ? Date.parse(iso) : NaN);

describe('idle timeout', () => {
  it('resets on every touch and stops no sooner than timeout after the last one', async () => {
    const { handle, info } = await t.startSandbox({ idleTimeoutMs: 3000 });
    let lastTouchSent = 0;
    for (let i = 0; i < 12; i++) {
      await sleep(400);
      lastTouchSent = Date.now(); // the workflow handles it at this time or later
      await handle.signal(touchSignal);
    }
    // Past the first deadline: still running thanks to the touches.
    expect(Date.now()).toBeGreaterThan(ms(info.endAt));
    expect((await handle.query(infoQuery)).status).toBe('running');
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('idle_timeout');
    expect(ms(result.info.stoppedAt)).toBeGreaterThanOrEqual(lastTouchSent + 3000);
    await expect(t.docker.getContainer(result.info.sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('setTimeout may shorten the deadline; refresh never shortens it', async () => {
    const { handle, info } = await t.startSandbox({ idleTimeoutMs: 60_000 });
    const refreshed = await handle.executeUpdate(refreshUpdate, { args: [{ owner: t.owner, durationMs: 1000 }] });
    expect(ms(refreshed.endAt)).toBeGreaterThanOrEqual(ms(info.endAt)); // not shortened
    const before = Date.now();
    const shortened = await handle.executeUpdate(setTimeoutUpdate, { args: [{ owner: t.owner, timeoutMs: 1000 }] });
    expect(shortened.timeout).toBe(1);
    expect(ms(shortened.endAt)).toBeGreaterThanOrEqual(before + 1000);
    expect(ms(shortened.endAt)).toBeLessThan(ms(refreshed.endAt)); // shortened
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('idle_timeout');
    expect(ms(result.info.stoppedAt)).toBeGreaterThanOrEqual(ms(shortened.endAt));
  });

  it('pauses instead of stopping with onTimeout=pause, then the paused retention stops it', async () => {
    const { handle, sandboxID } = await t.startSandbox({
      idleTimeoutMs: 800,
      pausedRetentionMs: 5000,
      lifecycle: { onTimeout: 'pause', autoResume: true },
    });
    const deadline = Date.now() + 20_000;
    while ((await handle.query(infoQuery)).status !== 'paused' && Date.now() < deadline) await sleep(100);
    const paused = await handle.query(infoQuery);
    expect(paused.status).toBe('paused');
    expect((await t.docker.getContainer(sandboxID).inspect()).State.Paused).toBe(true);
    const result = (await handle.result()) as SandboxResult;
    expect(result.events.map((e) => `${e.status}:${e.reason}`)).toEqual([
      'creating:created',
      'running:provisioned',
      'paused:idle_timeout',
      'stopped:paused_retention',
    ]);
  });
});

describe('maximum lifetime', () => {
  it('stops at the lifetime deadline whatever the refreshes', async () => {
    const { handle, info } = await t.startSandbox({ idleTimeoutMs: 60_000, maxLifetimeMs: 4000 });
    expect(ms(info.endAt) - ms(info.startedAt)).toBe(4000); // endAt is capped by the lifetime
    const refreshed = await handle.executeUpdate(refreshUpdate, { args: [{ owner: t.owner, durationMs: 100_000 }] });
    expect(ms(refreshed.endAt)).toBe(ms(info.endAt));
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('max_lifetime');
    expect(ms(result.info.stoppedAt) - ms(info.startedAt)).toBeGreaterThanOrEqual(4000);
  });

  it('does not count paused time', async () => {
    const { handle, info } = await t.startSandbox({ idleTimeoutMs: 60_000, maxLifetimeMs: 5000 });
    await sleep(300);
    const paused = await handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] });
    await sleep(5500); // longer than the whole lifetime, while paused
    expect((await handle.query(infoQuery)).status).toBe('paused');
    const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ owner: t.owner }] });
    expect(resumed.status).toBe('running');
    expect(resumed.runningTimeMs).toBe(paused.runningTimeMs); // the paused stretch did not count
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('max_lifetime');
    expect(result.info.runningTimeMs).toBeGreaterThanOrEqual(5000);
    // Wall time exceeds the lifetime by at least the paused stretch.
    expect(ms(result.info.stoppedAt) - ms(info.startedAt)).toBeGreaterThanOrEqual(5000 + 5500);
  });
});

describe('pause, resume, connect and kill', () => {
  it('pauses and resumes the real container; wrong-state calls are conflicts', async () => {
    const { handle, sandboxID } = await t.startSandbox();
    await handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] });
    expect((await t.docker.getContainer(sandboxID).inspect()).State.Paused).toBe(true);
    await expect(handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] })).rejects.toMatchObject({
      cause: { type: 'SandboxConflict' },
    });
    const connected = await handle.executeUpdate(connectUpdate, { args: [{ owner: t.owner }] });
    expect(connected.status).toBe('running');
    expect((await t.docker.getContainer(sandboxID).inspect()).State.Paused).toBe(false);
    await expect(handle.executeUpdate(resumeUpdate, { args: [{ owner: t.owner }] })).rejects.toMatchObject({
      cause: { type: 'SandboxConflict' },
    });
    await expect(handle.executeUpdate(killUpdate, { args: [{ owner: 'someone-else' }] })).rejects.toMatchObject({
      cause: { type: 'SandboxNotFound' },
    });
    await handle.executeUpdate(killUpdate, { args: [{ owner: t.owner }] });
    const events = ((await handle.result()) as SandboxResult).events.map((e) => `${e.status}:${e.reason}`);
    expect(events).toEqual(['creating:created', 'running:provisioned', 'paused:user', 'running:connect', 'stopped:user']);
  });

  it('connect never shortens the deadline', async () => {
    const { handle, info } = await t.startSandbox({ idleTimeoutMs: 60_000 });
    const connected = await handle.executeUpdate(connectUpdate, { args: [{ owner: t.owner, timeoutMs: 1000 }] });
    expect(ms(connected.endAt)).toBeGreaterThanOrEqual(ms(info.endAt));
    await handle.executeUpdate(killUpdate, { args: [{ owner: t.owner }] });
  });

  it('rejects bad durations in the validator without touching history', async () => {
    const { handle } = await t.startSandbox();
    const before = (await handle.fetchHistory()).events?.length ?? 0;
    await expect(handle.executeUpdate(setTimeoutUpdate, { args: [{ owner: t.owner, timeoutMs: -5 }] })).rejects.toMatchObject({
      cause: { type: 'SandboxInvalidArgument' },
    });
    const after = (await handle.fetchHistory()).events?.length ?? 0;
    expect(after).toBe(before);
    await handle.executeUpdate(killUpdate, { args: [{ owner: t.owner }] });
  });
});

describe('provisioning failure', () => {
  it('ends failed with the Docker error and leaves no container', async () => {
    const { info, sandboxID, handle } = await t.startSandbox({ image: 'berth/does-not-exist:1' });
    expect(info.status).toBe('failed');
    expect(info.stopReason).toBe('provision_failed');
    expect(info.stopDetail).toMatch(/does-not-exist/);
    await expect(t.docker.getContainer(sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.status).toBe('failed');
  });
});

describe('host lost', () => {
  it('stops with reason host_lost when the container exited before its pause deadline', async () => {
    const { handle, sandboxID } = await t.startSandbox({ idleTimeoutMs: 1500, lifecycle: { onTimeout: 'pause', autoResume: false } });
    await t.docker.getContainer(sandboxID).kill();
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.status).toBe('stopped');
    expect(result.info.stopReason).toBe('host_lost');
    await expect(t.docker.getContainer(sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('stops with reason host_lost when the container vanished', async () => {
    const { handle, sandboxID } = await t.startSandbox();
    await t.docker.getContainer(sandboxID).remove({ force: true });
    await expect(handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] })).rejects.toMatchObject({
      cause: { type: 'SandboxNotFound' },
    });
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('host_lost');
  });
});

describe('concurrency', () => {
  it('a kill delivered with the start stops the sandbox for good and leaves no container', async () => {
    const spec = testSandboxSpec(t.owner);
    const killed = await t.env.client.workflow.executeUpdateWithStart(killUpdate, {
      args: [{ owner: t.owner }],
      startWorkflowOperation: new WithStartWorkflowOperation<typeof sandboxWorkflow>('sandboxWorkflow', {
        workflowId: workflowIdFor(spec.sandboxID),
        taskQueue: t.taskQueue,
        args: [{ spec }],
        workflowIdConflictPolicy: 'FAIL',
      }),
    });
    expect(killed.status).toBe('stopped');
    const result = (await t.env.client.workflow.getHandle(workflowIdFor(spec.sandboxID)).result()) as SandboxResult;
    expect(result.info.status).toBe('stopped');
    expect(result.events.at(-1)).toMatchObject({ status: 'stopped', reason: 'user' });
    expect(result.events.filter((e) => e.status === 'stopped')).toHaveLength(1);
    await expect(t.docker.getContainer(spec.sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('runs concurrent lifecycle calls one at a time: pause and kill together end stopped, once', async () => {
    const { handle, sandboxID } = await t.startSandbox();
    const calls = await Promise.allSettled([
      handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] }),
      handle.executeUpdate(killUpdate, { args: [{ owner: t.owner }] }),
      handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] }),
    ]);
    expect(calls[1]).toMatchObject({ status: 'fulfilled', value: { status: 'stopped' } });
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.status).toBe('stopped');
    expect(result.events.filter((e) => e.status === 'stopped')).toHaveLength(1);
    expect(result.events.at(-1)).toMatchObject({ status: 'stopped', reason: 'user' });
    await expect(t.docker.getContainer(sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('continueAsNew', () => {
  it('continues as new before history grows large, carrying the full state', async () => {
    const { handle, info } = await t.startSandbox({ idleTimeoutMs: 60_000, historyEventLimit: 40, metadata: { job: 'can' } });
    await handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] });
    await handle.executeUpdate(resumeUpdate, { args: [{ owner: t.owner }] });
    for (let i = 0; i < 12; i++) await handle.executeUpdate(setTimeoutUpdate, { args: [{ owner: t.owner, timeoutMs: 60_000 + i }] });
    const firstRunId = handle.firstExecutionRunId;
    const current = t.env.client.workflow.getHandle<typeof sandboxWorkflow>(handle.workflowId);
    const deadline = Date.now() + 20_000;
    let latestRunId = firstRunId;
    while (Date.now() < deadline && latestRunId === firstRunId) {
      latestRunId = (await current.describe()).runId;
      if (latestRunId === firstRunId) await sleep(200);
    }
    expect(latestRunId).not.toBe(firstRunId);
    const firstHistory = await t.env.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
    expect(firstHistory.events?.length ?? 0).toBeLessThan(120);
    const carried = await current.query(infoQuery);
    expect(carried).toMatchObject({ status: 'running', metadata: { job: 'can' }, createdAt: info.createdAt, startedAt: info.startedAt });
    expect(carried.timeout).toBe(60);
    const events = await current.query(eventsQuery);
    expect(events.map((e) => e.reason)).toEqual(['created', 'provisioned', 'user', 'user']);
    await current.executeUpdate(killUpdate, { args: [{ owner: t.owner }] });
  });
});

describe('continueAsNew on touches alone', () => {
  it('a sandbox that only receives touches also continues as new', async () => {
    const { handle } = await t.startSandbox({ idleTimeoutMs: 60_000, historyEventLimit: 40 });
    const firstRunId = handle.firstExecutionRunId;
    const current = t.env.client.workflow.getHandle<typeof sandboxWorkflow>(handle.workflowId);
    let latestRunId = firstRunId;
    for (let i = 0; i < 60 && latestRunId === firstRunId; i++) {
      await current.signal(touchSignal);
      await sleep(50);
      latestRunId = (await current.describe()).runId;
    }
    expect(latestRunId).not.toBe(firstRunId);
    expect((await current.query(infoQuery)).status).toBe('running');
    await current.executeUpdate(killUpdate, { args: [{ owner: t.owner }] });
  });
});

describe('durability', () => {
  it('fires deadlines on time after the worker restarts', async () => {
    const { handle, info } = await t.startSandbox({ idleTimeoutMs: 3000 });
    await t.restartWorker();
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('idle_timeout');
    expect(ms(result.info.stoppedAt)).toBeGreaterThanOrEqual(ms(info.endAt));
  });
});
