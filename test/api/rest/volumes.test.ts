import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop(); // removes the owners' volumes too
});

async function createVolume(name: string, as = 'alice') {
  return stack.api('POST', '/volumes', { as, body: { name, sizeMB: 64 } });
}
async function sandboxWith(volumes: unknown[], as = 'alice') {
  return stack.api('POST', '/sandboxes', { as, body: { templateID: 'tiny', volumes } });
}
async function run(id: string, cmd: string, as = 'alice') {
  return stack.api('POST', `/sandboxes/${id}/commands`, { as, body: { cmd } });
}

describe('volumes', () => {
  it('a volume written by one sandbox is read by another after the first is killed; read-only mounts refuse writes', async () => {
    const name = unique('shared');
    const created = await createVolume(name);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name, sizeMB: 64, mountedBy: 0 });

    const a = await sandboxWith([{ name, mountPath: '/data' }]);
    expect(a.status).toBe(201);
    expect((await run(a.body.sandboxID, 'echo from-a > /data/note.txt')).body.exitCode).toBe(0);
    expect((await stack.api('GET', `/volumes/${name}`, { as: 'alice' })).body.mountedBy).toBe(1);
    expect((await stack.api('DELETE', `/sandboxes/${a.body.sandboxID}`, { as: 'alice' })).status).toBe(204);

    const b = await sandboxWith([{ name, mountPath: '/mnt/in', readOnly: true }]);
    expect(b.status).toBe(201);
    const read = await run(b.body.sandboxID, 'cat /mnt/in/note.txt');
    expect(read.body.stdout).toBe('from-a\n');
    const write = await run(b.body.sandboxID, 'echo x > /mnt/in/other.txt');
    expect(write.body.exitCode).not.toBe(0);
    expect(write.body.stderr).toMatch(/read-only/i);

    // Deleting a mounted volume is refused; once its sandbox is gone it goes.
    const busy = await stack.api('DELETE', `/volumes/${name}`, { as: 'alice' });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('conflict');
    await stack.api('DELETE', `/sandboxes/${b.body.sandboxID}`, { as: 'alice' });
    expect((await stack.api('DELETE', `/volumes/${name}`, { as: 'alice' })).status).toBe(204);
    expect((await stack.api('GET', `/volumes/${name}`, { as: 'alice' })).status).toBe(404);
  });

  it("volumes are owner-scoped: another owner neither sees nor mounts them, and may use the same name", async () => {
    const name = unique('private');
    expect((await createVolume(name)).status).toBe(201);
    expect((await stack.api('GET', `/volumes/${name}`, { as: 'bob' })).status).toBe(404);
    expect((await stack.api('GET', '/volumes', { as: 'bob' })).body.volumes.map((v: { name: string }) => v.name)).not.toContain(name);
    expect((await stack.api('DELETE', `/volumes/${name}`, { as: 'bob' })).status).toBe(404);
    const mount = await sandboxWith([{ name, mountPath: '/data' }], 'bob');
    expect(mount.status).toBe(400);
    expect(mount.body.message).toMatch(/does not exist: create it first/);
    // bob's own volume of the same name is a different volume.
    expect((await createVolume(name, 'bob')).status).toBe(201);
    expect((await stack.api('GET', '/volumes', { as: 'alice' })).body.volumes.map((v: { name: string }) => v.name)).toContain(name);
  });

  it('refuses bad names, duplicates and bad mount paths with clear 4xx', async () => {
    const name = unique('dup');
    expect((await createVolume(name)).status).toBe(201);
    const dup = await createVolume(name);
    expect(dup.status).toBe(409);
    for (const bad of ['Upper', '-lead', 'a/b', '']) {
      const res = await stack.api('POST', '/volumes', { as: 'alice', body: { name: bad } });
      expect(res.status, bad).toBe(400);
    }
    for (const mountPath of ['/', 'relative', '/proc/x', '/a/../b', '/tmp/.berth']) {
      const res = await sandboxWith([{ name, mountPath }]);
      expect(res.status, mountPath).toBe(400);
    }
    const twice = await sandboxWith([{ name, mountPath: '/a' }, { name, mountPath: '/a/' }]);
    expect(twice.status).toBe(400);
    expect(twice.body.message).toMatch(/its own mountPath/);
  });
});
