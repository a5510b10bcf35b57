/** Interactive terminals over REST + WebSocket, against the real Docker engine and Temporal. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';
import { createTinyAndBase } from '../../helpers/sandboxes.js';
import { TermClient } from '../../helpers/pty-client.js';

let stack: TestStack;
let tiny: string;
let base: string;

beforeAll(async () => {
  stack = await startStack({ owners: ['alice', 'bob', 'carol'], env: { BERTH_MAX_PTYS_PER_OWNER: '3', BERTH_PTY_EXIT_GRACE_MS: '60000' } });
  ({ tiny, base } = await createTinyAndBase(stack));
});
afterAll(async () => {
  await stack?.stop();
});

async function createPty(sandboxID: string, body: Record<string, unknown> = {}, as = 'alice') {
  const res = await stack.api('POST', `/sandboxes/${sandboxID}/pty`, { body, as });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { pid: number; cols: number; rows: number; running: boolean };
}

const open = (sandboxID: string, pid: number, as = 'alice', query = '') => TermClient.open(stack.baseUrl, sandboxID, pid, stack.keys[as] as string, query);
const kill = (sandboxID: string, pid: number) => stack.api('DELETE', `/sandboxes/${sandboxID}/pty/${pid}`);

describe('terminals', () => {
  it('runs a login shell on a tty: typed input is echoed and answered', async () => {
    const pty = await createPty(tiny, { cols: 100, rows: 30 });
    expect(pty).toMatchObject({ cols: 100, rows: 30, running: true, cmd: [] });
    expect(pty.pid).toBeGreaterThan(1);
    const term = await open(tiny, pty.pid);
    try {
      expect(await term.waitForControl('attached')).toMatchObject({ pid: pty.pid, cols: 100, rows: 30, running: true });
      term.type('echo hi; tty; echo pid=$$\n');
      await term.waitFor(/\r\nhi\r\n/);
      await term.waitFor(/\/dev\/pts\/\d+\r\n/);
      // The PID berth reports is the shell's own PID inside the sandbox.
      expect((await term.waitFor(/\r\npid=(\d+)\r\n/))[1]).toBe(String(pty.pid));
      const listed = await stack.api('GET', `/sandboxes/${tiny}/pty`);
      expect(listed.status).toBe(200);
      expect(listed.body.terminals).toContainEqual(expect.objectContaining({ pid: pty.pid, running: true, attached: 1 }));
    } finally {
      await term.close();
      await kill(tiny, pty.pid);
    }
  });

  it('the default shell is bash where the image has it; envs, cwd and user apply', async () => {
    const pty = await createPty(base, { envs: { GREETING: 'hello-pty' }, cwd: '/tmp', user: 'nobody' });
    const term = await open(base, pty.pid);
    try {
      term.type('echo "$GREETING $(pwd) $(id -un) $TERM ${BASH_VERSION:+bash}"\n');
      // (bash wraps its output in bracketed-paste switches; the typed line does not contain the answer)
      await term.waitFor(/hello-pty \/tmp nobody xterm-256color bash\r\n/);
    } finally {
      await term.close();
      await kill(base, pty.pid);
    }
  });

  it('resize (REST and WebSocket control message) shows in stty size', async () => {
    const pty = await createPty(tiny, { cols: 80, rows: 24 });
    const term = await open(tiny, pty.pid);
    try {
      term.type('stty size\n');
      await term.waitFor(/\r\n24 80\r\n/);
      const resized = await stack.api('POST', `/sandboxes/${tiny}/pty/${pty.pid}/resize`, { body: { cols: 132, rows: 43 } });
      expect(resized.status).toBe(200);
      expect(resized.body).toMatchObject({ cols: 132, rows: 43 });
      term.type('stty size\n');
      await term.waitFor(/\r\n43 132\r\n/);
      term.control({ type: 'resize', cols: 61, rows: 17 });
      await eventually(async () => (await stack.api('GET', `/sandboxes/${tiny}/pty/${pty.pid}`)).body.cols === 61);
      term.type('stty size\n');
      await term.waitFor(/\r\n17 61\r\n/);
      term.control({ type: 'resize', cols: 0, rows: 17 });
      expect(await term.waitForControl('error')).toMatchObject({ code: 'invalid_argument' });
    } finally {
      await term.close();
      await kill(tiny, pty.pid);
    }
  });

  it('binary bytes pass intact both ways', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const escapes = [...all].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    // Output: a raw terminal prints every byte value as is (no \n → \r\n translation).
    const printer = await createPty(tiny, { cmd: `stty raw -echo -opost; printf 'BEGIN${escapes}END'; sleep 30` });
    const term = await open(tiny, printer.pid);
    try {
      await term.waitFor(/END/);
      const start = term.out.indexOf('BEGIN') + 5;
      expect(term.out.subarray(start, start + 256).equals(all)).toBe(true);
    } finally {
      await term.close();
      await kill(tiny, printer.pid);
    }
    // Input: every byte value typed into a raw terminal reaches the process (od shows them).
    const reader = await createPty(tiny, { cmd: 'stty raw -echo; echo READY; od -An -tx1 -v -N 256' });
    const term2 = await open(tiny, reader.pid);
    try {
      await term2.waitFor(/READY/);
      term2.type(all);
      const exit = await term2.waitForControl('exit');
      expect(exit.exitCode).toBe(0);
      const hex = term2.text.slice(term2.text.indexOf('READY') + 5).match(/\b[0-9a-f]{2}\b/g) ?? [];
      expect(hex.map((h) => parseInt(h, 16))).toEqual([...all]);
    } finally {
      await term2.close();
    }
  });

  it('survives a dropped client: reconnecting by PID replays the scrollback, then new output flows', async () => {
    const pty = await createPty(tiny);
    const first = await open(tiny, pty.pid);
    first.type('echo first-$((40+2))\n');
    await first.waitFor(/\r\nfirst-42\r\n/);
    first.ws.terminate(); // the client drops without a goodbye
    await first.closed;
    // While nobody is attached the terminal runs on and records output.
    const typed = await stack.api('POST', `/sandboxes/${tiny}/pty/${pty.pid}/input`, { body: { data: 'echo detached-$((6*7))\n' } });
    expect(typed.status).toBe(204);
    await eventually(async () => (await stack.api('GET', `/sandboxes/${tiny}/pty/${pty.pid}`)).body.attached === 0);
    const second = await open(tiny, pty.pid);
    try {
      const attached = await second.waitForControl('attached');
      expect(attached.scrollbackBytes).toBeGreaterThan(0);
      await second.waitFor(/\r\nfirst-42\r\n[^]*\r\ndetached-42\r\n/);
      second.type('echo second-$((7*6))\n');
      await second.waitFor(/\r\nsecond-42\r\n/);
      // ?scrollback=false attaches without the replay.
      const third = await open(tiny, pty.pid, 'alice', '?scrollback=false');
      third.type('echo third-$((21*2))\n');
      await third.waitFor(/\r\nthird-42\r\n/);
      expect(third.text).not.toContain('first-42');
      await third.close();
    } finally {
      await second.close();
      await kill(tiny, pty.pid);
    }
  });

  it('kill ends the session: attached clients get the exit, the terminal is listed as exited', async () => {
    const pty = await createPty(tiny);
    const term = await open(tiny, pty.pid);
    term.type('sleep 300 & sleep 301\n');
    await term.waitFor(/sleep 301/);
    const killed = await kill(tiny, pty.pid);
    expect(killed.status).toBe(200);
    expect(killed.body).toEqual({ pid: pty.pid, exitCode: 137 });
    expect(await term.waitForControl('exit')).toEqual({ type: 'exit', exitCode: 137 });
    expect((await term.closed).code).toBe(1000);
    const after = await stack.api('GET', `/sandboxes/${tiny}/pty/${pty.pid}`);
    expect(after.body).toMatchObject({ running: false, exitCode: 137 });
    // The whole session went: no sleep of it is left.
    const ps = await stack.api('POST', `/sandboxes/${tiny}/commands`, { body: { cmd: 'ps -o args | grep -c "^sleep 30[01]" || true' } });
    expect(ps.body.stdout.trim()).toBe('0');
    const input = await stack.api('POST', `/sandboxes/${tiny}/pty/${pty.pid}/input`, { body: { data: 'x' } });
    expect(input.status).toBe(409);
  });

  it('SIGINT reaches the foreground job like Ctrl-C; the shell lives on', async () => {
    const pty = await createPty(tiny);
    const term = await open(tiny, pty.pid);
    try {
      term.type('echo go; sleep 300\n');
      await term.waitFor(/\r\ngo\r\n/);
      // Until sleep is the foreground job the shell gets the INT (and ignores it): repeat.
      await eventually(async () => {
        const res = await stack.api('POST', `/sandboxes/${tiny}/pty/${pty.pid}/signal`, { body: { signal: 'SIGINT' } });
        expect(res.status).toBe(200);
        term.type('echo rc=$?\n');
        return /\r\nrc=130\r\n/.test(term.text);
      }, 30_000, 500);
      const info = await stack.api('GET', `/sandboxes/${tiny}/pty/${pty.pid}`);
      expect(info.body.running).toBe(true);
    } finally {
      await term.close();
      await kill(tiny, pty.pid);
    }
  });

  it('reports the exit code when the shell exits', async () => {
    const pty = await createPty(tiny);
    const term = await open(tiny, pty.pid);
    term.type('exit 3\n');
    expect(await term.waitForControl('exit')).toEqual({ type: 'exit', exitCode: 3 });
    const info = await stack.api('GET', `/sandboxes/${tiny}/pty/${pty.pid}`);
    expect(info.body).toMatchObject({ running: false, exitCode: 3 });
    // A client attaching within the grace period learns the exit at once.
    const late = await open(tiny, pty.pid);
    expect(await late.waitForControl('exit')).toEqual({ type: 'exit', exitCode: 3 });
  });

  it('a command that ends at once (leaving a background child) is seen as exited, and kill answers', async () => {
    // Found by the OpenAPI fuzz run: the stream ended before berth listened for its end, so the
    // terminal stayed "running" for ever and DELETE never answered.
    const quick = await createPty(tiny, { cmd: 'echo quick; sleep 100 &' });
    const done = await eventually(async () => {
      const res = await stack.api('GET', `/sandboxes/${tiny}/pty/${quick.pid}`);
      return res.body.running === false && res.body;
    });
    expect(done.exitCode).toBe(0);
    const term = await open(tiny, quick.pid);
    await term.waitFor(/quick\r\n/);
    expect(await term.waitForControl('exit')).toEqual({ type: 'exit', exitCode: 0 });
    const killed = await kill(tiny, quick.pid);
    expect(killed.body).toEqual({ pid: quick.pid, exitCode: 0 });
  });

  it('another owner sees none of it (404), also over the WebSocket', async () => {
    const pty = await createPty(tiny);
    try {
      for (const [method, path, body] of [
        ['GET', `/sandboxes/${tiny}/pty`, undefined],
        ['GET', `/sandboxes/${tiny}/pty/${pty.pid}`, undefined],
        ['POST', `/sandboxes/${tiny}/pty`, {}],
        ['POST', `/sandboxes/${tiny}/pty/${pty.pid}/input`, { data: 'x' }],
        ['POST', `/sandboxes/${tiny}/pty/${pty.pid}/resize`, { cols: 10, rows: 10 }],
        ['POST', `/sandboxes/${tiny}/pty/${pty.pid}/signal`, { signal: 'KILL' }],
        ['DELETE', `/sandboxes/${tiny}/pty/${pty.pid}`, undefined],
      ] as const) {
        const res = await stack.api(method, path, { body, as: 'bob' });
        expect(res.status, `${method} ${path}`).toBe(404);
      }
      await expect(open(tiny, pty.pid, 'bob')).rejects.toMatchObject({ status: 404 });
      await expect(TermClient.open(stack.baseUrl, tiny, pty.pid, 'not-a-key')).rejects.toMatchObject({ status: 401 });
      expect((await stack.api('GET', `/sandboxes/${tiny}/pty/${pty.pid}`)).body.running).toBe(true);
    } finally {
      await kill(tiny, pty.pid);
    }
  });

  it('bad input is a 4xx that says what to do', async () => {
    const cases: Array<[string, string, unknown, number]> = [
      ['POST', `/sandboxes/${tiny}/pty`, { cols: 0 }, 400],
      ['POST', `/sandboxes/${tiny}/pty`, { rows: 5000 }, 400],
      ['POST', `/sandboxes/${tiny}/pty`, { cwd: 'relative' }, 400],
      ['POST', `/sandboxes/${tiny}/pty`, { cwd: '/no/such/dir' }, 400],
      ['POST', `/sandboxes/${tiny}/pty`, { user: 'nosuchuser' }, 400],
      ['POST', `/sandboxes/${tiny}/pty`, { shell: 'x' }, 400],
      ['GET', `/sandboxes/${tiny}/pty/abc`, undefined, 400],
      ['GET', `/sandboxes/${tiny}/pty/999999`, undefined, 404],
      ['POST', `/sandboxes/${tiny}/pty/999999/signal`, { signal: 'NOPE' }, 400],
      ['GET', `/sandboxes/${tiny}/pty/1/ws`, undefined, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const res = await stack.api(method, path, { body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBe(status);
      expect(res.body).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    }
    const pty = await createPty(tiny);
    try {
      const plain = await stack.api('GET', `/sandboxes/${tiny}/pty/${pty.pid}/ws`);
      expect(plain.status).toBe(400);
      expect(plain.body.code).toBe('upgrade_required');
      const term = await open(tiny, pty.pid);
      term.ws.send('not json');
      expect(await term.waitForControl('error')).toMatchObject({ code: 'invalid_argument' });
      await term.close();
    } finally {
      await kill(tiny, pty.pid);
    }
  });

  it('caps live terminals per owner with a 429; an exited one frees its slot', async () => {
    const own = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300 }, as: 'carol' });
    expect(own.status).toBe(201);
    const carols = own.body.sandboxID as string;
    const pids: number[] = [];
    for (let i = 0; i < 3; i++) pids.push((await createPty(carols, {}, 'carol')).pid);
    const over = await stack.api('POST', `/sandboxes/${carols}/pty`, { body: {}, as: 'carol' });
    expect(over.status).toBe(429);
    expect(over.body.message).toContain('BERTH_MAX_PTYS_PER_OWNER');
    // Another owner is not affected.
    const alices = await createPty(tiny);
    await kill(tiny, alices.pid);
    const freed = await stack.api('DELETE', `/sandboxes/${carols}/pty/${pids.pop() as number}`, { as: 'carol' });
    expect(freed.status).toBe(200);
    pids.push((await createPty(carols, {}, 'carol')).pid);
    for (const pid of pids) await stack.api('DELETE', `/sandboxes/${carols}/pty/${pid}`, { as: 'carol' });
  });
});

describe('terminals and the idle timeout', () => {
  it('an attached terminal keeps the sandbox alive; once detached it stops for idleness', async () => {
    const created = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 3 } });
    expect(created.status).toBe(201);
    const id = created.body.sandboxID as string;
    const pty = await createPty(id);
    const term = await open(id, pty.pid);
    // Several idle timeouts pass with nothing typed: the attachment holds it.
    await new Promise((r) => setTimeout(r, 10_000));
    expect((await stack.api('GET', `/sandboxes/${id}`)).body.status).toBe('running');
    term.type('echo still-here\n');
    await term.waitFor(/\r\nstill-here\r\n/);
    await term.close();
    // Detached (the shell still runs): the idle timeout applies again.
    await eventually(async () => (await stack.api('GET', `/sandboxes/${id}`)).status === 404, 60_000, 250);
    const events = await stack.api('GET', `/sandboxes/${id}/events`);
    expect(events.body.events.at(-1)).toMatchObject({ status: 'stopped', reason: 'idle_timeout' });
  });
});
