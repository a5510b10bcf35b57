/**
 * E2B snapshots driven by the real, unmodified e2b SDKs (Python 2.63.0, npm 2.51.0):
 * `create_snapshot`, `list_snapshots`, `Sandbox.create(<snapshot ID>)`, `delete_snapshot`,
 * mapped onto berth's snapshots. Real Temporal, real Docker; `base` boots the Debian image
 * (E2B's SDKs run commands with /bin/bash).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_IMAGES } from '../../../src/templates.js';
import type { TestStack } from '../../helpers/stack.js';
import { runE2BNode, runE2BPython, startE2BStack } from './harness.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startE2BStack({ env: { BERTH_TEMPLATE_IMAGES: JSON.stringify({ base: LOCAL_IMAGES.debianPython }) } });
});
afterAll(async () => {
  await stack?.stop();
});

const e2b = (owner: 'alice' | 'bob') => ({ key: null, headers: { 'x-api-key': stack.e2bKeys[owner] ?? '' } });

describe('e2b Python SDK snapshots', () => {
  it('create_snapshot → list (of the sandbox, by ID, all) → kill the source → Sandbox.create(snapshot ID) has the file → delete_snapshot True, then False', { timeout: 300_000 }, async () => {
    const run = await runE2BPython(stack, 'e2b_snapshots.py', [], { E2B_SANDBOX_URL: stack.envdUrl });
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.snapshot_id).toMatch(/^snap_[a-z0-9]{20}$/);
    expect(r.names).toEqual([]);
    expect(r.listed_of_sandbox).toEqual([r.snapshot_id]);
    expect(r.listed_by_id_filter).toEqual([r.snapshot_id]);
    expect(r.listed_all).toBe(true);
    expect(r.named).toMatch(/no names/);
    expect(r.booted_template).toBe(r.snapshot_id);
    expect(r.booted_file).toBe('from-snapshot\n');
    expect(r.delete).toBe(true);
    expect(r.delete_again).toBe(false);
    expect(r.create_from_deleted).toMatch(/not found/);
  });
});

describe('e2b npm SDK snapshots', () => {
  it('createSnapshot → listSnapshots of the sandbox → Sandbox.create(snapshotId) after the source is killed → deleteSnapshot true, then false', { timeout: 300_000 }, async () => {
    const run = await runE2BNode(stack, 'e2b_snapshots.ts', [], { E2B_SANDBOX_URL: stack.envdUrl });
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.snapshotId).toMatch(/^snap_[a-z0-9]{20}$/);
    expect(r.listedOfSandbox).toEqual([r.snapshotId]);
    expect(r.bootedFile).toBe('from-js\n');
    expect(r.delete).toBe(true);
    expect(r.deleteAgain).toBe(false);
  });
});

describe('E2B snapshot calls over HTTP', () => {
  it("another owner can neither list, boot from nor delete the snapshot; memory snapshots are a 400 naming mode='filesystem'", { timeout: 120_000 }, async () => {
    const created = await stack.api('POST', '/v2/sandboxes', { ...e2b('alice'), body: { templateID: 'base', timeout: 60 } });
    expect(created.status).toBe(201);
    const id = created.body.sandboxID as string;
    try {
      const memory = await stack.api('POST', `/sandboxes/${id}/snapshots`, { ...e2b('alice'), body: { memory: true } });
      expect(memory.body).toEqual({ code: 400, message: expect.stringContaining('mode="filesystem"') });
      const snap = await stack.api('POST', `/sandboxes/${id}/snapshots`, { ...e2b('alice'), body: {} });
      expect(snap.status).toBe(201);
      const snapshotID = snap.body.snapshotID as string;
      expect((await stack.api('GET', '/snapshots', e2b('bob'))).body).not.toContainEqual({ snapshotID, names: [] });
      expect((await stack.api('GET', `/snapshots?name=${snapshotID}`, e2b('bob'))).body).toEqual([]);
      const boot = await stack.api('POST', '/v2/sandboxes', { ...e2b('bob'), body: { templateID: snapshotID, timeout: 60 } });
      expect(boot.status).toBe(404);
      expect((await stack.api('DELETE', `/templates/${snapshotID}`, e2b('bob'))).status).toBe(404);
      expect((await stack.api('GET', '/snapshots?limit=0', e2b('alice'))).status).toBe(400);
      expect((await stack.api('DELETE', `/templates/${snapshotID}`, e2b('alice'))).status).toBe(204);
    } finally {
      await stack.api('DELETE', `/sandboxes/${id}`, e2b('alice'));
    }
  });
});
