/**
 * E2B volumes driven by the real, unmodified e2b SDKs (Python 2.63.0, npm 2.51.0): `Volume.create`,
 * `list`, `get_info`/`connect`, `destroy` and `volume_mounts` at create, mapped onto berth's named
 * volumes. Real Temporal, real Docker; commands in the sandboxes go through berth's envd
 * (`base` boots the Debian image here: E2B's SDKs run commands with /bin/bash).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_IMAGES } from '../../../src/templates.js';
import type { TestStack } from '../../helpers/stack.js';
import { runE2BNode, runE2BPython, startE2BStack } from './harness.js';

let stack: TestStack;
const made: string[] = [];
beforeAll(async () => {
  stack = await startE2BStack({ env: { BERTH_TEMPLATE_IMAGES: JSON.stringify({ base: LOCAL_IMAGES.debianPython }) } });
});
afterAll(async () => {
  for (const name of made) await stack?.api('DELETE', `/volumes/${name}`).catch(() => undefined);
  await stack?.stop();
});

const e2b = (owner: 'alice' | 'bob') => ({ key: null, headers: { 'x-api-key': stack.e2bKeys[owner] ?? '' } });
const volumeName = () => {
  const name = `e2bv-${randomBytes(4).toString('hex')}`;
  made.push(name);
  return name;
};

describe('e2b Python SDK volumes', () => {
  it('Volume.create → list → get_info → connect; mounted by one sandbox, read by a later one by name; destroy is 409 while mounted, then True, then False', { timeout: 300_000 }, async () => {
    const name = volumeName();
    const run = await runE2BPython(stack, 'e2b_volumes.py', [name], { E2B_SANDBOX_URL: stack.envdUrl });
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.created).toEqual({ volume_id: name, name });
    expect(r.listed).toEqual([{ volume_id: name, name }]);
    expect(r.info).toEqual({ volume_id: name, name });
    expect(r.connected).toBe(name);
    expect(r.create_again).toMatch(/already exists/);
    expect(r.destroy_while_mounted).toMatch(/mounted by a sandbox/);
    expect(r.read_by_later_sandbox).toBe('kept\n');
    expect(r.destroy).toBe(true);
    expect(r.destroy_again).toBe(false);
    expect(r.info_after_destroy).toBe('VolumeNotFoundException');
    expect(r.mount_missing).toMatch(/does not exist/);
    // berth's REST agrees: the volume is gone.
    expect((await stack.api('GET', `/volumes/${name}`)).status).toBe(404);
  });
});

describe('e2b npm SDK volumes', () => {
  it('Volume.create → list → getInfo; volumeMounts with the Volume and with its name; destroy true, then false', { timeout: 300_000 }, async () => {
    const name = volumeName();
    const run = await runE2BNode(stack, 'e2b_volumes.ts', [name], { E2B_SANDBOX_URL: stack.envdUrl });
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.created).toEqual({ volumeId: name, name });
    expect(r.listed).toEqual([{ volumeId: name, name }]);
    expect(r.info).toMatchObject({ volumeId: name, name });
    expect(r.readByLaterSandbox).toBe('from-js\n');
    expect(r.destroy).toBe(true);
    expect(r.destroyAgain).toBe(false);
    expect(r.infoAfterDestroy).toBe('VolumeNotFoundError');
  });
});

describe('E2B volume calls over HTTP', () => {
  it("owner-scoped: another owner's key does not see, read or delete the volume; bad names are 400 in E2B's error shape", async () => {
    const name = volumeName();
    const created = await stack.api('POST', '/volumes', { ...e2b('alice'), body: { name } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ volumeID: name, name, token: '' });
    expect((await stack.api('GET', '/volumes', e2b('bob'))).body).not.toContainEqual({ volumeID: name, name });
    expect((await stack.api('GET', `/volumes/${name}`, e2b('bob'))).body).toEqual({ code: 404, message: `volume ${name} not found` });
    expect((await stack.api('DELETE', `/volumes/${name}`, e2b('bob'))).status).toBe(404);
    // berth's own REST (same owner, berth key) sees the same volume.
    expect((await stack.api('GET', `/volumes/${name}`)).body).toMatchObject({ name, mountedBy: 0 });
    const bad = await stack.api('POST', '/volumes', { ...e2b('alice'), body: { name: 'Not A Name' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ code: 400, message: expect.stringMatching(/name.*lowercase letters/) });
    expect((await stack.api('POST', '/volumes', { ...e2b('alice'), body: {} })).status).toBe(400);
    expect((await stack.api('DELETE', `/volumes/${name}`, e2b('alice'))).status).toBe(204);
  });
});
