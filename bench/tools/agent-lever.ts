/**
 * Measures berth's in-sandbox agent lever (docs/agent.md) through the real API (separate
 * worker and API processes, as the bench runs them) against the raw Docker floor on the SAME
 * sandbox container: `docker exec` for commands, putArchive / getArchive for files. Not a test;
 * prints p50s and ratios. Run it twice to compare: with the agent (default) and with
 * BERTH_BENCH_AGENT=0 (docker exec, archive + spool).
 *
 *   set -a; source .berth/setup.env; set +a
 *   node --import tsx bench/tools/agent-lever.ts [--n 30] [--big-n 10] [--reps-100mb 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Docker from 'dockerode';
import { transfer } from '../lib/http-transfer.js';
import { RawDocker, BENCH_TEMPLATE } from '../lib/raw.js';
import { startBenchStack } from '../lib/stack.js';
import { summarize, timed } from '../lib/stats.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '30' }, 'big-n': { type: 'string', default: '10' }, 'reps-100mb': { type: 'string', default: '3' } } });
const n = Number(values.n);
const bigN = Number(values['big-n']);
const reps100 = Number(values['reps-100mb']);
const MB = 1024 * 1024;
const runId = randomBytes(4).toString('hex');
const logDir = mkdtempSync(path.join(os.tmpdir(), 'berth-agent-lever-'));
const docker = new Docker(process.env.DOCKER_SOCKET ? { socketPath: process.env.DOCKER_SOCKET } : undefined);
const stack = await startBenchStack({ runId, logDir });
const raw = new RawDocker(docker, runId, stack.networkName);
const p50 = (xs: number[]) => summarize(xs).p50;
const line = (label: string, berth: number[], floor: number[], sizeMB?: number) => {
  const b = p50(berth);
  const f = p50(floor);
  const extra = sizeMB ? ` throughput ${(sizeMB / (b / 1000)).toFixed(1)} vs ${(sizeMB / (f / 1000)).toFixed(1)} MB/s, ratio ${(f / b).toFixed(2)}` : ` ratio ${(b / f).toFixed(2)}×`;
  console.log(`${label.padEnd(28)} berth p50 ${b.toFixed(1).padStart(7)} ms  floor p50 ${f.toFixed(1).padStart(7)} ms ${extra}  (n=${berth.length})`);
};
try {
  const created = await stack.call('POST', '/sandboxes?wait=true', { templateID: BENCH_TEMPLATE, timeout: 900 });
  const id = (created.body as { sandboxID: string }).sandboxID;
  const cmd = async (argv: string[]) => {
    const res = await stack.call('POST', `/sandboxes/${id}/commands`, { cmd: argv });
    if (res.status !== 200) throw new Error(`command: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  };
  console.log(`agent: ${process.env.BERTH_BENCH_AGENT === '0' ? 'off' : process.env.BERTH_AGENT_BINARY ? 'on' : 'off (no BERTH_AGENT_BINARY)'}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  await cmd(['true']);
  await raw.exec(id, ['true']);
  const t = { berth: [] as number[], floor: [] as number[] };
  for (let i = 0; i < n; i++) {
    t.floor.push((await timed(() => raw.exec(id, ['true']))).ms);
    t.berth.push((await timed(() => cmd(['true']))).ms);
  }
  line('command true', t.berth, t.floor);
  const BIG = ['/bin/sh', '-c', "head -c 1048576 /dev/zero | tr '\\000' a"];
  const big = { berth: [] as number[], floor: [] as number[] };
  for (let i = 0; i < bigN; i++) {
    big.floor.push((await timed(() => raw.exec(id, BIG))).ms);
    big.berth.push((await timed(() => cmd(BIG))).ms);
  }
  line('command 1 MB output', big.berth, big.floor);
  for (const [sizeMB, reps] of [
    [1, n],
    [100, reps100],
  ] as const) {
    const data = Buffer.alloc(sizeMB * MB, 0x61);
    const w = { berth: [] as number[], floor: [] as number[] };
    const r = { berth: [] as number[], floor: [] as number[] };
    for (let i = 0; i <= reps; i++) {
      const fw = await timed(() => raw.putFile(id, '/tmp', `raw-${sizeMB}.bin`, data));
      const fileUrl = `${stack.apiUrl}/sandboxes/${id}/files?path=/tmp/api-${sizeMB}.bin`;
      const auth = { authorization: `Bearer ${stack.apiKey}` };
      const bw = await timed(() => transfer('PUT', fileUrl, auth, data));
      const fr = await timed(() => raw.getFile(id, `/tmp/raw-${sizeMB}.bin`));
      const br = await timed(() => transfer('GET', fileUrl, auth));
      if (bw.value.status !== 201 || br.value.bytes !== data.length) throw new Error(`file ${sizeMB} MB: write ${bw.value.status}, read ${br.value.bytes} bytes`);
      if (i === 0) continue; // warm-up
      w.floor.push(fw.ms);
      w.berth.push(bw.ms);
      r.floor.push(fr.ms);
      r.berth.push(br.ms);
    }
    line(`file write ${sizeMB} MB`, w.berth, w.floor, sizeMB);
    line(`file read ${sizeMB} MB`, r.berth, r.floor, sizeMB);
  }
  await stack.call('DELETE', `/sandboxes/${id}`);
} finally {
  await stack.stop();
  rmSync(logDir, { recursive: true, force: true });
}
