import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../../helpers/stack.js';

type Body = NonNullable<RequestInit['body']>;

let stack: TestStack;
let sb: string;

beforeAll(async () => {
  stack = await startStack();
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300, resources: { memoryMB: 128 } } });
  expect(res.status).toBe(201);
  sb = res.body.sandboxID;
});
afterAll(async () => {
  await stack?.stop();
});

const auth = () => ({ authorization: `Bearer ${stack.keys.alice}` });
const put = (path: string, body: Body, query = '') =>
  fetch(`${stack.baseUrl}/sandboxes/${sb}/files?path=${encodeURIComponent(path)}${query}`, {
    method: 'PUT',
    headers: { ...auth(), 'content-type': 'application/octet-stream' },
    body,
    duplex: 'half',
  } as RequestInit);

describe('files on busybox', () => {
  it('writes, reads, stats and lists (parents created, mode and owner applied)', async () => {
    const w = await put('/home/user/proj/src/main.txt', 'hello\nworld\n', '&mode=600&owner=user&group=user');
    expect(w.status).toBe(201);
    expect(await w.json()).toMatchObject({ path: '/home/user/proj/src/main.txt', type: 'file', size: 12, mode: '600', owner: 'user', group: 'user' });
    const r = await stack.api('GET', `/sandboxes/${sb}/files?path=/home/user/proj/src/main.txt`);
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello\nworld\n');
    expect(r.headers.get('content-type')).toBe('application/octet-stream');

    const stat = await stack.api('GET', `/sandboxes/${sb}/files/stat?path=/home/user/proj`);
    expect(stat.body).toMatchObject({ type: 'dir', name: 'proj' });
    const many = await stack.api('POST', `/sandboxes/${sb}/files/stat`, { body: { paths: ['/home/user/proj/src/main.txt', '/nope'] } });
    expect(many.body.entries['/nope']).toBeNull();
    expect(many.body.entries['/home/user/proj/src/main.txt'].size).toBe(12);

    const batch = await stack.api('POST', `/sandboxes/${sb}/files/batch`, {
      body: { files: [{ path: '/home/user/proj/a.py', content: 'print(1)\n' }, { path: '/home/user/proj/bin/b', content: Buffer.from([0, 1, 2]).toString('base64'), encoding: 'base64', mode: '755' }] },
    });
    expect(batch.status).toBe(201);
    expect(batch.body.files[1]).toMatchObject({ size: 3, mode: '755' });

    const shallow = await stack.api('GET', `/sandboxes/${sb}/files/list?path=/home/user/proj`);
    expect(shallow.body.entries.map((e: { name: string }) => e.name)).toEqual(['a.py', 'bin', 'src']);
    const deep = await stack.api('GET', `/sandboxes/${sb}/files/list?path=/home/user/proj&depth=2`);
    expect(deep.body.entries.map((e: { path: string }) => e.path)).toEqual([
      '/home/user/proj/a.py',
      '/home/user/proj/bin',
      '/home/user/proj/bin/b',
      '/home/user/proj/src',
      '/home/user/proj/src/main.txt',
    ]);
    const found = await stack.api('GET', `/sandboxes/${sb}/files/search?path=/home/user&pattern=*.py`);
    expect(found.body.entries.map((e: { path: string }) => e.path)).toEqual(['/home/user/proj/a.py']);
  });

  it('serves byte ranges and text in other encodings', async () => {
    await put('/tmp/range.bin', Buffer.from('0123456789'));
    const part = await stack.api('GET', `/sandboxes/${sb}/files?path=/tmp/range.bin`, { headers: { range: 'bytes=2-5' } });
    expect(part.status).toBe(206);
    expect(part.body).toBe('2345');
    expect(part.headers.get('content-range')).toBe('bytes 2-5/10');
    const tail = await stack.api('GET', `/sandboxes/${sb}/files?path=/tmp/range.bin`, { headers: { range: 'bytes=-3' } });
    expect(tail.body).toBe('789');
    await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd: 'ln -sf /tmp/range.bin /tmp/link.bin' } });
    const viaLink = await stack.api('GET', `/sandboxes/${sb}/files?path=/tmp/link.bin`);
    expect(viaLink.body).toBe('0123456789');
    expect((await stack.api('GET', `/sandboxes/${sb}/files/stat?path=/tmp/link.bin`)).body).toMatchObject({ type: 'symlink' });
    expect((await stack.api('GET', `/sandboxes/${sb}/files?path=/dev/zero`)).status).toBe(400);
    const bad = await stack.api('GET', `/sandboxes/${sb}/files?path=/tmp/range.bin`, { headers: { range: 'bytes=50-' } });
    expect(bad.status).toBe(416);
    await put('/tmp/latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9]));
    const text = await stack.api('GET', `/sandboxes/${sb}/files?path=/tmp/latin1.txt&encoding=latin1`);
    expect(text.body).toBe('café');
  });

  it('makes folders, moves, sets permissions, replaces and deletes', async () => {
    const mk = await stack.api('POST', `/sandboxes/${sb}/files/mkdir`, { body: { path: '/srv/a/b/c', mode: '750', owner: 'user' } });
    expect(mk.status).toBe(201);
    expect(mk.body).toMatchObject({ type: 'dir', mode: '750', owner: 'user' });
    await put('/srv/a/file.txt', 'one two one');
    const moved = await stack.api('POST', `/sandboxes/${sb}/files/move`, { body: { source: '/srv/a/file.txt', destination: '/srv/new/place.txt' } });
    expect(moved.status).toBe(200);
    expect(moved.body.path).toBe('/srv/new/place.txt');
    await put('/srv/a/other.txt', 'x');
    const clash = await stack.api('POST', `/sandboxes/${sb}/files/move`, { body: { source: '/srv/a/other.txt', destination: '/srv/new/place.txt' } });
    expect(clash.status).toBe(409);
    const ch = await stack.api('POST', `/sandboxes/${sb}/files/chmod`, { body: { path: '/srv/new/place.txt', mode: '0640', group: 'user' } });
    expect(ch.body).toMatchObject({ mode: '640', group: 'user' });
    const rep = await stack.api('POST', `/sandboxes/${sb}/files/replace`, { body: { path: '/srv/new/place.txt', old: 'one', new: '1' } });
    expect(rep.body).toMatchObject({ replacements: 2, entry: { mode: '640', group: 'user' } });
    expect((await stack.api('GET', `/sandboxes/${sb}/files?path=/srv/new/place.txt`)).body).toBe('1 two 1');

    const notEmpty = await stack.api('DELETE', `/sandboxes/${sb}/files?path=/srv/a`);
    expect(notEmpty.status).toBe(409);
    expect((await stack.api('DELETE', `/sandboxes/${sb}/files?path=/srv/a&recursive=true`)).status).toBe(204);
    expect((await stack.api('DELETE', `/sandboxes/${sb}/files?path=/srv/new/place.txt`)).status).toBe(204);
    expect((await stack.api('GET', `/sandboxes/${sb}/files/stat?path=/srv/a`)).status).toBe(404);
  });

  it('handles symlinks, folders in the way and kernel files', async () => {
    const run = async (cmd: string) => (await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd } })).body.stdout as string;
    // Writing through a symlink replaces its target and keeps the target's mode; the link stays.
    await stack.api('PUT', `/sandboxes/${sb}/files?path=/srv/links/real.conf&mode=600`, { body: 'old', headers: { 'content-type': 'application/octet-stream' } });
    await run('ln -s /srv/links/real.conf /srv/links/link.conf');
    const throughLink = await put('/srv/links/link.conf', 'new');
    expect(throughLink.status).toBe(201);
    expect(await throughLink.json()).toMatchObject({ path: '/srv/links/link.conf', type: 'file', mode: '600', size: 3 });
    expect(await run('[ -L /srv/links/link.conf ] && echo link; cat /srv/links/real.conf; echo; stat -c %a /srv/links/real.conf')).toBe('link\nnew\n600\n');
    // A link in another folder: the target is replaced in its own folder, nothing left behind.
    await run('mkdir -p /srv/elsewhere && ln -s /srv/links/real.conf /srv/elsewhere/far.conf');
    expect((await put('/srv/elsewhere/far.conf', 'newer')).status).toBe(201);
    expect(await run('cat /srv/links/real.conf; echo; ls -a /srv/elsewhere /srv/links | grep -c berth-upload')).toBe('newer\n0\n');
    // A symlinked folder is listed through the link.
    await run('mkdir -p /srv/links/dir && touch /srv/links/dir/inside && ln -s /srv/links/dir /srv/links/dirlink');
    const listed = await stack.api('GET', `/sandboxes/${sb}/files/list?path=/srv/links/dirlink`);
    expect(listed.body.entries.map((e: { name: string }) => e.name)).toEqual(['inside']);
    // Move with overwrite replaces an empty folder (never moves into it) and refuses a non-empty one.
    await run('mkdir -p /srv/mv/empty /srv/mv/full && touch /srv/mv/full/x');
    await put('/srv/mv/src.txt', 'moved');
    const replaced = await stack.api('POST', `/sandboxes/${sb}/files/move`, { body: { source: '/srv/mv/src.txt', destination: '/srv/mv/empty', overwrite: true } });
    expect(replaced.body).toMatchObject({ path: '/srv/mv/empty', type: 'file' });
    await put('/srv/mv/src2.txt', 'moved');
    const refused = await stack.api('POST', `/sandboxes/${sb}/files/move`, { body: { source: '/srv/mv/src2.txt', destination: '/srv/mv/full', overwrite: true } });
    expect(refused.status).toBe(409);
    // A file in the way of mkdir is a conflict.
    const inWay = await stack.api('POST', `/sandboxes/${sb}/files/mkdir`, { body: { path: '/srv/mv/src2.txt/sub/dir' } });
    expect(inWay.status).toBe(409);
    expect(inWay.body.message).toMatch(/in the way/);
    // Kernel files report size 0 but have content.
    const meminfo = await stack.api('GET', `/sandboxes/${sb}/files?path=/proc/meminfo`);
    expect(meminfo.status).toBe(200);
    expect(meminfo.body).toMatch(/^MemTotal:/);
  });

  it('answers 404 for missing paths and 400 for relative or invalid ones', async () => {
    expect((await stack.api('GET', `/sandboxes/${sb}/files?path=/tmp/${'n'.repeat(300)}`)).status).toBe(400);
    const missing = await stack.api('GET', `/sandboxes/${sb}/files?path=/no/such/file`);
    expect(missing.status).toBe(404);
    // The path is missing, not the container (dockerode words both 404s "no such container").
    expect(missing.body.message).toBe('/no/such/file does not exist');
    expect((await stack.api('GET', `/sandboxes/${sb}/files/list?path=/no/such/dir`)).status).toBe(404);
    expect((await stack.api('DELETE', `/sandboxes/${sb}/files?path=/no/such`)).status).toBe(404);
    const relative = await stack.api('GET', `/sandboxes/${sb}/files?path=etc/passwd`);
    expect(relative.status).toBe(400);
    expect(relative.body.message).toMatch(/absolute/);
    expect((await stack.api('GET', `/sandboxes/${sb}/files?path=/etc/%00passwd`)).status).toBe(400);
    expect((await stack.api('GET', `/sandboxes/${sb}/files?path=/etc`)).status).toBe(400);
    expect((await stack.api('GET', `/sandboxes/${sb}/files`)).status).toBe(400);
    // `..` cannot climb out of the container: it resolves to the container's own /etc/hostname.
    const climb = await stack.api('GET', `/sandboxes/${sb}/files?path=/../../../../etc/hostname`);
    expect(climb.body).toBe('sandbox\n');
    expect((await stack.api('GET', `/sandboxes/${sb}/files?path=/etc/hostname`, { as: 'bob' })).status).toBe(404);
    expect((await stack.api('GET', `/sandboxes/aaaaaaaaaaaaaaaaaaaa/files?path=/etc/hostname`)).status).toBe(404);
  });

  it('round-trips 100 MB with a checksum, streamed both ways', async () => {
    const size = 100 * 1024 * 1024;
    const upHash = createHash('sha256');
    let sent = 0;
    const source = Readable.from(
      (function* () {
        while (sent < size) {
          const chunk = randomBytes(Math.min(1 << 20, size - sent));
          sent += chunk.length;
          upHash.update(chunk);
          yield chunk;
        }
      })(),
    );
    const w = await put('/tmp/big.bin', Readable.toWeb(source) as unknown as Body);
    expect(w.status).toBe(201);
    expect(((await w.json()) as { size: number }).size).toBe(size);
    const expected = upHash.digest('hex');

    const inside = await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd: 'sha256sum /tmp/big.bin' } });
    expect(inside.body.stdout.split(' ')[0]).toBe(expected);

    const r = await fetch(`${stack.baseUrl}/sandboxes/${sb}/files?path=/tmp/big.bin`, { headers: auth() });
    expect(r.headers.get('content-length')).toBe(String(size));
    const downHash = createHash('sha256');
    let received = 0;
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      downHash.update(chunk);
      received += chunk.length;
    }
    expect(received).toBe(size);
    expect(downHash.digest('hex')).toBe(expected);
  });

  it('round-trips 32 MB sent with a Content-Length (the archive path)', async () => {
    const data = randomBytes(32 * 1024 * 1024);
    const w = await put('/tmp/sized.bin', data);
    expect(w.status).toBe(201);
    const expected = createHash('sha256').update(data).digest('hex');
    const inside = await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd: 'sha256sum /tmp/sized.bin' } });
    expect(inside.body.stdout.split(' ')[0]).toBe(expected);
    // Ranges near the start are cut from the archive stream, ranges far in are read by a seeking exec.
    for (const [range, from, to] of [['bytes=100-199', 100, 200], ['bytes=-1000', data.length - 1000, data.length], ['bytes=20000000-20000099', 20_000_000, 20_000_100]] as const) {
      const r = await fetch(`${stack.baseUrl}/sandboxes/${sb}/files?path=/tmp/sized.bin`, { headers: { ...auth(), range } });
      expect(r.status, range).toBe(206);
      expect(Buffer.from(await r.arrayBuffer()).equals(data.subarray(from, to)), range).toBe(true);
    }
  });

  it('keeps the sandbox usable during a slow upload or download, and writes nothing when an upload breaks off', async () => {
    await put('/tmp/keep.bin', 'original');
    const { eventually } = await import('../../helpers/stack.js');
    const run = async (cmd: string) => (await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd } })).body.stdout as string;
    // An upload that stalls after 1 MB of 8 MB: the sandbox still runs commands meanwhile.
    const req = http.request(`${stack.baseUrl}/sandboxes/${sb}/files?path=/tmp/keep.bin`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/octet-stream', 'content-length': String(8 * 1024 * 1024) },
    });
    const closed = new Promise<void>((resolve) => {
      req.on('error', () => resolve());
      req.on('close', () => resolve());
    });
    req.write(Buffer.alloc(1024 * 1024, 1));
    expect(await run('echo free')).toBe('free\n');
    req.destroy();
    await closed;
    await eventually(async () => (await run('ls -a /tmp | grep -c berth-upload || true')).trim() === '0');
    expect((await stack.api('GET', `/sandboxes/${sb}/files?path=/tmp/keep.bin`)).body).toBe('original');

    // A download read slowly (one chunk, then nothing): the sandbox still runs commands.
    await put('/tmp/slow.bin', randomBytes(24 * 1024 * 1024));
    const controller = new AbortController();
    const download = await fetch(`${stack.baseUrl}/sandboxes/${sb}/files?path=/tmp/slow.bin`, { headers: auth(), signal: controller.signal });
    const reader = (download.body as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).done).toBe(false);
    expect(await run('echo still free')).toBe('still free\n');
    controller.abort();
  });

  it('leaves nothing behind when an upload is aborted', async () => {
    const controller = new AbortController();
    let n = 0;
    const body = new ReadableStream({
      pull(c) {
        if (n++ === 20) {
          controller.abort();
          c.close();
          return;
        }
        c.enqueue(new Uint8Array(64 * 1024));
      },
    });
    await fetch(`${stack.baseUrl}/sandboxes/${sb}/files?path=/tmp/aborted.bin`, {
      method: 'PUT',
      headers: { ...auth(), 'content-type': 'application/octet-stream' },
      body,
      duplex: 'half',
      signal: controller.signal,
    } as RequestInit).catch(() => undefined);
    const { eventually } = await import('../../helpers/stack.js');
    await eventually(async () => {
      const ls = await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd: 'ls -a /tmp | grep -c -e aborted -e berth-upload || true' } });
      return ls.body.stdout.trim() === '0';
    });
  });
});
