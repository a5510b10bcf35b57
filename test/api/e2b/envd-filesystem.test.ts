/**
 * berth's envd, filesystem.Filesystem, watchers and /files, over plain HTTP against a real
 * sandbox (real Temporal, real Docker).
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envdHeaders, serverStream, unary, type EnvdTarget } from '../../helpers/envd.js';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
let t: EnvdTarget;

beforeAll(async () => {
  stack = await startStack();
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300 } });
  expect(res.status).toBe(201);
  t = { stack, sandboxID: res.body.sandboxID };
});
afterAll(async () => {
  await stack?.stop();
});

async function upload(path: string, body: Buffer | string, headers: Record<string, string> = {}, query = '') {
  const res = await fetch(`${stack.envdUrl}/files?path=${encodeURIComponent(path)}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', ...envdHeaders(t), ...headers },
    body,
  });
  return { status: res.status, body: await res.json() };
}

async function download(path: string, query = '') {
  const res = await fetch(`${stack.envdUrl}/files?path=${encodeURIComponent(path)}${query}`, { headers: envdHeaders(t) });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

describe('/files', () => {
  it('uploads a raw body (also gzip) and multipart parts, and downloads them byte for byte', async () => {
    const raw = await upload('/home/user/up/raw.txt', 'raw body\n');
    expect(raw).toEqual({ status: 200, body: [{ name: 'raw.txt', type: 'file', path: '/home/user/up/raw.txt' }] });
    expect((await download('/home/user/up/raw.txt')).text).toBe('raw body\n');

    const gz = await upload('/home/user/up/gz.txt', gzipSync(Buffer.from('zipped\n')), { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(200);
    expect((await download('/home/user/up/gz.txt')).text).toBe('zipped\n');

    const form = new FormData();
    form.append('file', new Blob(['first\n']), '/home/user/up/a.txt');
    form.append('file', new Blob([new Uint8Array([0, 1, 2, 255])]), 'up/b.bin'); // relative: under the user's home
    const res = await fetch(`${stack.envdUrl}/files`, { method: 'POST', headers: envdHeaders(t), body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      { name: 'a.txt', type: 'file', path: '/home/user/up/a.txt' },
      { name: 'b.bin', type: 'file', path: '/home/user/up/b.bin' },
    ]);
    const bin = await fetch(`${stack.envdUrl}/files?path=/home/user/up/b.bin`, { headers: envdHeaders(t) });
    expect(Buffer.from(await bin.arrayBuffer())).toEqual(Buffer.from([0, 1, 2, 255]));

    // Written as the caller's user.
    const stat = await unary(t, 'filesystem.Filesystem/Stat', { path: '/home/user/up/a.txt' });
    expect(stat.body.entry.owner).toBe('user');
    const asRoot = await upload('/tmp/root-owned.txt', 'x', {}, '&username=root');
    expect(asRoot.status).toBe(200);
    expect((await unary(t, 'filesystem.Filesystem/Stat', { path: '/tmp/root-owned.txt' })).body.entry.owner).toBe('root');
  });

  it('answers envd-style JSON errors: missing file 404, folder 400, no path 400, no credentials 401', async () => {
    expect(await download('/home/user/none.txt')).toMatchObject({ status: 404 });
    const missing = await fetch(`${stack.envdUrl}/files?path=/home/user/none.txt`, { headers: envdHeaders(t) });
    expect(await missing.json()).toEqual({ code: 404, message: expect.stringContaining('does not exist') });
    expect((await download('/home/user')).status).toBe(400);
    const noPath = await fetch(`${stack.envdUrl}/files`, { headers: envdHeaders(t) });
    expect(noPath.status).toBe(400);
    const anon = await fetch(`${stack.envdUrl}/files?path=/etc/hostname`);
    expect(await anon.json()).toMatchObject({ code: 401 });
    const badUser = await fetch(`${stack.envdUrl}/files?path=/etc/hostname&username=${encodeURIComponent('x y')}`, { headers: envdHeaders(t) });
    expect(badUser.status).toBe(400);
  });
});

describe('filesystem.Filesystem', () => {
  it('MakeDir, Stat, ListDir (depth), Move, Remove with envd entry shapes and Connect codes', async () => {
    const made = await unary(t, 'filesystem.Filesystem/MakeDir', { path: 'proj/src' });
    expect(made.status).toBe(200);
    expect(made.body.entry).toMatchObject({ name: 'src', type: 'FILE_TYPE_DIRECTORY', path: '/home/user/proj/src', owner: 'user', permissions: expect.stringMatching(/^drwx/) });
    expect(await unary(t, 'filesystem.Filesystem/MakeDir', { path: '/home/user/proj/src' })).toMatchObject({ status: 409, body: { code: 'already_exists' } });

    await upload('/home/user/proj/src/main.py', 'print(1)\n');
    const stat = await unary(t, 'filesystem.Filesystem/Stat', { path: '/home/user/proj/src/main.py' });
    expect(stat.body.entry).toMatchObject({ name: 'main.py', type: 'FILE_TYPE_FILE', path: '/home/user/proj/src/main.py', size: 9, permissions: '-rw-r--r--', mode: 0o644 });
    expect(typeof stat.body.entry.modifiedTime).toBe('string');

    const one = await unary(t, 'filesystem.Filesystem/ListDir', { path: '/home/user/proj', depth: 1 });
    expect(one.body.entries.map((e: { path: string }) => e.path)).toEqual(['/home/user/proj/src']);
    const two = await unary(t, 'filesystem.Filesystem/ListDir', { path: '/home/user/proj', depth: 2 });
    expect(two.body.entries.map((e: { path: string }) => e.path)).toEqual(['/home/user/proj/src', '/home/user/proj/src/main.py']);

    const moved = await unary(t, 'filesystem.Filesystem/Move', { source: '/home/user/proj/src/main.py', destination: '/home/user/proj/app.py' });
    expect(moved.body.entry).toMatchObject({ name: 'app.py', path: '/home/user/proj/app.py', type: 'FILE_TYPE_FILE' });
    expect(await unary(t, 'filesystem.Filesystem/Stat', { path: '/home/user/proj/src/main.py' })).toMatchObject({ status: 404, body: { code: 'not_found' } });

    expect((await unary(t, 'filesystem.Filesystem/Remove', { path: '/home/user/proj' })).status).toBe(200);
    expect(await unary(t, 'filesystem.Filesystem/Remove', { path: '/home/user/proj' })).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(await unary(t, 'filesystem.Filesystem/ListDir', { path: '/home/user/proj' })).toMatchObject({ status: 404, body: { code: 'not_found' } });
    expect(await unary(t, 'filesystem.Filesystem/Stat', {})).toMatchObject({ status: 400, body: { code: 'invalid_argument' } });
  });

  it('gives a strict client (agentbox\'s connect-python) only name, type and path', async () => {
    await upload('/home/user/strict.txt', 'x');
    const res = await unary(t, 'filesystem.Filesystem/Stat', { path: '/home/user/strict.txt' }, { 'user-agent': 'connect-python' });
    expect(res.body).toEqual({ entry: { name: 'strict.txt', type: 'FILE_TYPE_FILE', path: '/home/user/strict.txt' } });
  });
});

describe('watching folders', () => {
  it('CreateWatcher / GetWatcherEvents / RemoveWatcher report create, write and remove', async () => {
    await unary(t, 'filesystem.Filesystem/MakeDir', { path: '/home/user/w1' });
    const created = await unary(t, 'filesystem.Filesystem/CreateWatcher', { path: '/home/user/w1', recursive: false });
    expect(created.status).toBe(200);
    const watcherId = created.body.watcherId;
    await upload('/home/user/w1/a.txt', 'one');
    const seen: Array<{ name: string; type: string }> = [];
    await eventually(async () => {
      seen.push(...(await unary(t, 'filesystem.Filesystem/GetWatcherEvents', { watcherId })).body.events);
      return seen.some((e) => e.name === 'a.txt' && e.type === 'EVENT_TYPE_CREATE');
    });
    await upload('/home/user/w1/a.txt', 'one plus more');
    await eventually(async () => {
      seen.push(...(await unary(t, 'filesystem.Filesystem/GetWatcherEvents', { watcherId })).body.events);
      return seen.some((e) => e.name === 'a.txt' && e.type === 'EVENT_TYPE_WRITE');
    });
    await unary(t, 'filesystem.Filesystem/Remove', { path: '/home/user/w1/a.txt' });
    await eventually(async () => {
      seen.push(...(await unary(t, 'filesystem.Filesystem/GetWatcherEvents', { watcherId })).body.events);
      return seen.some((e) => e.name === 'a.txt' && e.type === 'EVENT_TYPE_REMOVE');
    });
    expect((await unary(t, 'filesystem.Filesystem/RemoveWatcher', { watcherId })).status).toBe(200);
    expect(await unary(t, 'filesystem.Filesystem/GetWatcherEvents', { watcherId })).toMatchObject({ status: 404, body: { code: 'not_found' } });
    // Another owner cannot read it either (and a missing folder is not_found).
    expect(await unary(t, 'filesystem.Filesystem/CreateWatcher', { path: '/home/user/none' })).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('WatchDir streams start, then events (recursive), until the client leaves', async () => {
    await unary(t, 'filesystem.Filesystem/MakeDir', { path: '/home/user/w2/sub' });
    let wrote = false;
    const res = await serverStream(t, 'filesystem.Filesystem/WatchDir', { path: '/home/user/w2', recursive: true }, {
      onMessage: async (m) => {
        if (m.start && !wrote) {
          wrote = true;
          await upload('/home/user/w2/sub/deep.txt', 'deep');
        }
      },
      stopWhen: (msgs) => msgs.some((m) => m.filesystem?.name === 'sub/deep.txt'),
    });
    expect(res.messages[0]).toEqual({ start: {} });
    expect(res.messages).toContainEqual({ filesystem: { name: 'sub/deep.txt', type: 'EVENT_TYPE_CREATE' } });
    const missing = await serverStream(t, 'filesystem.Filesystem/WatchDir', { path: '/home/user/nowhere' });
    expect(missing.trailer.error.code).toBe('not_found');
  });
});
