import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../../src/api/app.js';
import { createLogger } from '../../../src/logger.js';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';
import { createTinyAndBase } from '../../helpers/sandboxes.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type SseEvent = { event: string; data: any };

let stack: TestStack;
let tiny: string;
let base: string;

beforeAll(async () => {
  stack = await startStack();
  ({ tiny, base } = await createTinyAndBase(stack));
});
afterAll(async () => {
  await stack?.stop();
});

/** Reads a server-sent-events response into a list of {event, data}. */
async function sse(path: string, body: unknown, abortWhen?: (events: SseEvent[]) => boolean) {
  const controller = new AbortController();
  const res = await fetch(`${stack.baseUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.keys.alice}`, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal: controller.signal,
  });
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let at: number;
      while ((at = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event && data) events.push({ event, data: JSON.parse(data) });
      }
      if (abortWhen?.(events)) {
        controller.abort();
        break;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
  return events;
}

describe('keep-alive at the default touch coalescing', () => {
  // 3 s is below the 4 s coalescing window: keep-alives must be sent within a quarter of it.
  it('keeps a sandbox with a 3 s timeout alive while a 7 s foreground command runs', async () => {
    const created = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 3 } });
    expect(created.status).toBe(201);
    const id = created.body.sandboxID as string;
    const res = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'sleep 7; echo survived' } });
    expect(res.body).toMatchObject({ exitCode: 0, stdout: 'survived\n' });
    expect((await stack.api('GET', `/sandboxes/${id}`)).body.status).toBe('running');
    await stack.api('DELETE', `/sandboxes/${id}`);
  });
});

describe('foreground commands', () => {
  it('runs a shell string with envs, cwd, user and stdin (busybox)', async () => {
    const res = await stack.api('POST', `/sandboxes/${tiny}/commands`, {
      body: { cmd: 'echo "$GREETING from $(pwd) as $(id -u)"; cat; echo oops >&2; exit 3', envs: { GREETING: 'hi' }, cwd: '/tmp', user: 'user', stdin: 'piped\n' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ exitCode: 3, stdout: 'hi from /tmp as 1000\npiped\n', stderr: 'oops\n', timedOut: false });
    expect(res.body.pid).toBeGreaterThan(1);
  });

  it('runs an argv without a shell and returns binary output as base64', async () => {
    const res = await stack.api('POST', `/sandboxes/${tiny}/commands`, { body: { cmd: ['printf', '\\000\\377\\001'], encoding: 'base64' } });
    expect(res.status).toBe(200);
    expect(Buffer.from(res.body.stdout, 'base64')).toEqual(Buffer.from([0, 255, 1]));
  });

  it('returns large output completely, every time (stdout may arrive before the PID line)', async () => {
    for (let i = 0; i < 15; i++) {
      const res = await stack.api('POST', `/sandboxes/${tiny}/commands`, {
        body: { cmd: ['/bin/sh', '-c', "head -c 1048576 /dev/zero | tr '\\000' a"] },
      });
      expect(res.status).toBe(200);
      expect(res.body.exitCode).toBe(0);
      expect(res.body.stdout).toHaveLength(1024 * 1024);
    }
  });

  it('kills a command that exceeds its timeout', async () => {
    const res = await stack.api('POST', `/sandboxes/${tiny}/commands`, { body: { cmd: 'echo started; sleep 30', timeout: 1 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ timedOut: true, exitCode: 137, stdout: 'started\n' });
  });

  it('writes, runs and reads back a Python script (base template)', async () => {
    const script = 'import sys, json\nprint(json.dumps({"sum": sum(range(10)), "py": sys.version_info[0]}))\nopen("/tmp/out.txt","w").write("written by python")\n';
    const put = await fetch(`${stack.baseUrl}/sandboxes/${base}/files?path=/home/user/job.py`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.keys.alice}`, 'content-type': 'application/octet-stream' },
      body: script,
    });
    expect(put.status).toBe(201);
    const run = await stack.api('POST', `/sandboxes/${base}/commands`, { body: { cmd: ['python3', '/home/user/job.py'] } });
    expect(run.body).toMatchObject({ exitCode: 0, stdout: '{"sum": 45, "py": 3}\n' });
    const read = await stack.api('GET', `/sandboxes/${base}/files?path=/tmp/out.txt`);
    expect(read.status).toBe(200);
    expect(read.body).toBe('written by python');
  });

  it('streams start, stdout, stderr and end as server-sent events', async () => {
    const events = await sse(`/sandboxes/${tiny}/commands`, { cmd: 'for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 7' });
    expect(events[0]).toMatchObject({ event: 'start' });
    expect(events[0]!.data.pid).toBeGreaterThan(1);
    expect(events.filter((e) => e.event === 'stdout').map((e) => e.data.data).join('')).toBe('out1\nout2\nout3\n');
    expect(events.filter((e) => e.event === 'stderr').map((e) => e.data.data).join('')).toBe('err1\nerr2\nerr3\n');
    expect(events.at(-1)).toEqual({ event: 'end', data: { exitCode: 7, timedOut: false } });
  });

  it('interrupts a streaming command when the client closes the stream', async () => {
    const events = await sse(`/sandboxes/${tiny}/commands`, { cmd: 'echo ready; exec sleep 1000' }, (evs) => evs.some((e) => e.event === 'stdout'));
    expect(events.some((e) => e.event === 'stdout')).toBe(true);
    // The command's PID (from the start event) existed, and is gone once the client left.
    const pid = Number((events.find((e) => e.event === 'start')?.data as { pid?: number } | undefined)?.pid);
    expect(pid).toBeGreaterThan(0);
    await eventually(async () => {
      const probe = await stack.api('POST', `/sandboxes/${tiny}/commands`, { body: { cmd: `kill -0 ${pid} 2>/dev/null && echo alive || echo gone` } });
      return probe.body.stdout === 'gone\n';
    });
  });
});

describe('background commands', () => {
  it('runs in the background, lists, reads logs with a cursor, and survives an API restart', async () => {
    const start = await stack.api('POST', `/sandboxes/${tiny}/commands`, {
      body: { cmd: 'echo one; echo e1 >&2; while [ ! -f /tmp/go ]; do sleep 0.1; done; echo two; exit 4', background: true },
    });
    expect(start.status).toBe(201);
    expect(start.body).toMatchObject({ state: 'running', running: true, exitCode: null });
    const cmdID = start.body.cmdID;
    expect(cmdID).toMatch(/^c[a-z0-9]{16}$/);

    const first = await eventually(async () => {
      const logs = await stack.api('GET', `/sandboxes/${tiny}/commands/${cmdID}/logs`);
      return logs.body.stdout === 'one\n' && logs.body.stderr === 'e1\n' ? logs.body : null;
    });
    expect(first.status.running).toBe(true);

    // A second API process (same Temporal and Docker) reads the same command.
    const other = createApp({ config: stack.config, client: stack.client, docker: stack.docker, logger: createLogger('silent', 'other') });
    const server: Server = createServer(other.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const otherUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const list = await fetch(`${otherUrl}/sandboxes/${tiny}/commands`, { headers: { authorization: `Bearer ${stack.keys.alice}` } });
      expect(((await list.json()) as { commands: Array<{ cmdID: string }> }).commands.map((c) => c.cmdID)).toContain(cmdID);
      await stack.api('POST', `/sandboxes/${tiny}/commands`, { body: { cmd: 'touch /tmp/go' } });
      const done = await eventually(async () => {
        const r = await fetch(`${otherUrl}/sandboxes/${tiny}/commands/${cmdID}/logs?cursor=${first.cursor}`, { headers: { authorization: `Bearer ${stack.keys.alice}` } });
        const body = (await r.json()) as { stdout: string; status: { running: boolean; exitCode: number } };
        return body.status.running ? null : body;
      });
      expect(done).toMatchObject({ stdout: 'two\n', stderr: '', status: { state: 'exited', exitCode: 4 } });
    } finally {
      await other.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
    const status = await stack.api('GET', `/sandboxes/${tiny}/commands/${cmdID}`);
    expect(status.body).toMatchObject({ cmdID, state: 'exited', exitCode: 4, cmd: expect.stringContaining('echo one') });
  });

  it('follows a background command as server-sent events until it exits', async () => {
    const start = await stack.api('POST', `/sandboxes/${tiny}/commands`, {
      body: { cmd: 'for i in 1 2 3; do echo line$i; sleep 0.2; done; echo bye >&2; exit 5', background: true },
    });
    const res = await fetch(`${stack.baseUrl}/sandboxes/${tiny}/commands/${start.body.cmdID}/logs?follow=true`, {
      headers: { authorization: `Bearer ${stack.keys.alice}` },
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    const events = text
      .split('\n\n')
      .filter(Boolean)
      .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') }))
      .filter((e) => e.event);
    expect(events.filter((e) => e.event === 'stdout').map((e) => e.data.data).join('')).toBe('line1\nline2\nline3\n');
    expect(events.filter((e) => e.event === 'stderr').map((e) => e.data.data).join('')).toBe('bye\n');
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { exitCode: 5, state: 'exited', cursor: '18.4' } });
  });

  it('interrupts a background command with a signal', async () => {
    const start = await stack.api('POST', `/sandboxes/${base}/commands`, {
      body: { cmd: 'trap "echo got TERM; exit 42" TERM; echo waiting; while :; do sleep 0.1; done', background: true, user: 'user' },
    });
    const cmdID = start.body.cmdID;
    await eventually(async () => (await stack.api('GET', `/sandboxes/${base}/commands/${cmdID}/logs`)).body.stdout === 'waiting\n');
    const sig = await stack.api('POST', `/sandboxes/${base}/commands/${cmdID}/signal`, { body: { signal: 'SIGTERM' } });
    expect(sig.status).toBe(200);
    expect(sig.body.signalled).toBeGreaterThan(0);
    const done = await eventually(async () => {
      const s = await stack.api('GET', `/sandboxes/${base}/commands/${cmdID}`);
      return s.status === 200 && !s.body.running ? s.body : null;
    });
    expect(done).toMatchObject({ state: 'exited', exitCode: 42, user: 'user' });
    const again = await stack.api('POST', `/sandboxes/${base}/commands/${cmdID}/signal`, { body: {} });
    expect(again.status).toBe(409);
  });

  it("applies envs to the command only: a PATH without the shell's tools does not break the wrapper", async () => {
    const start = await stack.api('POST', `/sandboxes/${base}/commands`, {
      body: { cmd: 'echo "$PATH $GREETING"', background: true, envs: { PATH: '/nowhere', GREETING: 'hi' } },
    });
    const cmdID = start.body.cmdID;
    const done = await eventually(async () => {
      const s = await stack.api('GET', `/sandboxes/${base}/commands/${cmdID}`);
      return s.status === 200 && !s.body.running ? s.body : null;
    });
    expect(done).toMatchObject({ state: 'exited', exitCode: 0 });
    expect((await stack.api('GET', `/sandboxes/${base}/commands/${cmdID}/logs`)).body.stdout).toBe('/nowhere hi\n');
  });

  it('a background timeout kills every process of the command, not only the shell', async () => {
    const start = await stack.api('POST', `/sandboxes/${tiny}/commands`, {
      // (an env named like berth's own tag must not hide the command from the timeout)
      body: { cmd: 'sleep 60 & echo $! > /tmp/bg-child; wait', background: true, timeout: 1, envs: { BERTH_CMD: 'spoofed' } },
    });
    const cmdID = start.body.cmdID;
    const done = await eventually(async () => {
      const s = await stack.api('GET', `/sandboxes/${tiny}/commands/${cmdID}`);
      return s.status === 200 && !s.body.running ? s.body : null;
    });
    expect(done).toMatchObject({ state: 'exited', timedOut: true });
    // (The init process reaps the killed child a moment later.)
    await eventually(async () => {
      const child = await stack.api('POST', `/sandboxes/${tiny}/commands`, { body: { cmd: '[ -s /tmp/bg-child ] || { echo missing; exit; }; kill -0 "$(cat /tmp/bg-child)" 2>/dev/null && echo alive || echo gone' } });
      return child.body.stdout === 'gone\n';
    });
  });

  it('caps one logs read and pages with the cursor', async () => {
    // 3 MiB of output; the default read cap is 1 MiB per stream.
    const start = await stack.api('POST', `/sandboxes/${tiny}/commands`, { body: { cmd: 'head -c 3145728 /dev/zero | tr "\\0" x', background: true } });
    const cmdID = start.body.cmdID;
    await eventually(async () => !(await stack.api('GET', `/sandboxes/${tiny}/commands/${cmdID}`)).body.running);
    let cursor = '';
    let total = 0;
    for (let i = 0; i < 10; i++) {
      const logs = await stack.api('GET', `/sandboxes/${tiny}/commands/${cmdID}/logs?cursor=${cursor}`);
      expect(logs.body.stdout.length).toBeLessThanOrEqual(1024 * 1024);
      total += logs.body.stdout.length;
      cursor = logs.body.cursor;
      if (!logs.body.more) break;
    }
    expect(total).toBe(3 * 1024 * 1024);
    expect(cursor).toBe(`${3 * 1024 * 1024}.0`);
  });

  it('answers 404 for unknown commands and 400 for bad cursors', async () => {
    expect((await stack.api('GET', `/sandboxes/${tiny}/commands/cnotacommand00000`)).status).toBe(404);
    expect((await stack.api('GET', `/sandboxes/${tiny}/commands/..%2F..%2Fetc`)).status).toBe(404);
    const start = await stack.api('POST', `/sandboxes/${tiny}/commands`, { body: { cmd: 'true', background: true } });
    expect((await stack.api('GET', `/sandboxes/${tiny}/commands/${start.body.cmdID}/logs?cursor=abc`)).status).toBe(400);
  });
});
