/**
 * The TypeScript SDK against a live stack (real Temporal, real Docker, API on a random
 * port), plus its retry / timeout / abort rules against a local HTTP server started here.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  BerthError,
  CommandExitError,
  ConflictError,
  ConnectionConfig,
  InvalidArgumentError,
  NotFoundError,
  RateLimitedError,
  Sandbox,
  TimeoutError,
  UnauthorizedError,
  UnavailableError,
  Volume,
  type CommandStatus,
  type ConnectionOptions,
  type EntryInfo,
  type MetricSample,
  type SandboxEndpoint,
  type SandboxInfo,
  type SandboxListItem,
} from '../../sdk/typescript/src/index.js';
import { eventually, startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let conn: ConnectionOptions;
let sbx: Sandbox;
const suite = `sdk-${randomBytes(3).toString('hex')}`;
const tiny = { template: 'tiny', resources: { memoryMB: 128 } } as const;

beforeAll(async () => {
  stack = await startStack();
  conn = { apiUrl: stack.baseUrl, apiKey: stack.keys.alice };
  sbx = await Sandbox.create({ ...conn, ...tiny, timeoutMs: 300_000, metadata: { suite, role: 'main' }, envs: { GREETING: 'hello' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('lifecycle', () => {
  it('creates a running sandbox, connects to it by ID, and reads its info', async () => {
    expect(sbx.lastInfo).toMatchObject({ status: 'running', templateID: 'tiny', timeout: 300, metadata: { suite, role: 'main' } });
    expect(await sbx.isRunning()).toBe(true);
    const before = Date.now();
    const again = await Sandbox.connect(sbx.sandboxID, { ...conn, timeoutMs: 900_000 });
    expect(again.lastInfo?.sandboxID).toBe(sbx.sandboxID);
    expect(Date.parse(again.lastInfo?.endAt ?? '')).toBeGreaterThanOrEqual(before + 899_000); // connect keeps it alive that long
    const info = await again.getInfo();
    expect(info.status).toBe('running');
    expect(info.historyURL).toContain(sbx.sandboxID);
  });

  it('lists page by page with a metadata filter', async () => {
    const others = await Promise.all([1, 2].map(() => Sandbox.create({ ...conn, ...tiny, metadata: { suite, role: 'extra' } })));
    const expected = [sbx.sandboxID, ...others.map((o) => o.sandboxID)].sort();
    const pages = await eventually(async () => {
      const seen: string[][] = [];
      for await (const page of Sandbox.list({ ...conn, metadata: { suite }, limit: 1 })) if (page.length) seen.push(page.map((s) => s.sandboxID));
      return seen.flat().sort().join() === expected.join() ? seen : undefined;
    });
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages.every((p) => p.length === 1)).toBe(true);
    const items = [];
    for await (const item of Sandbox.list({ ...conn, metadata: { suite, role: 'extra' }, limit: 1 }).items()) items.push(item.sandboxID);
    expect(items.sort()).toEqual(others.map((o) => o.sandboxID).sort());
    // Another owner sees none of them.
    const bobs = [];
    for await (const item of Sandbox.list({ apiUrl: stack.baseUrl, apiKey: stack.keys.bob, metadata: { suite } }).items()) bobs.push(item);
    expect(bobs).toEqual([]);

    const [first, second] = others;
    expect(await first!.kill()).toBe(true);
    expect(await first!.kill()).toBe(false);
    expect(await Sandbox.kill(second!.sandboxID, conn)).toBe(true);
    expect(await Sandbox.kill(second!.sandboxID, conn)).toBe(false);
    expect(await first!.isRunning()).toBe(false);
    await expect(first!.getInfo()).rejects.toBeInstanceOf(NotFoundError);
    const events = await first!.events();
    expect(events.status).toBe('stopped');
    expect(events.events.at(-1)).toMatchObject({ status: 'stopped', reason: 'user' });
  });

  it('setTimeout may shorten the deadline, refresh never does', async () => {
    const before = Date.now();
    const set = await sbx.setTimeout(60_000);
    const endAt = Date.parse(set.endAt ?? '');
    expect(endAt).toBeGreaterThanOrEqual(before + 59_000);
    expect(endAt).toBeLessThanOrEqual(Date.now() + 61_000);
    const refreshed = await sbx.refresh(600_000);
    expect(Date.parse(refreshed.endAt ?? '')).toBeGreaterThanOrEqual(before + 599_000);
    const notShortened = await sbx.refresh(1_000);
    expect(Date.parse(notShortened.endAt ?? '')).toBeGreaterThanOrEqual(Date.parse(refreshed.endAt ?? ''));
    const shortened = await sbx.setTimeout(120_000);
    expect(Date.parse(shortened.endAt ?? '')).toBeLessThan(Date.parse(refreshed.endAt ?? ''));
    expect(shortened.timeout).toBe(120);
    await sbx.setTimeout(300_000);
  });

  it('creates with timeoutMode absolute: commands do not move endAt, setTimeout may shorten it', async () => {
    const abs = await Sandbox.create({ ...conn, ...tiny, timeoutMs: 300_000, timeoutMode: 'absolute', metadata: { suite, role: 'absolute' } });
    try {
      const info = await abs.getInfo();
      expect(info).toMatchObject({ timeoutMode: 'absolute', lifecycle: { timeoutMode: 'absolute' } });
      await abs.commands.run('true');
      expect((await abs.getInfo()).endAt).toBe(info.endAt);
      const shortened = await abs.setTimeout(30_000);
      expect(Date.parse(shortened.endAt ?? '')).toBeLessThan(Date.parse(info.endAt ?? ''));
    } finally {
      await abs.kill();
    }
  });

  it('pause and resume, with 409s as ConflictError', async () => {
    const paused = await sbx.pause();
    expect(paused.status).toBe('paused');
    expect(await sbx.isRunning()).toBe(false);
    await expect(sbx.pause()).rejects.toBeInstanceOf(ConflictError);
    await expect(sbx.commands.run('true')).rejects.toBeInstanceOf(ConflictError);
    const resumed = await sbx.resume();
    expect(resumed.status).toBe('running');
    await expect(sbx.resume()).rejects.toBeInstanceOf(ConflictError);
    const { events } = await sbx.events();
    expect(events.map((e) => e.status)).toEqual(expect.arrayContaining(['running', 'paused']));
  });

  it("pause({ mode: 'disk' }): the container is gone while paused, files are kept, processes start afresh", async () => {
    const disk = await Sandbox.create({ ...conn, ...tiny, timeoutMs: 300_000, metadata: { suite, role: 'disk-pause' } });
    try {
      await disk.files.write('/tmp/kept.txt', 'kept');
      await disk.commands.run('sleep 1000', { background: true });
      const sleepers = async () => (await disk.commands.run('ps -o args | grep "[s]leep 1000" | wc -l')).stdout.trim();
      await eventually(async () => (await sleepers()) !== '0', 10_000, 100); // running (with its wrappers)
      const paused = await disk.pause({ mode: 'disk' });
      expect(paused).toMatchObject({ status: 'paused', pausedMode: 'disk' });
      // Nothing held while paused: no container on the engine (a freeze keeps it, paused).
      expect(await stack.docker.listContainers({ all: true, filters: { label: [`berth.sandbox=${disk.sandboxID}`] } })).toEqual([]);
      await expect(disk.pause({ mode: 'disk' })).rejects.toBeInstanceOf(ConflictError);
      const resumed = await disk.resume();
      expect(resumed).toMatchObject({ status: 'running', pausedMode: null });
      expect(await disk.files.read('/tmp/kept.txt')).toBe('kept');
      expect(await sleepers()).toBe('0');
    } finally {
      await disk.kill();
    }
  });

  it('reports metrics and the proxy endpoint of a port', async () => {
    const metrics = await sbx.getMetrics();
    expect(metrics.sandboxID).toBe(sbx.sandboxID);
    expect(metrics.current.memoryLimitBytes).toBe(128 * 1024 * 1024);
    const endpoint = await sbx.getEndpoint(8080);
    expect(endpoint.url).toBe(sbx.getHost(8080));
    expect(endpoint.port).toBe(8080);
  });
});

describe('wire types', () => {
  // Every field of the SDK's types, checked by tsc to be exhaustive, against what the API really answers.
  const keys = <T>(fields: Record<keyof T, true>) => Object.keys(fields).sort();
  it('match the fields of the API\'s answers exactly', async () => {
    const info = await sbx.getInfo();
    expect(Object.keys(info).sort()).toEqual(
      keys<SandboxInfo>({
        sandboxID: true, templateID: true, status: true, createdAt: true, startedAt: true, endAt: true, timeout: true, timeoutMode: true, metadata: true,
        lifecycle: true, pausedMode: true, resources: true, network: true, host: true, runningTimeMs: true, stoppedAt: true, stopReason: true, stopDetail: true, historyURL: true,
      }),
    );
    const [item] = await Sandbox.list({ ...conn, metadata: { suite, role: 'main' } }).nextItems();
    expect(Object.keys(item ?? {}).sort()).toEqual(
      keys<SandboxListItem>({ sandboxID: true, templateID: true, status: true, createdAt: true, stoppedAt: true, stopReason: true, metadata: true, host: true, historyURL: true }),
    );
    const entry = await sbx.files.write('/tmp/keys.txt', 'k');
    expect(Object.keys(entry).sort()).toEqual(
      keys<EntryInfo>({ path: true, name: true, type: true, size: true, mode: true, uid: true, gid: true, owner: true, group: true, modifiedAt: true }),
    );
    const h = await sbx.commands.run('true', { background: true });
    expect(Object.keys(await h.status()).sort()).toEqual(
      keys<CommandStatus>({ cmdID: true, cmd: true, user: true, cwd: true, startedAt: true, pid: true, state: true, running: true, exitCode: true, timedOut: true }),
    );
    const metrics = await sbx.getMetrics();
    expect(Object.keys(metrics.current).sort()).toEqual(
      keys<MetricSample>({ at: true, cpuPercent: true, cpuLimit: true, memoryUsedBytes: true, memoryLimitBytes: true, diskUsedBytes: true }),
    );
    expect(Object.keys(await sbx.getEndpoint(80)).sort()).toEqual(
      keys<SandboxEndpoint>({ sandboxID: true, port: true, url: true, websocketUrl: true, auth: true, internal: true }),
    );
  });
});

describe('commands', () => {
  it('runs buffered, with envs, cwd and user; a non-zero exit throws CommandExitError', async () => {
    const r = await sbx.commands.run('echo $GREETING $EXTRA; pwd; id -u; echo oops >&2', { envs: { EXTRA: 'there' }, cwd: '/tmp', user: 'nobody' });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`hello there\n/tmp\n65534\n`);
    expect(r.stderr).toBe('oops\n');
    const argv = await sbx.commands.run(['echo', 'a b', '$HOME']);
    expect(argv.stdout).toBe('a b $HOME\n');
    const failed = await sbx.commands.run('echo partial; exit 3').catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(CommandExitError);
    expect(failed).toBeInstanceOf(BerthError);
    expect(failed).toMatchObject({ exitCode: 3, stdout: 'partial\n', timedOut: false });
    await expect(sbx.commands.run('true', { cwd: '/no/such/dir' })).rejects.toBeInstanceOf(InvalidArgumentError);
    const stdin = await sbx.commands.run('cat', { stdin: new Uint8Array([104, 105]) });
    expect(stdin.stdout).toBe('hi');
  });

  it('streams output to callbacks as it arrives', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const r = await sbx.commands.run('for i in 1 2 3; do echo $i; sleep 0.2; done; echo bad >&2; exit 5', {
      onStdout: (d) => void out.push(d),
      onStderr: (d) => void err.push(d),
    }).catch((e: unknown) => e);
    expect(r).toBeInstanceOf(CommandExitError);
    expect((r as CommandExitError).exitCode).toBe(5);
    expect(out.join('')).toBe('1\n2\n3\n');
    expect(out.length).toBeGreaterThanOrEqual(2); // arrived in pieces, not at the end
    expect(err.join('')).toBe('bad\n');
    expect((r as CommandExitError).stdout).toBe('1\n2\n3\n');
  });

  it('kills a command at its timeoutMs', async () => {
    const r = await sbx.commands.run('sleep 30', { timeoutMs: 1_000 }).catch((e: unknown) => e);
    expect(r).toBeInstanceOf(CommandExitError);
    expect(r).toMatchObject({ timedOut: true, exitCode: 137 });
  });

  it('runs in the background: handle with logs, wait, kill; reconnects by cmdID', async () => {
    const seen: string[] = [];
    const h = await sbx.commands.run('echo start; sleep 1; echo done; echo e >&2; exit 4', { background: true, onStdout: (d) => void seen.push(d) });
    expect(h.cmdID).toMatch(/\S/);
    const result = await h.wait().catch((e: unknown) => e);
    expect(result).toBeInstanceOf(CommandExitError);
    expect(result).toMatchObject({ exitCode: 4, stdout: 'start\ndone\n', stderr: 'e\n' });
    expect(seen.join('')).toBe('start\ndone\n');
    const again = await sbx.commands.connect(h.cmdID);
    const logs = await again.logs();
    expect(logs).toMatchObject({ stdout: 'start\ndone\n', stderr: 'e\n', status: { state: 'exited', exitCode: 4 } });

    const ok = await sbx.commands.run('echo fine', { background: true });
    expect((await ok.wait()).stdout).toBe('fine\n');

    const sleeper = await sbx.commands.run('sleep 300', { background: true });
    expect((await sleeper.status()).running).toBe(true);
    expect(await sleeper.kill()).toBe(true);
    const killed = await sleeper.wait().catch((e: unknown) => e);
    expect(killed).toBeInstanceOf(CommandExitError);
    expect((killed as CommandExitError).exitCode).not.toBe(0);
    expect(await sleeper.kill()).toBe(false);
    expect((await sbx.commands.list()).map((c) => c.cmdID)).toEqual(expect.arrayContaining([h.cmdID, sleeper.cmdID]));
    await expect(sbx.commands.connect('c_nope0000')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('an AbortSignal stops a foreground command (it is interrupted in the sandbox)', async () => {
    const ctl = new AbortController();
    const running = sbx.commands.run('sleep 47', { signal: ctl.signal });
    await eventually(async () => (await sbx.commands.run('ps')).stdout.includes('sleep 47'));
    ctl.abort();
    await expect(running).rejects.toBeInstanceOf(AbortedError);
    await eventually(async () => !(await sbx.commands.run('ps')).stdout.includes('sleep 47'));
    const streamed = new AbortController();
    const chunks: string[] = [];
    const stream = sbx.commands.run('echo first; sleep 46', { signal: streamed.signal, onStdout: (d) => {
      chunks.push(d);
      streamed.abort();
    } });
    await expect(stream).rejects.toBeInstanceOf(AbortedError);
    expect(chunks.join('')).toBe('first\n');
    await expect(sbx.getInfo({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });
});

describe('files', () => {
  it('round-trips text, bytes and streams, and manages entries', async () => {
    const entry = await sbx.files.write('/home/user/sdk/a.txt', 'héllo\n', { mode: 0o600 });
    expect(entry).toMatchObject({ path: '/home/user/sdk/a.txt', type: 'file', size: 7, mode: '600' });
    expect(await sbx.files.read('/home/user/sdk/a.txt')).toBe('héllo\n');

    const bytes = randomBytes(300_000);
    await sbx.files.write('/home/user/sdk/b.bin', bytes);
    expect(Buffer.from(await sbx.files.read('/home/user/sdk/b.bin', { format: 'bytes' })).equals(bytes)).toBe(true);

    const chunks = [Buffer.from('one '), Buffer.from('two '), Buffer.from('three')];
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        const next = chunks.shift();
        if (next) c.enqueue(next);
        else c.close();
      },
    });
    await sbx.files.write('/home/user/sdk/c.txt', source);
    const stream = await sbx.files.read('/home/user/sdk/c.txt', { format: 'stream' });
    expect(await new Response(stream).text()).toBe('one two three');

    expect((await sbx.files.list('/home/user/sdk')).entries.map((e) => e.name).sort()).toEqual(['a.txt', 'b.bin', 'c.txt']);
    expect((await sbx.files.stat('/home/user/sdk/b.bin')).size).toBe(300_000);
    expect(await sbx.files.exists('/home/user/sdk/nope')).toBe(false);
    expect((await sbx.files.mkdir('/home/user/sdk/deep/er')).type).toBe('dir');
    expect((await sbx.files.move('/home/user/sdk/a.txt', '/home/user/sdk/deep/er/a.txt')).path).toBe('/home/user/sdk/deep/er/a.txt');
    expect((await sbx.files.chmod('/home/user/sdk/deep/er/a.txt', { mode: '640' })).mode).toBe('640');
    expect((await sbx.files.search('/home/user/sdk', '*.txt')).entries.map((e) => e.path).sort()).toEqual([
      '/home/user/sdk/c.txt',
      '/home/user/sdk/deep/er/a.txt',
    ]);
    expect((await sbx.files.replace('/home/user/sdk/c.txt', 'two', '2')).replacements).toBe(1);
    expect(await sbx.files.read('/home/user/sdk/c.txt')).toBe('one 2 three');
    const batch = await sbx.files.writeFiles([{ path: '/home/user/sdk/x', data: 'x' }, { path: '/home/user/sdk/y', data: new Uint8Array([0, 255]) }]);
    expect(batch.map((e) => e.size)).toEqual([1, 2]);

    await expect(sbx.files.remove('/home/user/sdk/deep')).rejects.toBeInstanceOf(ConflictError);
    await sbx.files.remove('/home/user/sdk/deep', { recursive: true });
    expect(await sbx.files.exists('/home/user/sdk/deep')).toBe(false);
  });

  it('maps file errors: missing → NotFound, relative path → InvalidArgument, existing destination → Conflict', async () => {
    await expect(sbx.files.read('/home/user/missing.txt')).rejects.toBeInstanceOf(NotFoundError);
    const rel = await sbx.files.read('relative/path').catch((e: unknown) => e);
    expect(rel).toBeInstanceOf(InvalidArgumentError);
    expect((rel as InvalidArgumentError).status).toBe(400);
    await sbx.files.write('/tmp/m1', '1');
    await sbx.files.write('/tmp/m2', '2');
    await expect(sbx.files.move('/tmp/m1', '/tmp/m2')).rejects.toBeInstanceOf(ConflictError);
    expect((await sbx.files.move('/tmp/m1', '/tmp/m2', { overwrite: true })).size).toBe(1);
  });
});

describe('pty', () => {
  it('creates a terminal, types, resizes, reconnects by PID with the scrollback, and waits for the exit code', async () => {
    let out = '';
    const term = await sbx.pty.create({ cols: 90, rows: 20, onData: (d) => (out += Buffer.from(d).toString('latin1')) });
    expect(term.pid).toBeGreaterThan(1);
    const until = async (re: RegExp, get: () => string) => eventually(async () => re.test(get()), 30_000, 50);
    await term.sendInput('echo ts-$((40+2)); stty size\n');
    await until(/\r\nts-42\r\n20 90\r\n/, () => out);
    await term.resize({ cols: 101, rows: 31 });
    await term.sendInput(new Uint8Array(Buffer.from('stty size\n')));
    await until(/\r\n31 101\r\n/, () => out);
    expect((await sbx.pty.list()).map((p) => p.pid)).toContain(term.pid);

    term.disconnect();
    await sbx.pty.sendInput(term.pid, 'echo while-away\n'); // typed while nobody is attached
    let again = '';
    const back = await sbx.pty.connect(term.pid, { onData: (d) => (again += Buffer.from(d).toString('latin1')) });
    await until(/\r\nts-42\r\n[^]*\r\nwhile-away\r\n/, () => again);
    await back.sendInput('sleep 300\n');
    await eventually(async () => {
      await back.signal('INT');
      await back.sendInput('echo rc=$?\n');
      return /\r\nrc=130\r\n/.test(again);
    }, 30_000, 500);
    await back.sendInput('exit 3\n');
    expect(await back.wait()).toBe(3);
    // The first handle was disconnected: its wait() asks the API.
    expect(await term.wait()).toBe(3);
  });

  it('kill ends it (137); an unknown PID is NotFound; another owner cannot attach', async () => {
    const term = await sbx.pty.create({ cmd: ['sleep', '300'] });
    expect(await term.kill()).toBe(137);
    expect(await term.wait()).toBe(137);
    await expect(sbx.pty.connect(999_999)).rejects.toBeInstanceOf(NotFoundError);
    const other = await sbx.pty.create({ cmd: 'sleep 300' });
    const asBob = Sandbox.ref(sbx.sandboxID, { apiUrl: stack.baseUrl, apiKey: stack.keys.bob });
    await expect(asBob.pty.connect(other.pid)).rejects.toBeInstanceOf(NotFoundError);
    await expect(sbx.pty.create({ cols: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await other.kill();
  });
});

describe('volumes', () => {
  it('create → list → getInfo; a sandbox writes, a later one reads it read-only; destroy is 409 while mounted, then true, then false', async () => {
    const name = `sdkv-${randomBytes(4).toString('hex')}`;
    expect(await Volume.create(name, { ...conn, sizeMB: 64 })).toMatchObject({ name, sizeMB: 64, mountedBy: 0 });
    await expect(Volume.create(name, conn)).rejects.toBeInstanceOf(ConflictError);
    expect((await Volume.list(conn)).map((v) => v.name)).toContain(name);
    const writer = await Sandbox.create({ ...conn, ...tiny, timeoutMs: 120_000, volumes: [{ name, mountPath: '/data' }] });
    try {
      await writer.commands.run('echo kept > /data/f');
      expect((await Volume.getInfo(name, conn)).mountedBy).toBe(1);
      await expect(Volume.destroy(name, conn)).rejects.toBeInstanceOf(ConflictError);
    } finally {
      await writer.kill();
    }
    const reader = await Sandbox.create({ ...conn, ...tiny, timeoutMs: 120_000, volumes: [{ name, mountPath: '/ro', readOnly: true }] });
    try {
      expect((await reader.commands.run('cat /ro/f')).stdout).toBe('kept\n');
      await expect(reader.commands.run('echo x > /ro/g')).rejects.toBeInstanceOf(CommandExitError);
    } finally {
      await reader.kill();
    }
    // Another owner sees none of it.
    const bob = { apiUrl: stack.baseUrl, apiKey: stack.keys.bob };
    await expect(Volume.getInfo(name, bob)).rejects.toBeInstanceOf(NotFoundError);
    await expect(Sandbox.create({ ...bob, ...tiny, volumes: [{ name, mountPath: '/data' }] })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await Volume.destroy(name, conn)).toBe(true);
    expect(await Volume.destroy(name, conn)).toBe(false);
    await expect(Volume.getInfo(name, conn)).rejects.toBeInstanceOf(NotFoundError);
    await expect(Volume.create('Not A Name', conn)).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('error mapping', () => {
  it('unknown ID → NotFound, bad key → Unauthorized, bad input → InvalidArgument (with the server message)', async () => {
    const nf = await Sandbox.getInfo('unknownsandbox0', conn).catch((e: unknown) => e);
    expect(nf).toBeInstanceOf(NotFoundError);
    expect(nf).toMatchObject({ status: 404, code: 'not_found' });
    await expect(Sandbox.connect('unknownsandbox0', conn)).rejects.toBeInstanceOf(NotFoundError);
    // Another owner's sandbox is a 404 too.
    await expect(Sandbox.getInfo(sbx.sandboxID, { apiUrl: stack.baseUrl, apiKey: stack.keys.bob })).rejects.toBeInstanceOf(NotFoundError);

    const unauth = await Sandbox.list({ apiUrl: stack.baseUrl, apiKey: 'not-a-key' }).nextItems().catch((e: unknown) => e);
    expect(unauth).toBeInstanceOf(UnauthorizedError);
    expect(unauth).toMatchObject({ status: 401, code: 'unauthorized' });

    const bad = await Sandbox.create({ ...conn, metadata: { 'bad key!': 'x' } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect((bad as Error).message).toMatch(/metadata/);
    await expect(Sandbox.list({ ...conn, limit: 5000 }).nextItems()).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('kills the main sandbox once, then reports false', async () => {
    expect(await sbx.kill()).toBe(true);
    expect(await sbx.kill()).toBe(false);
    expect(await sbx.isRunning()).toBe(false);
    expect((await sbx.events()).events.at(-1)).toMatchObject({ status: 'stopped', reason: 'user' });
  });
});

describe('transport rules against a local HTTP server', () => {
  type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;
  async function serve(handler: Handler): Promise<{ url: string; times: number[]; close: () => Promise<void> }> {
    const times: number[] = [];
    const server = http.createServer((req, res) => {
      times.push(Date.now());
      handler(req, res, times.length);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      times,
      close: () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    };
  }
  const info = { sandboxID: 'abc', status: 'running' };
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  it('retries a 503 after the Retry-After delay, then succeeds', async () => {
    const s = await serve((req, res, n) => {
      if (n <= 2) json(res, 503, { code: 'unavailable', message: 'busy, retry' }, { 'retry-after': '1' });
      else json(res, 200, info);
    });
    try {
      const got = await Sandbox.getInfo('abc', { apiUrl: s.url, apiKey: 'k' });
      expect(got).toMatchObject(info);
      expect(s.times).toHaveLength(3);
      expect(s.times[1]! - s.times[0]!).toBeGreaterThanOrEqual(950);
      expect(s.times[2]! - s.times[1]!).toBeGreaterThanOrEqual(950);
    } finally {
      await s.close();
    }
  });

  it('gives up after maxRetries: 503 → UnavailableError, 429 → RateLimitedError', async () => {
    const s = await serve((req, res) => {
      if (req.url?.startsWith('/sandboxes/a')) json(res, 503, { code: 'unavailable', message: 'down' }, { 'retry-after': '0' });
      else json(res, 429, { code: 'quota_exceeded', message: 'too many sandboxes' }, { 'retry-after': '0' });
    });
    try {
      const e503 = await Sandbox.getInfo('a', { apiUrl: s.url, maxRetries: 2 }).catch((e: unknown) => e);
      expect(e503).toBeInstanceOf(UnavailableError);
      expect(e503).toMatchObject({ status: 503, code: 'unavailable', message: 'down' });
      expect(s.times).toHaveLength(3);
      const e429 = await Sandbox.getInfo('b', { apiUrl: s.url, maxRetries: 1 }).catch((e: unknown) => e);
      expect(e429).toBeInstanceOf(RateLimitedError);
      expect(s.times).toHaveLength(5);
    } finally {
      await s.close();
    }
  });

  it('requestTimeoutMs → TimeoutError; an AbortSignal → AbortedError (also during a Retry-After wait)', async () => {
    const s = await serve((req, res) => {
      if (req.url?.startsWith('/sandboxes/slow')) return; // never answers
      json(res, 503, { code: 'unavailable', message: 'busy' }, { 'retry-after': '30' });
    });
    try {
      await expect(Sandbox.getInfo('slow', { apiUrl: s.url, requestTimeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
      const ctl = new AbortController();
      const pending = Sandbox.getInfo('slow', { apiUrl: s.url, requestTimeoutMs: 0, signal: ctl.signal });
      setTimeout(() => ctl.abort(), 200);
      await expect(pending).rejects.toBeInstanceOf(AbortedError);
      const waiting = new AbortController();
      const retrying = Sandbox.getInfo('busy', { apiUrl: s.url, signal: waiting.signal });
      await eventually(async () => s.times.length >= 3);
      waiting.abort();
      await expect(retrying).rejects.toBeInstanceOf(AbortedError);
    } finally {
      await s.close();
    }
  });

  it('a streamed answer read to its end stops listening to the caller\'s signal (no listener leak on a reused signal)', async () => {
    const s = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('bytes');
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const shared = new AbortController();
      const files = Sandbox.ref('abc', { apiUrl: s.url }).files;
      for (let i = 0; i < 15; i++) expect(await new Response(await files.read('/x', { format: 'stream', signal: shared.signal })).text()).toBe('bytes');
      await new Promise((r) => setTimeout(r, 50)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => /abort/i.test(w))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await s.close();
    }
  });

  it('sends the key from BERTH_API_KEY to BERTH_API_URL', async () => {
    let auth: string | undefined;
    const s = await serve((req, res) => {
      auth = req.headers.authorization;
      json(res, 200, info);
    });
    try {
      const config = new ConnectionConfig({}, { BERTH_API_URL: `${s.url}/`, BERTH_API_KEY: 'from-env' });
      expect(config.apiUrl).toBe(s.url);
      await Sandbox.getInfo('abc', config.toOptions());
      expect(auth).toBe('Bearer from-env');
      expect(new ConnectionConfig({}, {}).apiUrl).toBe('http://127.0.0.1:3000');
    } finally {
      await s.close();
    }
  });

  it('a refused connection is an UnavailableError naming the URL', async () => {
    const s = await serve(() => undefined);
    const url = s.url;
    await s.close();
    const e = await Sandbox.getInfo('x', { apiUrl: url, maxRetries: 0 }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UnavailableError);
    expect((e as Error).message).toContain(url);
  });
});
