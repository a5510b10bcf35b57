/**
 * User snapshots end to end: real Temporal (the snapshot is a step of the sandbox's workflow)
 * and the real Docker engine (a commit to a local image).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
const CAP = 2;

beforeAll(async () => {
  stack = await startStack({ owners: ['alice', 'bob', 'carol'], env: { BERTH_MAX_SNAPSHOTS_PER_OWNER: String(CAP), BERTH_SNAPSHOT_RETENTION_MS: '3600000', BERTH_SNAPSHOT_SWEEP_INTERVAL_MS: '0' } });
});
afterAll(async () => {
  await stack?.stop(); // removes the owners' containers and snapshot images
});

async function create(body: Record<string, unknown> = {}, as = 'alice') {
  const res = await stack.api('POST', '/sandboxes', { as, body: { templateID: 'tiny', ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { sandboxID: string; templateID: string; status: string; resources: { cpu: number; memoryMB: number }; timeout: number };
}
async function run(id: string, cmd: string, as = 'alice') {
  const res = await stack.api('POST', `/sandboxes/${id}/commands`, { as, body: { cmd } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { exitCode: number; stdout: string; stderr: string };
}
async function snapshot(id: string, as = 'alice') {
  return stack.api('POST', `/sandboxes/${id}/snapshots`, { as });
}
async function kill(id: string, as = 'alice') {
  expect((await stack.api('DELETE', `/sandboxes/${id}`, { as })).status).toBe(204);
}

describe('snapshots', () => {
  it('a snapshot of a running sandbox boots a new sandbox with the file, outlives kill of its sandbox, and shows in its events', async () => {
    const source = await create();
    await run(source.sandboxID, 'mkdir -p /work && echo before-snapshot > /work/note.txt');
    const taken = await snapshot(source.sandboxID);
    expect(taken.status, JSON.stringify(taken.body)).toBe(201);
    const snap = taken.body as { snapshotID: string };
    expect(taken.body).toMatchObject({ sandboxID: source.sandboxID, templateID: 'tiny', kind: 'snapshot' });
    expect(snap.snapshotID).toMatch(/^snap_[a-z0-9]{20}$/);
    expect(taken.body.sizeBytes).toBeGreaterThan(0);
    expect(Date.parse(taken.body.createdAt)).not.toBeNaN();
    expect(Date.parse(taken.body.expiresAt) - Date.parse(taken.body.createdAt)).toBe(3_600_000);

    // The source was frozen only for the commit: it runs on, and a later write is not in the snapshot.
    expect((await stack.api('GET', `/sandboxes/${source.sandboxID}`)).body.status).toBe('running');
    await run(source.sandboxID, 'echo after-snapshot > /work/later.txt');

    // The sandbox's events show the snapshot with its ID.
    const events = (await stack.api('GET', `/sandboxes/${source.sandboxID}/events`)).body.events as Array<{ reason: string; detail?: string; status: string }>;
    expect(events).toContainEqual(expect.objectContaining({ reason: 'snapshot', detail: snap.snapshotID, status: 'running' }));

    await kill(source.sandboxID);

    // It outlives its sandbox: listed, readable, bootable.
    expect((await stack.api('GET', `/snapshots/${snap.snapshotID}`)).status).toBe(200);
    const ofSandbox = await stack.api('GET', `/sandboxes/${source.sandboxID}/snapshots`);
    expect(ofSandbox.status).toBe(200);
    expect(ofSandbox.body.snapshots.map((s: { snapshotID: string }) => s.snapshotID)).toEqual([snap.snapshotID]);

    const booted = await create({ templateID: snap.snapshotID });
    expect(booted.templateID).toBe(snap.snapshotID);
    // Defaults from the source template (tiny: 0.5 CPU, 64 MB, 300 s).
    expect(booted.resources).toEqual({ cpu: 0.5, memoryMB: 64 });
    expect(booted.timeout).toBe(300);
    expect((await run(booted.sandboxID, 'cat /work/note.txt')).stdout).toBe('before-snapshot\n');
    expect((await run(booted.sandboxID, 'test -e /work/later.txt; echo $?')).stdout).toBe('1\n');

    // A snapshot of a sandbox booted from a snapshot keeps the original template's defaults.
    const second = await snapshot(booted.sandboxID);
    expect(second.status, JSON.stringify(second.body)).toBe(201);
    expect(second.body).toMatchObject({ sandboxID: booted.sandboxID, templateID: 'tiny' });
    const grandchild = await create({ templateID: second.body.snapshotID });
    expect(grandchild.resources).toEqual({ cpu: 0.5, memoryMB: 64 });
    expect((await run(grandchild.sandboxID, 'cat /work/note.txt')).stdout).toBe('before-snapshot\n');
    await kill(grandchild.sandboxID);
    expect((await stack.api('DELETE', `/snapshots/${second.body.snapshotID}`)).status).toBe(204);

    // restore answers a new sandbox like create does, with the create's options.
    const restored = await stack.api('POST', `/snapshots/${snap.snapshotID}/restore`, { body: { metadata: { from: 'restore' }, timeout: 120 } });
    expect(restored.status, JSON.stringify(restored.body)).toBe(201);
    expect(restored.body).toMatchObject({ status: 'running', templateID: snap.snapshotID, metadata: { from: 'restore' }, timeout: 120 });
    expect((await run(restored.body.sandboxID, 'cat /work/note.txt')).stdout).toBe('before-snapshot\n');

    // Deleting it while sandboxes booted from it live is a clear 409; afterwards it goes.
    const busy = await stack.api('DELETE', `/snapshots/${snap.snapshotID}`);
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('conflict');
    expect(busy.body.message).toMatch(/kill those sandboxes first/);
    await kill(booted.sandboxID);
    await kill(restored.body.sandboxID);
    expect((await stack.api('DELETE', `/snapshots/${snap.snapshotID}`)).status).toBe(204);
    expect((await stack.api('GET', `/snapshots/${snap.snapshotID}`)).status).toBe(404);
    expect((await stack.api('POST', '/sandboxes', { body: { snapshotID: snap.snapshotID } })).status).toBe(404);
  });

  it('a snapshot of a paused sandbox leaves it paused and keeps its files', async () => {
    const source = await create({}, 'bob');
    await run(source.sandboxID, 'echo paused-data > /tmp/p.txt', 'bob');
    expect((await stack.api('POST', `/sandboxes/${source.sandboxID}/pause`, { as: 'bob' })).status).toBe(200);
    const taken = await snapshot(source.sandboxID, 'bob');
    expect(taken.status, JSON.stringify(taken.body)).toBe(201);
    expect((await stack.api('GET', `/sandboxes/${source.sandboxID}`, { as: 'bob' })).body.status).toBe('paused');
    const events = (await stack.api('GET', `/sandboxes/${source.sandboxID}/events`, { as: 'bob' })).body.events as Array<{ reason: string; status: string }>;
    expect(events[events.length - 1]).toMatchObject({ reason: 'snapshot', status: 'paused' });
    const booted = await create({ templateID: undefined, snapshotID: taken.body.snapshotID }, 'bob');
    expect((await run(booted.sandboxID, 'cat /tmp/p.txt', 'bob')).stdout).toBe('paused-data\n');
    // The source resumes as before.
    expect((await stack.api('POST', `/sandboxes/${source.sandboxID}/resume`, { as: 'bob' })).status).toBe(200);
    expect((await run(source.sandboxID, 'cat /tmp/p.txt', 'bob')).stdout).toBe('paused-data\n');
  });

  it("another owner can neither see, delete nor boot from a snapshot, nor snapshot another's sandbox", async () => {
    const source = await create({}, 'carol');
    const taken = await snapshot(source.sandboxID, 'carol');
    expect(taken.status).toBe(201);
    const id = taken.body.snapshotID as string;
    expect((await stack.api('GET', `/snapshots/${id}`, { as: 'alice' })).status).toBe(404);
    expect((await stack.api('DELETE', `/snapshots/${id}`, { as: 'alice' })).status).toBe(404);
    expect((await stack.api('POST', `/snapshots/${id}/restore`, { as: 'alice' })).status).toBe(404);
    for (const body of [{ templateID: id }, { snapshotID: id }]) {
      const res = await stack.api('POST', '/sandboxes', { as: 'alice', body });
      expect(res.status, JSON.stringify(body)).toBe(404);
      expect(res.body.message).toMatch(/snapshot .* not found/);
    }
    expect((await stack.api('GET', '/snapshots', { as: 'alice' })).body.snapshots.map((s: { snapshotID: string }) => s.snapshotID)).not.toContain(id);
    expect((await stack.api('GET', `/sandboxes/${source.sandboxID}/snapshots`, { as: 'alice' })).status).toBe(404);
    expect((await snapshot(source.sandboxID, 'alice')).status).toBe(404);
    // Still carol's.
    expect((await stack.api('GET', `/snapshots/${id}`, { as: 'carol' })).status).toBe(200);
    expect((await stack.api('GET', '/snapshots', { as: 'carol' })).body.snapshots.map((s: { snapshotID: string }) => s.snapshotID)).toContain(id);
  });

  it('the per-owner cap answers 429 with what to do; the list pages newest first', async () => {
    // carol has one from the previous test (or none when run alone): fill up to the cap.
    const source = await create({}, 'carol');
    while ((await stack.api('GET', '/snapshots', { as: 'carol' })).body.snapshots.length < CAP) {
      expect((await snapshot(source.sandboxID, 'carol')).status).toBe(201);
    }
    const over = await snapshot(source.sandboxID, 'carol');
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('quota_exceeded');
    expect(over.body.message).toMatch(/BERTH_MAX_SNAPSHOTS_PER_OWNER.*delete one first/);

    const all = (await stack.api('GET', '/snapshots', { as: 'carol' })).body.snapshots as Array<{ snapshotID: string; createdAt: string }>;
    expect(all).toHaveLength(CAP);
    expect(all.map((s) => s.createdAt)).toEqual([...all.map((s) => s.createdAt)].sort().reverse());
    const first = await stack.api('GET', '/snapshots?limit=1', { as: 'carol' });
    expect(first.body.snapshots.map((s: { snapshotID: string }) => s.snapshotID)).toEqual([all[0]?.snapshotID]);
    expect(first.body.nextToken).toEqual(expect.any(String));
    const second = await stack.api('GET', `/snapshots?limit=1&nextToken=${first.body.nextToken}`, { as: 'carol' });
    expect(second.body.snapshots.map((s: { snapshotID: string }) => s.snapshotID)).toEqual([all[1]?.snapshotID]);
    expect(second.body.nextToken).toBeNull();
    // A token is bound to its owner.
    expect((await stack.api('GET', `/snapshots?limit=1&nextToken=${first.body.nextToken}`, { as: 'alice' })).status).toBe(400);
  });

  it('the retention sweep removes expired snapshots (and only those)', async () => {
    const source = await create({}, 'alice');
    const taken = await snapshot(source.sandboxID, 'alice');
    expect(taken.status).toBe(201);
    const owner = stack.owners.alice ?? '';
    // Not yet expired: kept.
    expect(await stack.berth.snapshots.sweepExpired(Date.now(), { owner })).toEqual([]);
    // An hour later (BERTH_SNAPSHOT_RETENTION_MS): removed.
    const removed = await stack.berth.snapshots.sweepExpired(Date.parse(taken.body.expiresAt) + 1, { owner });
    expect(removed).toContain(taken.body.snapshotID);
    expect((await stack.api('GET', `/snapshots/${taken.body.snapshotID}`)).status).toBe(404);
  });

  it("a snapshot keeps no env var values (secrets): the image has them blanked, a boot passes its own", async () => {
    const source = await create({ envs: { TOKEN: 's3cret-value', OTHER: 'x' } }, 'bob');
    expect((await run(source.sandboxID, 'echo "[$TOKEN]"', 'bob')).stdout).toBe('[s3cret-value]\n');
    const taken = await snapshot(source.sandboxID, 'bob');
    expect(taken.status).toBe(201);
    const image = await stack.docker.getImage(`berth-snapshot/${taken.body.snapshotID}:latest`).inspect();
    expect(JSON.stringify(image.Config)).not.toContain('s3cret-value');
    const bare = await create({ templateID: undefined, snapshotID: taken.body.snapshotID }, 'bob');
    expect((await run(bare.sandboxID, 'echo "[$TOKEN][$OTHER]"', 'bob')).stdout).toBe('[][]\n');
    const withEnv = await create({ templateID: undefined, snapshotID: taken.body.snapshotID, envs: { TOKEN: 'new' } }, 'bob');
    expect((await run(withEnv.sandboxID, 'echo "[$TOKEN]"', 'bob')).stdout).toBe('[new]\n');
    for (const id of [source.sandboxID, bare.sandboxID, withEnv.sandboxID]) await kill(id, 'bob');
  });

  it('bad IDs and bodies give clear 4xx', async () => {
    for (const path of ['/snapshots/nope', '/snapshots/snap_UPPERCASE0000000000', '/snapshots/snap_aaaaaaaaaaaaaaaaaaaa']) {
      const res = await stack.api('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
    expect((await stack.api('DELETE', '/snapshots/snap_aaaaaaaaaaaaaaaaaaaa')).status).toBe(404);
    expect((await stack.api('POST', '/snapshots/snap_aaaaaaaaaaaaaaaaaaaa/restore')).status).toBe(404);
    expect((await stack.api('POST', '/sandboxes/not-a-sandbox/snapshots')).status).toBe(404);
    expect((await stack.api('POST', '/sandboxes/aaaaaaaaaaaaaaaaaaaa/snapshots')).status).toBe(404);
    expect((await stack.api('GET', '/sandboxes/aaaaaaaaaaaaaaaaaaaa/snapshots')).status).toBe(404);
    const badField = await stack.api('POST', '/sandboxes', { body: { snapshotID: 'snap-1' } });
    expect(badField.status).toBe(400);
    expect(badField.body.message).toMatch(/snapshotID/);
    const both = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', snapshotID: 'snap_aaaaaaaaaaaaaaaaaaaa' } });
    expect(both.status).toBe(400);
    expect(both.body.message).toMatch(/either templateID or snapshotID/);
    expect((await stack.api('POST', '/sandboxes', { body: { templateID: 'snap_aaaaaaaaaaaaaaaaaaaa' } })).status).toBe(404);
    const restoreBad = await stack.api('POST', '/snapshots/snap_aaaaaaaaaaaaaaaaaaaa/restore', { body: { templateID: 'tiny' } });
    expect(restoreBad.status).toBe(400);
    expect((await stack.api('GET', '/snapshots?limit=0')).status).toBe(400);
    expect((await stack.api('GET', '/snapshots?nextToken=forged')).status).toBe(400);
  });
});
