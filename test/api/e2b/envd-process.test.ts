/**
 * berth's envd, process.Process, over plain HTTP Connect-RPC (JSON + enveloped streams) against
 * real sandboxes (real Temporal, real Docker).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envdAccessToken } from '../../../src/api/e2b/access-token.js';
import { envelope, output, serverStream, unary, type EnvdTarget } from '../../helpers/envd.js';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
let t: EnvdTarget;

const sh = (script: string, extra: Record<string, unknown> = {}) => ({ process: { cmd: '/bin/sh', args: ['-c', script] }, ...extra });

beforeAll(async () => {
  stack = await startStack();
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300 } });
  expect(res.status).toBe(201);
  t = { stack, sandboxID: res.body.sandboxID };
});
afterAll(async () => {
  await stack?.stop();
});

describe('process.Start', () => {
  it('streams start{pid}, stdout and stderr bytes, then end{exitCode}', async () => {
    const res = await serverStream(t, 'process.Process/Start', sh('echo out; echo err >&2; exit 3', { stdin: false }));
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('application/connect+json');
    expect(res.messages[0].event.start.pid).toBeGreaterThan(0);
    expect(output(res.messages, 'stdout')).toBe('out\n');
    expect(output(res.messages, 'stderr')).toBe('err\n');
    const end = res.messages.at(-1).event.end;
    expect(end).toEqual({ exitCode: 3, exited: true, status: 'exit status 3' });
    expect(res.trailer).toEqual({});
  });

  it('runs as the Basic-auth user (default user), with envs, in the home folder; relative cwd resolves there', async () => {
    const id = await serverStream(t, 'process.Process/Start', sh('id -un; pwd; echo $GREETING', { stdin: false }), {});
    expect(output(id.messages, 'stdout')).toBe('user\n/home/user\n\n');
    const root = await serverStream(
      t,
      'process.Process/Start',
      { process: { cmd: '/bin/sh', args: ['-c', 'id -un; pwd; echo $GREETING'], envs: { GREETING: 'hi' }, cwd: '/tmp' }, stdin: false },
      { headers: { authorization: `Basic ${Buffer.from('root:').toString('base64')}` } },
    );
    expect(output(root.messages, 'stdout')).toBe('root\n/tmp\nhi\n');
  });

  it('with stdin: SendInput writes to the process, CloseStdin gives it EOF', async () => {
    let pid = 0;
    const done = serverStream(t, 'process.Process/Start', sh('cat; echo done'), {
      onMessage: async (m) => {
        if (m.event?.start) {
          pid = m.event.start.pid;
          const sent = await unary(t, 'process.Process/SendInput', { process: { pid }, input: { stdin: Buffer.from('abc\n').toString('base64') } });
          expect(sent.status).toBe(200);
          expect((await unary(t, 'process.Process/CloseStdin', { process: { pid } })).status).toBe(200);
        }
      },
    });
    const res = await done;
    expect(output(res.messages, 'stdout')).toBe('abc\ndone\n');
    expect(res.messages.at(-1).event.end.exitCode).toBe(0);
  });

  it('"stdin": false (e2b 2.63) gives the process EOF at once; without it stdin stays open', async () => {
    const closed = await serverStream(t, 'process.Process/Start', sh('cat; echo eof', { stdin: false }));
    expect(output(closed.messages, 'stdout')).toBe('eof\n');
    const open = await serverStream(t, 'process.Process/Start', sh('cat; echo eof'), { stopWhen: (m) => m.length > 0 });
    const pid = open.messages[0].event.start.pid;
    await new Promise((r) => setTimeout(r, 300));
    expect((await unary(t, 'process.Process/List', {})).body.processes.map((p: { pid: number }) => p.pid)).toContain(pid);
    expect((await unary(t, 'process.Process/SendSignal', { process: { pid }, signal: 'SIGNAL_SIGKILL' })).status).toBe(200);
  });

  it('a bad cwd ends the stream with invalid_argument, a missing cmd too (HTTP 200, error in the end message)', async () => {
    const cwd = await serverStream(t, 'process.Process/Start', { process: { cmd: '/bin/true', cwd: '/nope/missing' }, stdin: false });
    expect(cwd.status).toBe(200);
    expect(cwd.trailer.error.code).toBe('invalid_argument');
    const noCmd = await serverStream(t, 'process.Process/Start', { process: {} });
    expect(noCmd.trailer.error).toEqual({ code: 'invalid_argument', message: expect.stringContaining('process.cmd') });
  });
});

describe('background processes', () => {
  it('outlive the stream that started them: List, Connect by pid and by tag, SendSignal; then not_found', async () => {
    const started = await serverStream(t, 'process.Process/Start', sh('i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.2; done', { stdin: false, tag: 'ticker' }), {
      stopWhen: (m) => m.some((x) => x.event?.data),
    });
    const pid = started.messages[0].event.start.pid;
    const list = await unary(t, 'process.Process/List', {});
    expect(list.status).toBe(200);
    expect(list.body.processes).toContainEqual({ config: { cmd: '/bin/sh', args: ['-c', expect.stringContaining('tick')], envs: {}, cwd: '/home/user' }, pid, tag: 'ticker' });

    const byPid = await serverStream(t, 'process.Process/Connect', { process: { pid } }, { stopWhen: (m) => output(m, 'stdout').includes('tick') });
    expect(byPid.messages[0].event.start.pid).toBe(pid);
    const byTag = await serverStream(t, 'process.Process/Connect', { process: { tag: 'ticker' } }, { stopWhen: (m) => output(m, 'stdout').includes('tick') });
    expect(byTag.messages[0].event.start.pid).toBe(pid);

    // A connected stream sees the end when the process is killed.
    const watching = serverStream(t, 'process.Process/Connect', { process: { pid } });
    await new Promise((r) => setTimeout(r, 300));
    expect((await unary(t, 'process.Process/SendSignal', { process: { pid }, signal: 'SIGNAL_SIGKILL' })).status).toBe(200);
    const ended = await watching;
    expect(ended.messages.at(-1).event.end).toMatchObject({ exited: true, status: 'signal: killed' });
    await eventually(async () => (await unary(t, 'process.Process/List', {})).body.processes.every((p: { pid: number }) => p.pid !== pid));
    const again = await unary(t, 'process.Process/SendSignal', { process: { pid }, signal: 'SIGNAL_SIGKILL' });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('not_found');
  });

  it('keepalive messages flow at the client\'s Keepalive-Ping-Interval', async () => {
    const res = await serverStream(t, 'process.Process/Start', sh('sleep 2.5; echo late', { stdin: false }), { headers: { 'keepalive-ping-interval': '1' } });
    expect(res.messages.filter((m) => m.event?.keepalive).length).toBeGreaterThanOrEqual(1);
    expect(output(res.messages, 'stdout')).toBe('late\n');
  });

  it('connect-timeout-ms ends the stream with deadline_exceeded while the process keeps running', async () => {
    const res = await serverStream(t, 'process.Process/Start', sh('sleep 3; echo finished > /tmp/deadline-proof', { stdin: false }), { headers: { 'connect-timeout-ms': '500' } });
    expect(res.trailer.error.code).toBe('deadline_exceeded');
    const pid = res.messages[0].event.start.pid;
    expect((await unary(t, 'process.Process/List', {})).body.processes.map((p: { pid: number }) => p.pid)).toContain(pid);
    await eventually(async () => (await unary(t, 'filesystem.Filesystem/Stat', { path: '/tmp/deadline-proof' })).status === 200, 20_000);
  });

  it('StreamInput (client stream, whole body over HTTP/1.1) writes in order', async () => {
    let pid = 0;
    const res = await serverStream(t, 'process.Process/Start', sh('head -c 6; echo'), {
      onMessage: async (m) => {
        if (!m.event?.start) return;
        pid = m.event.start.pid;
        const body = Buffer.concat([
          envelope(0, { start: { process: { pid } } }),
          envelope(0, { data: { input: { stdin: Buffer.from('abc').toString('base64') } } }),
          envelope(0, { keepalive: {} }),
          envelope(0, { data: { input: { stdin: Buffer.from('def').toString('base64') } } }),
          envelope(2, {}),
        ]);
        const r = await fetch(`${stack.envdUrl}/process.Process/StreamInput`, {
          method: 'POST',
          headers: { 'content-type': 'application/connect+json', 'x-api-key': stack.keys.alice!, 'e2b-sandbox-id': t.sandboxID },
          body,
        });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      },
    });
    expect(output(res.messages, 'stdout')).toBe('abcdef\n');
  });
});

describe('pty', () => {
  it('Start with pty: input as pty bytes, Update resizes, Connect re-attaches with the scrollback, SIGKILL ends it', async () => {
    let pid = 0;
    const ptyOut = (m: any[]) => m.map((x) => x.event?.data?.pty).filter(Boolean).map((d: string) => Buffer.from(d, 'base64').toString('utf8')).join(''); // eslint-disable-line @typescript-eslint/no-explicit-any
    const first = await serverStream(t, 'process.Process/Start', { process: { cmd: '/bin/sh', args: ['-i'], envs: { PS1: '$ ' } }, pty: { size: { cols: 80, rows: 24 } } }, {
      onMessage: async (m) => {
        if (!m.event?.start) return;
        pid = m.event.start.pid;
        const input = Buffer.from('echo $((6*7)); stty size\n').toString('base64');
        expect((await unary(t, 'process.Process/SendInput', { process: { pid }, input: { pty: input } })).status).toBe(200);
      },
      stopWhen: (m) => ptyOut(m).includes('24 80'),
    });
    expect(ptyOut(first.messages)).toContain('42');
    expect((await unary(t, 'process.Process/List', {})).body.processes.map((p: { pid: number }) => p.pid)).toContain(pid);
    // stdin-style input to a pty is refused with a clear code.
    expect(await unary(t, 'process.Process/SendInput', { process: { pid }, input: { stdin: 'YQ==' } })).toMatchObject({ status: 400, body: { code: 'failed_precondition' } });
    expect((await unary(t, 'process.Process/Update', { process: { pid }, pty: { size: { cols: 100, rows: 30 } } })).status).toBe(200);
    const again = await serverStream(t, 'process.Process/Connect', { process: { pid } }, {
      onMessage: async (m) => {
        if (m.event?.start) await unary(t, 'process.Process/SendInput', { process: { pid }, input: { pty: Buffer.from('stty size\n').toString('base64') } });
      },
      stopWhen: (m) => ptyOut(m).includes('30 100'),
    });
    expect(ptyOut(again.messages)).toContain('42'); // replayed from the scrollback
    const ending = serverStream(t, 'process.Process/Connect', { process: { pid } });
    await new Promise((r) => setTimeout(r, 300));
    expect((await unary(t, 'process.Process/SendSignal', { process: { pid }, signal: 'SIGNAL_SIGKILL' })).status).toBe(200);
    expect((await ending).messages.at(-1).event.end.exited).toBe(true);
  });
});

describe('errors and access', () => {
  it('answers Connect error codes, never a 500', async () => {
    const missing = await unary(t, 'process.Process/SendInput', { process: { pid: 999999 }, input: { stdin: 'YQ==' } });
    expect(missing).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const badJson = await unary(t, 'process.Process/List', '{nope');
    expect(badJson).toMatchObject({ status: 400, body: { code: 'invalid_argument' } });
    const badType = await unary(t, 'process.Process/List', '{}', { 'content-type': 'application/proto' });
    expect(badType).toMatchObject({ status: 400, body: { code: 'invalid_argument', message: expect.stringContaining('JSON') } });
    const badSignal = await unary(t, 'process.Process/SendSignal', { process: { pid: 1 }, signal: 'SIGNAL_SIGHUP' });
    expect(badSignal.status).toBe(404); // pid 1 is not one of envd's processes
    const noSelector = await unary(t, 'process.Process/SendSignal', { signal: 'SIGNAL_SIGKILL' });
    expect(noSelector).toMatchObject({ status: 400, body: { code: 'invalid_argument' } });
    const unknown = await unary(t, 'process.Process/Nope', {});
    expect(unknown).toMatchObject({ status: 501, body: { code: 'unimplemented' } });
    const badUser = await unary(t, 'process.Process/List', {}, { authorization: `Basic ${Buffer.from('no body:').toString('base64')}` });
    expect(badUser).toMatchObject({ status: 400, body: { code: 'invalid_argument' } });
  });

  it('needs credentials; another owner sees not_found; the envd access token alone names the sandbox', async () => {
    const none = await unary({ ...t, headers: { 'e2b-sandbox-id': t.sandboxID } }, 'process.Process/List', {});
    expect(none).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    const wrongKey = await unary({ ...t, headers: { 'x-api-key': 'not-a-key-at-all', 'e2b-sandbox-id': t.sandboxID } }, 'process.Process/List', {});
    expect(wrongKey).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    const bob = await unary({ ...t, headers: { 'x-api-key': stack.keys.bob!, 'e2b-sandbox-id': t.sandboxID } }, 'process.Process/List', {});
    expect(bob).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const bobStream = await serverStream({ ...t, headers: { 'x-api-key': stack.keys.bob!, 'e2b-sandbox-id': t.sandboxID } }, 'process.Process/Start', sh('echo no'));
    expect(bobStream.trailer.error.code).toBe('not_found');

    const token = envdAccessToken(stack.config.secretKeyHex, t.sandboxID, stack.owners.alice!);
    const byToken = await serverStream({ ...t, headers: { 'x-access-token': token } }, 'process.Process/Start', sh('echo via-token', { stdin: false }));
    expect(output(byToken.messages, 'stdout')).toBe('via-token\n');
    const forged = envdAccessToken('00'.repeat(32), t.sandboxID, stack.owners.alice!);
    expect(await unary({ ...t, headers: { 'x-access-token': forged } }, 'process.Process/List', {})).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
    const bobsToken = envdAccessToken(stack.config.secretKeyHex, t.sandboxID, stack.owners.bob!);
    expect(await unary({ ...t, headers: { 'x-access-token': bobsToken } }, 'process.Process/List', {})).toMatchObject({ status: 404, body: { code: 'not_found' } });
    const mismatch = await unary({ ...t, headers: { 'x-access-token': token, 'e2b-sandbox-id': 'aaaaaaaaaaaaaaaaaaaa' } }, 'process.Process/List', {});
    expect(mismatch).toMatchObject({ status: 401, body: { code: 'unauthenticated' } });
  });

  it('serves /health', async () => {
    expect((await fetch(`${stack.envdUrl}/health`)).status).toBe(204);
  });
});
