/**
 * A/B of warm-pool creates (create → running, claiming a ready container) between this checkout
 * and another (e.g. `git archive <commit> | tar -x -C /tmp/old`, node_modules linked): both stacks
 * run with BERTH_WARM_POOL=tiny:4, creates alternate between them (which goes first alternates
 * too), and before each measured create the stack's pool is full again (off the measured path).
 *
 *   node --import tsx bench/tools/ab-pool.ts --other /tmp/old [--reps 30]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createDockerClient } from '../../src/docker/client.js';
import { LABELS } from '../../src/docker/labels.js';
import { isUnclaimedPoolContainer, POOL_LABELS } from '../../src/docker/pool-labels.js';
import { startBenchStack, type BenchStack } from '../lib/stack.js';
import { sleep, summarize, timed } from '../lib/stats.js';

const POOL_SIZE = 4;
const { values } = parseArgs({ options: { other: { type: 'string' }, reps: { type: 'string', default: '30' } } });
if (!values.other) throw new Error('usage: ab-pool.ts --other DIR [--reps N]');
const reps = Number(values.reps);
Runtime.install({ logger: new DefaultLogger('WARN') });
const docker = createDockerClient(process.env.DOCKER_SOCKET ?? '/var/run/docker.sock');
const otherStack = (await import(path.resolve(values.other, 'bench/lib/stack.ts'))) as { startBenchStack: typeof startBenchStack };
const env = { BERTH_WARM_POOL: `tiny:${POOL_SIZE}`, BERTH_WARM_POOL_REFILL_INTERVAL_MS: '1000' };
const stacks: { label: string; stack: BenchStack; ms: number[]; missed: number; ids: string[] }[] = [];

async function waitFull(stack: BenchStack): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const listed = await docker.listContainers({ filters: { label: [POOL_LABELS.pool, `${LABELS.queue}=${stack.taskQueue}`], status: ['running'] } });
    if (listed.filter((c) => isUnclaimedPoolContainer(c)).length >= POOL_SIZE) break;
    if (Date.now() > deadline) throw new Error('the warm pool did not refill within 120 s');
    await sleep(50);
  }
  await sleep(100);
}

try {
  stacks.push({ label: 'A (this checkout)', stack: await startBenchStack({ runId: randomBytes(4).toString('hex'), logDir: mkdtempSync(path.join(os.tmpdir(), 'berth-abp-a-')), env }), ms: [], missed: 0, ids: [] });
  stacks.push({ label: `B (${values.other})`, stack: await otherStack.startBenchStack({ runId: randomBytes(4).toString('hex'), logDir: mkdtempSync(path.join(os.tmpdir(), 'berth-abp-b-')), env }), ms: [], missed: 0, ids: [] });
  const loads: number[] = [];
  for (let i = 0; i < reps + 1; i++) {
    const order = i % 2 === 0 ? stacks : [...stacks].reverse();
    for (const s of order) {
      await waitFull(s.stack);
      const r = await timed(() => s.stack.call('POST', '/sandboxes?wait=true', { templateID: 'tiny', timeout: 600 }));
      if (r.value.status !== 201) throw new Error(`${s.label}: create answered ${r.value.status}`);
      const id = (r.value.body as { sandboxID: string }).sandboxID;
      const pooled = Boolean((await docker.getContainer(id).inspect()).Config.Labels[POOL_LABELS.pool]);
      if (i > 0) {
        if (pooled) s.ms.push(r.ms);
        else s.missed++;
      }
      await s.stack.call('DELETE', `/sandboxes/${id}`);
    }
    loads.push(os.loadavg()[0] ?? 0);
  }
  const sortedLoads = [...loads].sort((x, y) => x - y);
  console.log(`interleaved pooled creates, n = ${reps} each (p50 / p90 / mean ms); 1-min load during the run: min ${sortedLoads[0]?.toFixed(2)} median ${sortedLoads[Math.floor(sortedLoads.length / 2)]?.toFixed(2)} max ${sortedLoads.at(-1)?.toFixed(2)}`);
  for (const s of stacks) {
    const x = summarize(s.ms);
    console.log(`  ${s.label.padEnd(34)} ${x.p50.toFixed(1).padStart(6)} / ${x.p90.toFixed(1).padStart(6)} / ${x.mean.toFixed(1).padStart(6)}  (claimed ${s.ms.length}, missed ${s.missed})`);
  }
} finally {
  for (const s of stacks) await s.stack.stop().catch(() => undefined);
}
