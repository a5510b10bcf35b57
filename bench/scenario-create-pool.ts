/**
 * Scenario `create-pool`: create → running when the template has a warm pool (BERTH_WARM_POOL),
 * beside the raw floor (docker create + start with the same spec), interleaved in one run.
 * It runs its own stack (worker and API with the pool on, their own Temporal dev server), so the
 * other scenarios keep measuring cold creates. Before each measured create it waits (off the
 * measured path) until the pool is full again: the figure is a claim, not a miss; misses are
 * counted and reported.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LABELS } from '../src/docker/labels.js';
import { isUnclaimedPoolContainer, POOL_LABELS } from '../src/docker/pool-labels.js';
import { BENCH_TEMPLATE } from './lib/raw.js';
import { startBenchStack } from './lib/stack.js';
import { mapLimit, sleep, summarize, timed } from './lib/stats.js';
import type { Metric } from './lib/types.js';
import type { Ctx, ScenarioOutput } from './scenarios.js';

const POOL_SIZE = 4;

/** The scenario's own stack while it runs: an interrupted bench (Ctrl-C) stops it too (bench/run.ts). */
let running: { stop(): Promise<void> } | undefined;
export async function stopCreatePoolStack(): Promise<void> {
  await running?.stop();
}
const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

export async function createPool(ctx: Ctx): Promise<ScenarioOutput> {
  const runId = `${ctx.raw.runId}p`;
  const stack = await startBenchStack({ runId, logDir: mkdtempSync(path.join(os.tmpdir(), 'berth-bench-pool-')), env: { BERTH_WARM_POOL: `${BENCH_TEMPLATE}:${POOL_SIZE}`, BERTH_WARM_POOL_REFILL_INTERVAL_MS: '1000' } });
  running = stack;
  const ready = async () => {
    const listed = await ctx.docker.listContainers({ filters: { label: [POOL_LABELS.pool, `${LABELS.queue}=${stack.taskQueue}`], status: ['running'] } });
    return listed.filter((c) => isUnclaimedPoolContainer(c)).length;
  };
  const waitFull = async () => {
    const deadline = Date.now() + 120_000;
    while ((await ready()) < POOL_SIZE) {
      if (Date.now() > deadline) throw new Error(`the warm pool did not refill to ${POOL_SIZE} within 120 s`);
      await sleep(50);
    }
    // The worker records a container as ready a moment after it runs (it reads its address).
    await sleep(100);
  };
  const berth: number[] = [];
  const floor: number[] = [];
  const ids: string[] = [];
  const names: string[] = [];
  let pooled = 0;
  try {
    await waitFull();
    const create = async () => {
      const r = await timed(() => stack.call('POST', '/sandboxes?wait=true', { templateID: BENCH_TEMPLATE, timeout: 600 }));
      if (r.value.status !== 201) throw new Error(`create answered ${r.value.status}: ${JSON.stringify(r.value.body)}`);
      const id = (r.value.body as { sandboxID: string }).sandboxID;
      ids.push(id);
      const labels = (await ctx.docker.getContainer(id).inspect()).Config.Labels;
      return { ms: r.ms, pooled: Boolean(labels[POOL_LABELS.pool]) };
    };
    // Warm-up (not counted).
    names.push(await ctx.raw.createAndStart());
    await create();
    for (let i = 0; i < ctx.sizes.createN; i++) {
      const r = await timed(() => ctx.raw.createAndStart());
      floor.push(r.ms);
      names.push(r.value);
      await waitFull();
      const b = await create();
      berth.push(b.ms);
      if (b.pooled) pooled++;
    }
  } finally {
    await mapLimit(ids, 8, (id) => stack.call('DELETE', `/sandboxes/${id}`).catch(() => undefined));
    await mapLimit(names, 8, (n) => ctx.raw.remove(n).catch(() => undefined));
    await stack.stop();
    running = undefined;
  }
  const b = summarize(berth);
  const f = summarize(floor);
  const ratio = f.p50 > 0 ? round(b.p50 / f.p50) : null;
  const metric: Metric = {
    id: 'create-pool',
    label: 'create → running from the warm pool (API) vs create + start',
    unit: 'ms',
    berth: b,
    floor: f,
    ratio,
    target: 'p50 < 50 ms and ≤ 0.25× floor',
    met: ratio === null ? null : b.p50 < 50 && ratio <= 0.25,
  };
  return { metrics: [metric], details: { poolSize: POOL_SIZE, measured: berth.length, claimedFromPool: pooled } };
}
