/**
 * A/B of two versions of berth under the same noise: starts this checkout's stack and another
 * checkout's (e.g. `git archive <commit> | tar -x -C /tmp/old`, with node_modules linked), one
 * sandbox on each, and interleaves the lifecycle calls between them, so load drift on a shared
 * machine hits both alike.
 *
 *   node --import tsx bench/tools/ab-stacks.ts --other /tmp/old [--reps 40]
 *   node --import tsx bench/tools/ab-stacks.ts --other /tmp/old --ops create [--reps 30]   # cold create → running, then kill
 *   node --import tsx bench/tools/ab-stacks.ts --other /tmp/old --ops burst --burst 50 [--reps 4]   # N creates at once, then N kills
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createDockerClient } from '../../src/docker/client.js';
import { cleanupContainers } from '../lib/raw.js';
import { startBenchStack, type BenchStack } from '../lib/stack.js';
import { summarize, timed } from '../lib/stats.js';

const { values } = parseArgs({
  options: { other: { type: 'string' }, reps: { type: 'string', default: '40' }, ops: { type: 'string', default: 'lifecycle' }, burst: { type: 'string', default: '50' } },
});
if (!values.other) throw new Error('usage: ab-stacks.ts --other DIR [--reps N]');
const reps = Number(values.reps);
Runtime.install({ logger: new DefaultLogger('WARN') });
const docker = createDockerClient(process.env.DOCKER_SOCKET ?? '/var/run/docker.sock');
const otherStack = (await import(path.resolve(values.other, 'bench/lib/stack.ts'))) as { startBenchStack: typeof startBenchStack };
const runA = randomBytes(4).toString('hex');
const runB = randomBytes(4).toString('hex');
const stacks: { label: string; stack: BenchStack; id: string }[] = [];
try {
  const a = await startBenchStack({ runId: runA, logDir: mkdtempSync(path.join(os.tmpdir(), 'berth-ab-a-')) });
  stacks.push({ label: 'A (this checkout)', stack: a, id: '' });
  const b = await otherStack.startBenchStack({ runId: runB, logDir: mkdtempSync(path.join(os.tmpdir(), 'berth-ab-b-')) });
  stacks.push({ label: `B (${values.other})`, stack: b, id: '' });
  const create = async (stack: BenchStack): Promise<string> => {
    const r = await stack.call('POST', '/sandboxes?wait=true', { templateID: 'tiny', timeout: 600 });
    if (r.status !== 201) throw new Error(`create answered ${r.status}: ${JSON.stringify(r.body)}`);
    return (r.body as { sandboxID: string }).sandboxID;
  };
  const kill = async (stack: BenchStack, id: string): Promise<void> => {
    const r = await stack.call('DELETE', `/sandboxes/${id}`);
    if (r.status !== 204) throw new Error(`kill answered ${r.status}`);
  };
  for (const s of values.ops === 'lifecycle' ? stacks : []) {
    const r = await s.stack.call('POST', '/sandboxes?wait=true', { templateID: 'tiny', timeout: 600 });
    if (r.status !== 201) throw new Error(`${s.label}: create answered ${r.status}`);
    s.id = (r.body as { sandboxID: string }).sandboxID;
  }
  const t: Record<string, number[]> = {};
  const ok = async (p: Promise<{ status: number }>) => {
    const r = await p;
    if (r.status >= 300) throw new Error(`API answered ${r.status}`);
  };
  const burst = Number(values.burst);
  for (let i = 0; i < reps + 1; i++) {
    // Alternate which stack goes first, so neither always gets the warmer turn.
    const order = i % 2 === 0 ? stacks : [...stacks].reverse();
    for (const s of order) {
      if (values.ops === 'create') {
        let id = '';
        const rec = (k: string, ms: number) => i > 0 && (t[`${k} ${s.label}`] ??= []).push(ms);
        rec('create', (await timed(async () => (id = await create(s.stack)))).ms);
        rec('kill', (await timed(() => kill(s.stack, id))).ms);
        continue;
      }
      if (values.ops === 'burst') {
        // No warm-up round to drop here: every round is a whole burst. Failed creates are counted, not fatal.
        const rec = (k: string, ms: number) => (t[`${k} ${s.label}`] ??= []).push(ms);
        let settled: PromiseSettledResult<string>[] = [];
        const c = await timed(async () => (settled = await Promise.allSettled(Array.from({ length: burst }, () => create(s.stack)))));
        const ids = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        const k = await timed(() => Promise.allSettled(ids.map((id) => kill(s.stack, id))));
        const failedKills = k.value.filter((r) => r.status === 'rejected').length;
        rec(`burst ${burst} creates`, c.ms);
        rec(`burst ${burst} kills`, k.ms);
        rec(`burst errors`, burst - ids.length + failedKills);
        console.log(`round ${i} ${s.label}: ${burst} creates ${c.ms.toFixed(0)} ms (${burst - ids.length} failed), kills ${k.ms.toFixed(0)} ms (${failedKills} failed), load ${os.loadavg()[0]?.toFixed(2)}`);
        continue;
      }
      const rec = (k: string, ms: number) => i > 0 && (t[`${k} ${s.label}`] ??= []).push(ms);
      const { stack, id } = s;
      rec('get', (await timed(() => ok(stack.call('GET', `/sandboxes/${id}`)))).ms);
      rec('setTimeout', (await timed(() => ok(stack.call('POST', `/sandboxes/${id}/timeout`, { timeout: 600 })))).ms);
      rec('refresh', (await timed(() => ok(stack.call('POST', `/sandboxes/${id}/refreshes`, { duration: 600 })))).ms);
      rec('pause', (await timed(() => ok(stack.call('POST', `/sandboxes/${id}/pause`)))).ms);
      rec('resume', (await timed(() => ok(stack.call('POST', `/sandboxes/${id}/resume`)))).ms);
    }
  }
  console.log(`interleaved, n = ${values.ops === 'burst' ? `${reps + 1} bursts` : reps} each (p50 / p90 ms), load ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  for (const k of Object.keys(t).sort()) {
    const s = summarize(t[k] ?? []);
    console.log(`  ${k.padEnd(40)} ${s.p50.toFixed(1).padStart(6)} / ${s.p90.toFixed(1).padStart(6)}`);
  }
} finally {
  for (const s of stacks) {
    if (s.id) await s.stack.call('DELETE', `/sandboxes/${s.id}`).catch(() => undefined);
    await s.stack.stop().catch(() => undefined);
  }
  await cleanupContainers(docker, runA);
  await cleanupContainers(docker, runB);
}
