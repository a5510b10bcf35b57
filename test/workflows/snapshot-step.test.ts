/**
 * The snapshot step of the sandbox workflow, with fake activities on the real Temporal dev
 * server: it holds the lifecycle lock (a kill or pause waits for it), records a `snapshot` event
 * without changing the state, refuses wrong states, owners and IDs before any Docker call, and
 * a container found gone ends the sandbox like a pause would.
 */
import { WorkflowUpdateStage } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSnapshotID } from '../../src/ids.js';
import { infoQuery, killUpdate, pauseUpdate, snapshotUpdate, waitReadyUpdate, type SandboxResult } from '../../src/workflows/definitions.js';
import { startFakeWorkflowEnv, type FakeWorkflowEnv } from '../helpers/fake-workflow-env.js';

let t: FakeWorkflowEnv;
beforeAll(async () => {
  t = await startFakeWorkflowEnv();
});
afterAll(async () => {
  await t?.stop();
});

const trail = (r: SandboxResult) => r.events.map((e) => `${e.status}:${e.reason}${e.detail ? `:${e.detail}` : ''}`);

async function running() {
  const started = await t.start();
  await started.handle.executeUpdate(waitReadyUpdate, { args: [{ owner: t.owner }] });
  return started;
}

describe('snapshot step (fake activities)', () => {
  it('holds the lifecycle lock: a kill that arrives meanwhile waits, and the event records the snapshot ID', async () => {
    const { handle, sandboxID } = await running();
    const held = t.hold(sandboxID, 'snapshot');
    const snapshotID = newSnapshotID();
    const taking = handle.executeUpdate(snapshotUpdate, { args: [{ owner: t.owner, snapshotID }] });
    await held.started;
    const killing = await handle.startUpdate(killUpdate, { args: [{ owner: t.owner }], waitForStage: WorkflowUpdateStage.ACCEPTED });
    expect((await handle.query(infoQuery)).status).toBe('running');
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'snapshot']);
    held.release();
    expect(await taking).toMatchObject({ snapshotID, sandboxID, kind: 'snapshot', sizeBytes: 1234 });
    expect((await killing.result()).status).toBe('stopped');
    const result = (await handle.result()) as SandboxResult;
    expect(trail(result)).toEqual(['creating:created', 'running:provisioned', `running:snapshot:${snapshotID}`, 'stopped:user']);
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'snapshot', 'destroy']);
  });

  it('a paused sandbox is snapshotted and stays paused', async () => {
    const { handle, sandboxID } = await running();
    await handle.executeUpdate(pauseUpdate, { args: [{ owner: t.owner }] });
    const snapshotID = newSnapshotID();
    await handle.executeUpdate(snapshotUpdate, { args: [{ owner: t.owner, snapshotID }] });
    expect((await handle.query(infoQuery)).status).toBe('paused');
    await handle.executeUpdate(killUpdate, { args: [{ owner: t.owner }] });
    const result = (await handle.result()) as SandboxResult;
    expect(trail(result)).toEqual(['creating:created', 'running:provisioned', 'paused:user', `paused:snapshot:${snapshotID}`, 'stopped:user']);
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'pause', 'snapshot', 'destroy']);
  });

  it('refuses another owner, a malformed ID and a creating sandbox before any Docker call', async () => {
    const { handle, sandboxID } = await running();
    const refused = (update: Promise<unknown>, type: string) => expect(update).rejects.toMatchObject({ cause: { type } });
    await refused(handle.executeUpdate(snapshotUpdate, { args: [{ owner: 'someone-else', snapshotID: newSnapshotID() }] }), 'SandboxNotFound');
    await refused(handle.executeUpdate(snapshotUpdate, { args: [{ owner: t.owner, snapshotID: 'snap_../../etc' }] }), 'SandboxInvalidArgument');
    expect(t.engine(sandboxID).calls).toEqual(['provision']);

    const creating = await t.start();
    const provisionHeld = t.hold(creating.sandboxID, 'provision');
    await provisionHeld.started;
    await refused(creating.handle.executeUpdate(snapshotUpdate, { args: [{ owner: t.owner, snapshotID: newSnapshotID() }] }), 'SandboxConflict');
    provisionHeld.release();
    await creating.handle.executeUpdate(killUpdate, { args: [{ owner: t.owner }] });
    expect(t.engine(creating.sandboxID).calls).toEqual(['provision', 'destroy']);
  });

  it('a snapshot that finds the container gone ends the sandbox host_lost and answers not found', async () => {
    const { handle, sandboxID } = await running();
    t.engine(sandboxID).gone.add('snapshot');
    await expect(handle.executeUpdate(snapshotUpdate, { args: [{ owner: t.owner, snapshotID: newSnapshotID() }] })).rejects.toMatchObject({ cause: { type: 'SandboxNotFound' } });
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('host_lost');
    expect(t.engine(sandboxID).calls).toEqual(['provision', 'snapshot', 'destroy']);
  });
});
