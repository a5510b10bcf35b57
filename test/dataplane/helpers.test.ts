import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseStatusRecords, stripFirstLine } from '../../src/dataplane/commands.js';
import { collect, demuxer } from '../../src/dataplane/exec.js';
import { parseStatLine } from '../../src/dataplane/files.js';
import { cpuPercentBetween } from '../../src/dataplane/metrics.js';
import { formatLogCursor, parseByteRange, parseLogCursor, parseMode, parseOwner, parseSignal, sandboxPath, trimLogsToUtf8, utf8CompleteLength } from '../../src/dataplane/paths.js';
import { parsePort, rewriteLocation, upstreamHeaders } from '../../src/dataplane/proxy.js';
import { upstreamPath } from '../../src/api/rest/endpoints.js';
import { parseTime } from '../../src/api/rest/metrics.js';

describe('sandbox paths', () => {
  it('accepts absolute paths and normalizes them', () => {
    expect(sandboxPath('/home/user/a.txt')).toBe('/home/user/a.txt');
    expect(sandboxPath('/home//user/./x/../a.txt')).toBe('/home/user/a.txt');
    expect(sandboxPath('/tmp/dir/')).toBe('/tmp/dir');
    expect(sandboxPath('/')).toBe('/');
    expect(sandboxPath('/../../etc/passwd')).toBe('/etc/passwd');
  });
  it('rejects relative, empty, NUL-containing and over-long paths with 400', () => {
    for (const bad of ['etc/passwd', './a', '', '~/a', '/a\0b', `/${'a'.repeat(5000)}`, undefined, 42]) {
      expect(() => sandboxPath(bad)).toThrow(expect.objectContaining({ status: 400 }));
    }
  });
});

describe('byte ranges', () => {
  it('parses the three forms', () => {
    expect(parseByteRange(undefined, 10)).toBeUndefined();
    expect(parseByteRange('bytes=0-3', 10)).toEqual({ start: 0, end: 3 });
    expect(parseByteRange('bytes=4-', 10)).toEqual({ start: 4, end: 9 });
    expect(parseByteRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseByteRange('bytes=5-100', 10)).toEqual({ start: 5, end: 9 });
    expect(parseByteRange('bytes=-100', 10)).toEqual({ start: 0, end: 9 });
  });
  it('flags unsatisfiable ranges and rejects malformed ones', () => {
    expect(parseByteRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=5-2', 10)).toBe('unsatisfiable');
    expect(parseByteRange('bytes=-0', 10)).toBe('unsatisfiable');
    expect(() => parseByteRange('bytes=0-1,3-4', 10)).toThrow(/one range/);
    expect(() => parseByteRange('items=0-1', 10)).toThrow();
  });
});

describe('modes, owners, signals, cursors, ports, times', () => {
  it('parses octal modes', () => {
    expect(parseMode('644')).toBe('644');
    expect(parseMode('0755')).toBe('755');
    expect(parseMode('4755')).toBe('4755');
    expect(parseMode(600)).toBe('600');
    expect(() => parseMode('999')).toThrow();
    expect(() => parseMode('u+x')).toThrow();
  });
  it('accepts user names and ids only', () => {
    expect(parseOwner('user', 'owner')).toBe('user');
    expect(parseOwner('1000', 'owner')).toBe('1000');
    expect(() => parseOwner('a;rm -rf', 'owner')).toThrow();
    expect(() => parseOwner('-R', 'owner')).toThrow();
  });
  it('normalizes signals', () => {
    expect(parseSignal('SIGTERM')).toBe('TERM');
    expect(parseSignal('kill')).toBe('KILL');
    expect(parseSignal(undefined)).toBe('TERM');
    expect(() => parseSignal('SEGV')).toThrow();
  });
  it('round-trips log cursors', () => {
    expect(parseLogCursor(undefined)).toEqual({ stdout: 0, stderr: 0 });
    expect(parseLogCursor(formatLogCursor({ stdout: 12, stderr: 3 }))).toEqual({ stdout: 12, stderr: 3 });
    expect(() => parseLogCursor('12')).toThrow();
    expect(() => parseLogCursor('-1.0')).toThrow();
  });
  it('validates ports and times', () => {
    expect(parsePort('8080')).toBe(8080);
    for (const bad of ['0', '65536', 'http', '1.5']) expect(() => parsePort(bad)).toThrow();
    expect(parseTime('1700000000000', 'start')).toBe(1_700_000_000_000);
    expect(parseTime('2024-01-01T00:00:00Z', 'start')).toBe(Date.parse('2024-01-01T00:00:00Z'));
    expect(parseTime(undefined, 'start')).toBeUndefined();
    expect(() => parseTime('soon', 'start')).toThrow();
  });
});

describe('parsers of in-container helper output', () => {
  it('parses stat lines (names with spaces; type from the raw mode)', () => {
    expect(parseStatLine('12 81a4 1000 1000 1700000000 user user /home/user/my file.txt')).toEqual({
      path: '/home/user/my file.txt',
      name: 'my file.txt',
      type: 'file',
      size: 12,
      mode: '644',
      uid: 1000,
      gid: 1000,
      owner: 'user',
      group: 'user',
      modifiedAt: new Date(1_700_000_000_000).toISOString(),
    });
    expect(parseStatLine('4096 41ed 0 0 1 root root /')).toMatchObject({ type: 'dir', mode: '755', name: '/' });
    expect(parseStatLine('7 a1ff 0 0 1 root root /bin/sh')).toMatchObject({ type: 'symlink', mode: '777' });
    expect(parseStatLine('garbage')).toBeNull();
  });
  it('parses command status records', () => {
    const raw = Buffer.from(
      ['cabc', '{"cmd":"sleep 1","user":null,"cwd":"/tmp","startedAt":"2024-01-01T00:00:00.000Z"}', '42', 'exited', '0', '0'].join('\0') +
        '\0' +
        ['cdef', '', '', 'running', '', '1'].join('\0') +
        '\0',
    );
    const [a, b] = parseStatusRecords(raw);
    expect(a).toMatchObject({ cmdID: 'cabc', cmd: 'sleep 1', cwd: '/tmp', pid: 42, state: 'exited', running: false, exitCode: 0, timedOut: false });
    expect(b).toMatchObject({ cmdID: 'cdef', pid: null, state: 'running', running: true, exitCode: null, timedOut: true });
  });
  it('strips the PID line from stderr, also when split across chunks', async () => {
    let pid = '';
    const out = Readable.from([Buffer.from('12'), Buffer.from('3\nerr'), Buffer.from('or\n')]).pipe(stripFirstLine((l) => (pid = l)));
    expect((await collect(out, 100)).data.toString()).toBe('error\n');
    expect(pid).toBe('123');
  });
  it('demultiplexes Docker attach frames, split anywhere', async () => {
    const frame = (stream: number, text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(8);
      head[0] = stream;
      head.writeUInt32BE(body.length, 4);
      return Buffer.concat([head, body]);
    };
    const wire = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world'), frame(1, '')]);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const demux = demuxer(stdout, stderr);
    for (let i = 0; i < wire.length; i += 3) demux.write(wire.subarray(i, i + 3));
    demux.end();
    await new Promise((r) => demux.on('finish', r));
    stdout.end();
    stderr.end();
    expect((await collect(stdout, 100)).data.toString()).toBe('hello world');
    expect((await collect(stderr, 100)).data.toString()).toBe('oops');
  });
  it('caps collected output and counts the rest', async () => {
    const res = await collect(Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), 8);
    expect(res).toMatchObject({ total: 12, truncated: true });
    expect(res.data.length).toBe(8);
  });
});

describe('paths that cannot be valid', () => {
  it('refuses line breaks and over-long components with a 400', () => {
    expect(() => sandboxPath('/tmp/a\nb')).toThrow(/line breaks/);
    expect(() => sandboxPath(`/tmp/${'x'.repeat(256)}`)).toThrow(/255 bytes/);
    expect(sandboxPath(`/tmp/${'x'.repeat(255)}`)).toBe(`/tmp/${'x'.repeat(255)}`);
  });
});

describe('UTF-8 boundaries in log reads', () => {
  it('holds back an incomplete character at the end, never a complete one', () => {
    const euro = Buffer.from('€'); // 3 bytes
    const emoji = Buffer.from('😀'); // 4 bytes
    expect(utf8CompleteLength(Buffer.from('abc'))).toBe(3);
    expect(utf8CompleteLength(Buffer.concat([Buffer.from('a'), euro]))).toBe(4);
    expect(utf8CompleteLength(Buffer.concat([Buffer.from('a'), euro.subarray(0, 2)]))).toBe(1);
    expect(utf8CompleteLength(Buffer.concat([Buffer.from('a'), emoji.subarray(0, 3)]))).toBe(1);
    expect(utf8CompleteLength(Buffer.concat([Buffer.from('a'), emoji.subarray(0, 1)]))).toBe(1);
    expect(utf8CompleteLength(Buffer.alloc(0))).toBe(0);
    expect(utf8CompleteLength(Buffer.from([0x80, 0x80, 0x80, 0x80]))).toBe(4); // not UTF-8: nothing to wait for
  });
  it('moves the cursor only past the bytes returned, unless the read is final', () => {
    const text = Buffer.from('x€');
    const cut = { stdout: text.subarray(0, 3), stderr: Buffer.from('e') };
    expect(trimLogsToUtf8(cut, { stdout: 10, stderr: 5 }, false)).toMatchObject({ cursor: '11.6' });
    expect(trimLogsToUtf8(cut, { stdout: 10, stderr: 5 }, false).stdout.toString()).toBe('x');
    expect(trimLogsToUtf8(cut, { stdout: 10, stderr: 5 }, true)).toMatchObject({ cursor: '13.6' });
  });
});

describe('proxy redirects', () => {
  it("rewrites redirects to the server's own paths under the proxy prefix, and leaves others alone", () => {
    const prefix = '/sandboxes/abc/proxy/8000';
    expect(rewriteLocation('/docs/', prefix, ['172.17.0.5:8000'])).toBe('/sandboxes/abc/proxy/8000/docs/');
    expect(rewriteLocation('http://172.17.0.5:8000/a?b=1', prefix, ['172.17.0.5:8000'])).toBe('/sandboxes/abc/proxy/8000/a?b=1');
    expect(rewriteLocation('http://172.17.0.5:8000', prefix, ['172.17.0.5:8000'])).toBe('/sandboxes/abc/proxy/8000/');
    expect(rewriteLocation('next', prefix, ['172.17.0.5:8000'])).toBe('next');
    expect(rewriteLocation('//cdn.example/x', prefix, ['172.17.0.5:8000'])).toBe('//cdn.example/x');
    expect(rewriteLocation('https://example.com/login', prefix, ['172.17.0.5:8000'])).toBe('https://example.com/login');
  });
});

describe('metrics and proxy helpers', () => {
  it('computes CPU % like docker stats', () => {
    expect(cpuPercentBetween(undefined, { atMs: 0, total: 0, system: 0, online: 2 })).toBeNull();
    expect(cpuPercentBetween({ atMs: 0, total: 0, system: 0, online: 2 }, { atMs: 1, total: 50, system: 100, online: 2 })).toBe(100);
    expect(cpuPercentBetween({ atMs: 0, total: 10, system: 10, online: 1 }, { atMs: 1, total: 10, system: 10, online: 1 })).toBe(0);
  });
  it('computes the upstream path and drops berth credentials', () => {
    expect(upstreamPath('/sandboxes/abc/proxy/8080/a/b?x=1')).toBe('/a/b?x=1');
    expect(upstreamPath('/sandboxes/abc/proxy/8080')).toBe('/');
    expect(upstreamPath('/sandboxes/abc/proxy/8080?x=1')).toBe('/?x=1');
    expect(upstreamPath('/sandboxes/abc/files')).toBeUndefined();
    const headers = upstreamHeaders({ authorization: 'Bearer k', 'x-api-key': 'k', host: 'api', accept: 'text/html', connection: 'upgrade', upgrade: 'websocket' }, '172.17.0.2:80');
    expect(headers).toEqual({ accept: 'text/html', host: '172.17.0.2:80' });
    expect(upstreamHeaders({ connection: 'Upgrade', upgrade: 'websocket' }, 'h', true)).toEqual({ connection: 'Upgrade', upgrade: 'websocket', host: 'h' });
  });
});
