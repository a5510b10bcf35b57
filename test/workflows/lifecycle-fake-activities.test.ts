/**
 * The lifecycle rules where Docker is not the point, on the real Temporal dev server with fake
 * activities (test/helpers/fake-workflow-env.ts): which Docker calls happen in which order,
 * what waits for what, and which requests are refused before anything happens. The real-engine
 * suites (lifecycle-rules, absolute-expiry, the API tests) cover the same rules with Docker.
 */
import { WithStartWorkflowOperation, WorkflowUpdateStage } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../src/ids.js';
import {
  bulkActionSignal,
  connectUpdate,
  infoQuery,
  killUpdate,
  pauseUpdate,
  refreshUpdate,
  resumeUpdate,
  setTimeoutUpdate,
  touchSignal,
  waitReadyUpdate,
  type SandboxResult,
} from '../../src/workflows/definitions.js';
import type { sandboxWorkflow } from '../../src/workflows/sandbox.js';
import { startFakeWorkflowEnv, type FakeWorkflowEnv } from '../helpers/fake-workflow-env.js';
import { testSandboxSpec } from '../helpers/spec.js';

let t: FakeWorkflowEnv;
beforeAll(async () => {
  t = await startFakeWorkflowEnv();
});
afterAll(async () => {
  await t?.stop();
});

const ms = (iso: string | null) => (iso ? Date.parse(iso) : NaN);
const trail = (r: SandboxResult) => r.events.map((e) => `${e.status}:${e.reason}`);

async function running(spec: Parameters<FakeWorkflowEnv['start']>[0] = {}) {
  const started = await t.start(spec);
  const info = await started.handle.executeUpdate(waitReadyUpdate, { args: [{ owner: t.owner }] });
  expect(info.status).toBe('running');
  return { ...started, info };
}

describe('deadlines (fake activities)', () => {
  it('an idle timeout removes the container once, no sooner than timeout after the last touch', async () => {
    const { handle, sandboxID } = await running({ idleTimeoutMs: 1500 });
    const lastTouch = Date.now(); // the workflow handles it at this time or later
    await handle.signal(touchSignal);
    const result = (await handle.result()) as SandboxResult;
    expect(trail(result)).toEqual(['creating:created', 'running:provisioned', 'stopped:idle_timeout']);
    expect(ms(result.info.stoppedAt)).toBeGreaterThanOrEqual(lastTouch + 1500);
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'destroy']);
  });

  it('onTimeout pause pauses at the deadline, then the paused retention removes it', async () => {
    const { handle, sandboxID } = await running({ idleTimeoutMs: 500, pausedRetentionMs: 1500, lifecycle: { onTimeout: 'pause', autoResume: true } });
    const result = (await handle.result()) as SandboxResult;
    expect(trail(result)).toEqual(['creating:created', 'running:provisioned', 'paused:idle_timeout', 'stopped:paused_retention']);
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'pause', 'destroy']);
  });

  it('a shortened timeout fires at the new deadline; a refresh never brings it earlier', async () => {
    const { handle, sandboxID } = await running({ idleTimeoutMs: 600_000 });
    await handle.executeUpdate(refreshUpdate, { args: [{ owner: t.owner, durationMs: 100 }] });
    expect((await handle.query(infoQuery)).status).toBe('running');
    const shortened = await handle.executeUpdate(setTimeoutUpdate, { args: [{ owner: t.owner, timeoutMs: 800 }] });
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('idle_timeout');
    expect(ms(result.info.stoppedAt)).toBeGreaterThanOrEqual(ms(shortened.endAt));
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'destroy']);
  });
});

describe('ordering and conflicts (fake activities)', () => {
  it('a kill that arrives during a pause waits for it, then removes the container', async () => {
    const { handle, sandboxID } = await running();
    const pauseHeld = t.hold(sandboxID, 'pause');
    const pausing = handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] });
    await pauseHeld.started;
    // The kill is accepted (the sandbox is running) but waits for the pause's lock.
    const killing = await handle.startUpdate(killUpdate, { args: [{ owner: t.owner }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    expect((await handle.query(infoQuery)).status).toBe('running');
    pauseHeld.release();
    expect((await pausing).status).toBe('paused');
    expect((await killing.result()).status).toBe('stopped');
    const result = (await handle.result()) as SandboxResult;
    expect(trail(result)).toEqual(['creating:created', 'running:provisioned', 'paused:user', 'stopped:user']);
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'pause', 'destroy']);
  });

  it('refuses wrong-state, wrong-owner and bad-input calls before any Docker call', async () => {
    const { handle, sandboxID } = await running();
    const refused = (update: Promise<unknown>, type: string) => expect(update).rejects.toMatchObject({ cause: { type } });
    await refused(handle.executeUpdate(resumeUpdate, { args: [{ owner: t.owner }] }), 'SandboxConflict');
    await refused(handle.executeUpdate(killUpdate, { args: [{ owner: 'someone-else' }] }), 'SandboxNotFound');
    await refused(handle.executeUpdate(refreshUpdate, { args: [{ owner: t.owner, durationMs: 0 }] }), 'SandboxInvalidArgument');
    await refused(handle.executeUpdate(connectUpdate, { args: [{ owner: t.owner, timeoutMs: -1 }] }), 'SandboxInvalidArgument');
    await handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] });
    await refused(handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] }), 'SandboxConflict');
    await refused(handle.executeUpdate(refreshUpdate, { args: [{ owner: t.owner, durationMs: 1000 }] }), 'SandboxConflict');
    // An automatic resume of a running sandbox is fine (parallel data-plane calls race to resume).
    await handle.executeUpdate(resumeUpdate, { args: [{ owner: t.owner, reason: 'auto_resume' }] });
    expect((await handle.executeUpdate(resumeUpdate, { args: [{ owner: t.owner, reason: 'auto_resume' }] })).status).toBe('running');
    await handle.executeUpdate(killUpdate, { args: [{ owner: t.owner }] });
    // The run has ended: a second kill finds no workflow (the API answers 404).
    await expect(handle.executeUpdate(killUpdate, { args: [{ owner: t.owner }] })).rejects.toMatchObject({ name: 'WorkflowNotFoundError' });
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'pause', 'resume', 'destroy']);
  });

  it('a kill delivered with the start runs before provisioning, which then never happens', async () => {
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
    expect(t.engine(spec.sandboxID).calls).toEqual(['destroy']);
  });

  it('a pause that finds the container gone ends the sandbox host_lost and answers not found', async () => {
    const { handle, sandboxID } = await running();
    t.engine(sandboxID).gone.add('pause');
    await expect(handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] })).rejects.toMatchObject({ cause: { type: 'SandboxNotFound' } });
    const result = (await handle.result()) as SandboxResult;
    expect(trail(result)).toEqual(['creating:created', 'running:provisioned', 'stopped:host_lost']);
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'pause', 'destroy']);
  });

  it('bulk actions act only in their states: pause of a paused sandbox does nothing, kill stops it', async () => {
    const { handle, sandboxID } = await running();
    await handle.signal(bulkActionSignal, { action: 'pause', owner: t.owner });
    await handle.signal(bulkActionSignal, { action: 'pause', owner: t.owner });
    await handle.signal(bulkActionSignal, { action: 'kill', owner: 'someone-else' });
    await handle.signal(bulkActionSignal, { action: 'kill', owner: t.owner });
    const result = (await handle.result()) as SandboxResult;
    expect(result.events.map((e) => `${e.status}:${e.reason}:${e.detail ?? ''}`)).toEqual([
      'creating:created:',
      'running:provisioned:',
      'paused:user:',
      'stopped:user:bulk kill',
    ]);
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'pause', 'destroy']);
  });
});
