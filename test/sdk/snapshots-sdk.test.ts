/** The TypeScript SDK's snapshot calls against a live stack (real Temporal, real Docker). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, Sandbox, type ConnectionOptions } from '../../sdk/typescript/src/index.js';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let alice: ConnectionOptions;
let bob: ConnectionOptions;

beforeAll(async () => {
  stack = await startStack();
  alice = { apiUrl: stack.baseUrl, apiKey: stack.keys.alice };
  bob = { apiUrl: stack.baseUrl, apiKey: stack.keys.bob };
});
afterAll(async () => {
  await stack?.stop();
});

describe('snapshots (TypeScript SDK)', () => {
  it('createSnapshot, listSnapshots, Sandbox.restore, create from a snapshot, deleteSnapshot; another owner gets NotFound', async () => {
    const sbx = await Sandbox.create({ ...alice, template: 'tiny' });
    await sbx.commands.run('echo ts-sdk > /tmp/s.txt');
    const snap = await sbx.createSnapshot();
    expect(snap).toMatchObject({ sandboxID: sbx.sandboxID, kind: 'snapshot', templateID: 'tiny' });
    expect((await sbx.listSnapshots()).map((s) => s.snapshotID)).toEqual([snap.snapshotID]);
    await sbx.kill();

    const restored = await Sandbox.restore(snap.snapshotID, { ...alice, timeoutMs: 60_000 });
    expect(restored.lastInfo?.templateID).toBe(snap.snapshotID);
    expect((await restored.commands.run('cat /tmp/s.txt')).stdout).toBe('ts-sdk\n');
    const fromTemplate = await Sandbox.create({ ...alice, template: snap.snapshotID });
    expect((await fromTemplate.commands.run('cat /tmp/s.txt')).stdout).toBe('ts-sdk\n');

    const page = await Sandbox.listSnapshots({ ...alice, limit: 10 });
    expect(page.snapshots.map((s) => s.snapshotID)).toContain(snap.snapshotID);
    expect((await Sandbox.getSnapshot(snap.snapshotID, alice)).sandboxID).toBe(sbx.sandboxID);

    await expect(Sandbox.getSnapshot(snap.snapshotID, bob)).rejects.toBeInstanceOf(NotFoundError);
    await expect(Sandbox.restore(snap.snapshotID, bob)).rejects.toBeInstanceOf(NotFoundError);
    expect(await Sandbox.deleteSnapshot(snap.snapshotID, bob)).toBe(false);

    await expect(Sandbox.deleteSnapshot(snap.snapshotID, alice)).rejects.toBeInstanceOf(ConflictError);
    await restored.kill();
    await fromTemplate.kill();
    expect(await Sandbox.deleteSnapshot(snap.snapshotID, alice)).toBe(true);
    expect(await Sandbox.deleteSnapshot(snap.snapshotID, alice)).toBe(false);
  });
});
