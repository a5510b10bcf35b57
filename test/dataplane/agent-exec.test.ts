/**
 * berth's in-sandbox agent (docs/agent.md) against docker exec, on real sandboxes: the same
 * process semantics on both paths, and the fallback when the agent cannot serve.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { agentStart } from '../../src/dataplane/agent-client.js';
import { agentTargetFor } from '../../src/dataplane/agent-route.js';
import { collect, dockerStartExec, execCollect, ROOT, startDetached, startExec, type ExecHandle, type ExecOptions } from '../../src/dataplane/exec.js';
import { agentSocketPath } from '../../src/docker/agent.js';
import { eventually, startStack, type TestStack } from '../helpers/stack.js';
import { createTinyAndBase } from '../helpers/sandboxes.js';

let stack: TestStack;
let tiny: string;
let base: string;

beforeAll(async () => {
  stack = await startStack();
  // scripts/setup.sh builds the agent; without it this suite has nothing to test.
  expect(stack.config.agent.binaryPath, 'BERTH_AGENT_BINARY (source .berth/setup.env)').toBeTruthy();
  ({ tiny, base } = await createTinyAndBase(stack));
  for (const id of [tiny, base]) await eventually(async () => expect(existsSync(agentSocketPath(stack.config.agent.dir, id)!)).toBe(true));
});
afterAll(async () => {
  await stack?.stop();
});

async function run(start: (o: ExecOptions) => Promise<ExecHandle>, options: ExecOptions) {
  const handle = await start(options);
  const [out, err] = await Promise.all([collect(handle.stdout, 1 << 30), collect(handle.stderr, 1 << 20)]);
  return { exitCode: await handle.exit, stdout: out.data.toString('utf8'), stderr: err.data.toString('utf8') };
}
const viaAgent = (id: string) => (o: ExecOptions) => startExec(stack.docker, id, o);
const viaDocker = (id: string) => (o: ExecOptions) => dockerStartExec(stack.docker, id, o);
/** Who started this process: the agent (its binary is /.berth-agent) or docker exec (a parent outside the sandbox: PPID 0). */
const PARENT = ['/bin/sh', '-c', 'p=$(cut -d" " -f4 /proc/$$/stat); if [ "$p" = 0 ]; then echo docker; else cat /proc/$p/comm; fi'];

describe('berth-agent', () => {
  it('serves a new sandbox: its processes are started by the agent, over a socket only root can open', async () => {
    for (const id of [tiny, base]) {
      expect((await run(viaAgent(id), { cmd: PARENT })).stdout).toBe('.berth-agent\n');
      expect((await run(viaDocker(id), { cmd: PARENT })).stdout).toBe('docker\n');
    }
    const socket = agentSocketPath(stack.config.agent.dir, tiny)!;
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    const inside = await run(viaDocker(tiny), { cmd: ['/bin/sh', '-c', 'stat -c %a /run/berth /run/berth/agent.sock; ls /run/berth'], user: ROOT });
    expect(inside.stdout).toBe('700\n600\nagent.sock\n'); // the token file was read and removed
  });

  it("serves the API's commands too (the data plane's routed Docker client is registered)", async () => {
    // Failed before the fix: the REST data plane uses the hosts' routed client, which the agent
    // route did not know, so every API command silently went through docker exec.
    const res = await stack.api('POST', `/sandboxes/${tiny}/commands`, { body: { cmd: PARENT } });
    expect(res.status).toBe(200);
    expect((res.body as { stdout: string }).stdout).toBe('.berth-agent\n');
  });

  it('refuses a request without the sandbox token', async () => {
    const target = agentTargetFor(stack.docker, tiny)!;
    expect(await agentStart({ ...target, token: 'not-the-token' }, { cmd: ['true'] }, async () => -1)).toBeNull();
    expect(await agentStart(target, { cmd: ['true'] }, async () => -1)).not.toBeNull();
  });

  // Each probe runs on both paths; PIDs and the agent's own name are the only allowed differences.
  const probes: [string, ExecOptions][] = [
    ['environment', { cmd: ['/bin/sh', '-c', 'env | sort'], env: { A: '1', PATH: '/bin:/usr/bin' } }],
    ['signal dispositions and session', { cmd: ['/bin/sh', '-c', 'grep -E "^Sig(Ign|Blk)" /proc/self/status; set -- $(cat /proc/$$/stat); [ "$1" = "$6" ] && echo session-leader'] }],
    ['a named user, its home and groups', { cmd: ['/bin/sh', '-c', 'id; echo $HOME; pwd'], user: 'nobody' }],
    ['a numeric user without a passwd entry', { cmd: ['/bin/sh', '-c', 'id; echo $HOME'], user: '1234' }],
    ['user:group', { cmd: ['id'], user: 'nobody:root' }],
    ['an explicit HOME wins', { cmd: ['/bin/sh', '-c', 'echo $HOME'], user: 'nobody', env: { HOME: '/tmp' } }],
    ['cwd', { cmd: ['pwd'], cwd: '/tmp' }],
    ['a missing cwd', { cmd: ['true'], cwd: '/nope' }],
    ['a missing command', { cmd: ['no-such-command'] }],
    ['an unknown user', { cmd: ['true'], user: 'nobody2' }],
    ['stdout, stderr and an exit code', { cmd: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3'] }],
    ['a process killed by a signal', { cmd: ['/bin/sh', '-c', 'kill -KILL $$'] }],
    ['SIGINT is not ignored', { cmd: ['/bin/sh', '-c', 'kill -INT $$; echo survived'] }],
    ['stdin', { cmd: ['/bin/sh', '-c', 'cat; echo; wc -c'], stdin: Buffer.from('piped input') }],
  ];
  for (const template of ['tiny', 'base'] as const) {
    it.each(probes)(`behaves like docker exec on ${template}: %s`, async (_name, options) => {
      const id = template === 'tiny' ? tiny : base;
      const [agent, docker] = [await run(viaAgent(id), options), await run(viaDocker(id), options)];
      expect(agent).toEqual(docker);
    });
  }

  it('streams large output with backpressure and takes streamed stdin', async () => {
    const big = await run(viaAgent(tiny), { cmd: ['/bin/sh', '-c', 'head -c 8388608 /dev/zero; head -c 1000 /dev/zero >&2'] });
    expect(big.stdout.length).toBe(8 * 1024 * 1024);
    expect(big.stderr.length).toBe(1000);
    // A slow reader: nothing is lost while the agent waits, and waiting adds no listener per frame.
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const handle = await startExec(stack.docker, tiny, { cmd: ['/bin/sh', '-c', 'head -c 4194304 /dev/zero'] });
    let total = 0;
    for await (const chunk of handle.stdout as AsyncIterable<Buffer>) {
      total += chunk.length;
      await new Promise((r) => setTimeout(r, 2));
    }
    await collect(handle.stderr, 10);
    expect(await handle.exit).toBe(0);
    expect(total).toBe(4 * 1024 * 1024);
    process.off('warning', onWarning);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    const { Readable } = await import('node:stream');
    const input = Readable.from((function* () { for (let i = 0; i < 64; i++) yield Buffer.alloc(64 * 1024, 'x'); })());
    expect((await run(viaAgent(tiny), { cmd: ['wc', '-c'], stdin: input })).stdout.trim()).toBe(String(64 * 64 * 1024));
  });

  it('starts detached processes through the agent', async () => {
    await startDetached(stack.docker, tiny, { cmd: ['/bin/sh', '-c', `${PARENT[2]} > /tmp/detached.txt`], cwd: '/tmp' });
    await eventually(async () => expect((await execCollect(stack.docker, tiny, { cmd: ['cat', '/tmp/detached.txt'] })).stdout.toString()).toBe('.berth-agent\n'));
  });

  it('falls back to docker exec when the agent is gone, with the same results', async () => {
    const { stdout } = await run(viaDocker(base), { cmd: ['/bin/sh', '-c', 'for p in /proc/[0-9]*; do [ "$(cat $p/comm)" = .berth-agent ] && kill -9 ${p#/proc/}; done; echo killed'], user: ROOT });
    expect(stdout).toBe('killed\n');
    expect((await run(viaAgent(base), { cmd: PARENT })).stdout).toBe('docker\n');
    expect(await run(viaAgent(base), { cmd: ['/bin/sh', '-c', 'echo out; echo err >&2; exit 5'] })).toEqual({ exitCode: 5, stdout: 'out\n', stderr: 'err\n' });
    const res = await stack.api('POST', `/sandboxes/${base}/commands`, { body: { cmd: 'echo via api' } });
    expect(res.body).toMatchObject({ exitCode: 0, stdout: 'via api\n' });
  });

  it('streams file uploads and downloads through the agent: no spool, exact bytes, short bodies refused', async () => {
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
    const url = (p: string) => `${stack.baseUrl}/sandboxes/${tiny}/files?path=${p}`;
    const headers = { authorization: `Bearer ${stack.keys.alice}`, 'content-type': 'application/octet-stream' };
    expect((await fetch(url('/tmp/up/a.bin'), { method: 'PUT', headers, body: data })).status).toBe(201);
    const back = await fetch(url('/tmp/up/a.bin'), { headers });
    expect(Buffer.from(await back.arrayBuffer()).equals(data)).toBe(true);
    expect((await run(viaAgent(tiny), { cmd: ['/bin/sh', '-c', 'ls -a /tmp/up'] })).stdout).toBe('.\n..\na.bin\n');
    // A body shorter than its Content-Length writes nothing.
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url('/tmp/up/short.bin'), { method: 'PUT', headers: { ...headers, 'content-length': '1000' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(0));
      req.write(Buffer.alloc(10));
      setTimeout(() => req.destroy(), 300);
      void reject;
    });
    expect([0, 400]).toContain(status);
    await eventually(async () => expect((await run(viaAgent(tiny), { cmd: ['/bin/sh', '-c', 'ls -a /tmp/up'] })).stdout).toBe('.\n..\na.bin\n'));
  });
});
