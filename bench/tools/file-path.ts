/**
 * Where a large file transfer's time goes (issue 15, files): on ONE sandbox of a bench stack,
 * interleaved per repetition, the raw archive API (the floor), berth-agent's file requests
 * called straight from this process (no HTTP, no API), and the API's PUT / GET with `fetch`
 * (the client buffering the whole answer) and with `node:http` (the floor's client, counted as
 * it streams). Not a test; prints p50s and CPU per process (API, this client, the sandbox's
 * cgroup, dockerd).
 *
 *   set -a; source .berth/setup.env; set +a
 *   node --import tsx bench/tools/file-path.ts [--mb 100] [--reps 10]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { agentReadFile, agentWriteFile } from '../../src/dataplane/agent-files.js';
import { agentSocketPath, agentToken } from '../../src/docker/agent.js';
import { transfer } from '../lib/http-transfer.js';
import { RawDocker, BENCH_TEMPLATE } from '../lib/raw.js';
import { startBenchStack } from '../lib/stack.js';
import { summarize } from '../lib/stats.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '100' }, reps: { type: 'string', default: '10' } } });
const MB = 1024 * 1024;
const size = Number(values.mb) * MB;
const reps = Number(values.reps);
const runId = randomBytes(4).toString('hex');
const logDir = mkdtempSync(path.join(os.tmpdir(), 'berth-file-path-'));
const docker = new Docker(process.env.DOCKER_SOCKET ? { socketPath: process.env.DOCKER_SOCKET } : undefined);
const stack = await startBenchStack({ runId, logDir });
const raw = new RawDocker(docker, runId, stack.networkName);
const data = Buffer.alloc(size, 0x61);
const times: Record<string, number[]> = {};
const cpu: Record<string, Record<string, number[]>> = {};
/** CPU time (ms) of a process, from /proc (10 ms ticks). */
const procCpuMs = (pid: number | undefined) => {
  if (!pid || !existsSync(`/proc/${pid}/stat`)) return 0;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) * 10;
};
let sandboxCgroup = '';
const cgroupCpuMs = () => (sandboxCgroup ? Number(readFileSync(sandboxCgroup, 'utf8')) / 1e6 : 0);
const dockerdPid = Number(execFileSync('pidof', ['dockerd']).toString().trim().split(' ')[0]);
const time = async (label: string, run: () => Promise<unknown>) => {
  const before = { api: procCpuMs(stack.api.pid), client: process.cpuUsage(), sandbox: cgroupCpuMs(), dockerd: procCpuMs(dockerdPid) };
  const start = performance.now();
  await run();
  (times[label] ??= []).push(performance.now() - start);
  const c = process.cpuUsage(before.client);
  const used = { api: procCpuMs(stack.api.pid) - before.api, client: (c.user + c.system) / 1000, sandbox: cgroupCpuMs() - before.sandbox, dockerd: procCpuMs(dockerdPid) - before.dockerd };
  for (const [k, v] of Object.entries(used)) ((cpu[label] ??= {})[k] ??= []).push(v);
};
let id = '';
try {
  const created = await stack.call('POST', '/sandboxes?wait=true', { templateID: BENCH_TEMPLATE, timeout: 900 });
  id = (created.body as { sandboxID: string }).sandboxID;
  const socketPath = agentSocketPath(stack.config.agent.dir, id);
  if (!socketPath) throw new Error('no agent socket path (BERTH_AGENT_BINARY unset?)');
  const auth = { authorization: `Bearer ${stack.apiKey}` };
  const full = (await docker.getContainer(id).inspect()).Id;
  sandboxCgroup = `/sys/fs/cgroup/cpuacct/docker/${full}/cpuacct.usage`;
  const target = { socketPath, token: agentToken(stack.config.secretKeyHex, id) };
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${values.mb} MB, ${reps} reps (+1 warm-up)`);
  for (let i = 0; i <= reps; i++) {
    await time('write: raw putArchive', () => raw.putFile(id, '/tmp', 'raw.bin', data));
    await time('write: agent, direct', async () => {
      const r = await agentWriteFile(target, { path: `/tmp/direct-${i}.bin`, tmp: `/tmp/direct-${i}.bin`, size }, data);
      if (r === null || 'aborted' in r || r.exitCode !== 0) throw new Error(`direct write: ${JSON.stringify(r)}`);
    });
    await time('write: API PUT', async () => {
      const res = await stack.call('PUT', `/sandboxes/${id}/files?path=/tmp/api.bin`, undefined, { raw: data });
      if (res.status !== 201) throw new Error(`PUT ${res.status}`);
    });
    await time('write: API PUT (node:http)', async () => {
      const res = await transfer('PUT', `${stack.apiUrl}/sandboxes/${id}/files?path=/tmp/api2.bin`, auth, data);
      if (res.status !== 201) throw new Error(`PUT ${res.status} ${res.text}`);
    });
    await time('read: raw getArchive', () => raw.getFile(id, '/tmp/raw.bin'));
    await time('read: agent, direct', async () => {
      const out = new PassThrough({ highWaterMark: MB });
      const r = await agentReadFile(target, '/tmp/api.bin', 0, size, out);
      if (r === null || 'exitCode' in r) throw new Error(`direct read: ${JSON.stringify(r)}`);
      let n = 0;
      for await (const c of out as AsyncIterable<Buffer>) n += c.length;
      if (n !== size) throw new Error(`direct read ${n}`);
    });
    await time('read: API GET (client buffers)', async () => {
      const res = await stack.call('GET', `/sandboxes/${id}/files?path=/tmp/api.bin`);
      if (res.bytes !== size) throw new Error(`GET ${res.bytes}`);
    });
    await time('read: API GET (node:http, counted)', async () => {
      const res = await transfer('GET', `${stack.apiUrl}/sandboxes/${id}/files?path=/tmp/api2.bin`, auth);
      if (res.bytes !== size) throw new Error(`GET ${res.status} ${res.bytes}`);
    });
    await docker.getContainer(id).exec({ Cmd: ['rm', '-f', `/tmp/direct-${i}.bin`] }).then((e) => e.start({}));
  }
  for (const [label, xs] of Object.entries(times)) {
    const p50 = summarize(xs.slice(1)).p50;
    const c = Object.entries(cpu[label] ?? {}).map(([k, v]) => `${k} ${summarize(v.slice(1)).p50.toFixed(0)}`).join(', ');
    console.log(`${label.padEnd(34)} p50 ${p50.toFixed(0).padStart(6)} ms  ${(size / MB / (p50 / 1000)).toFixed(0).padStart(5)} MB/s  CPU ms p50: ${c}`);
  }
  console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  await stack.call('DELETE', `/sandboxes/${id}`);
} finally {
  if (id) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
  await stack.stop();
  rmSync(logDir, { recursive: true, force: true });
}
