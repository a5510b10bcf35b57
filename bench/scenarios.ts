/**
 * The scenarios of issues 6 and 15, each measured beside its raw-Docker floor in the same run.
 * Targets are issue 15's (see bench/lib/targets.ts for the one-line-per-target summary).
 */
import os from 'node:os';
import type Docker from 'dockerode';
import { workflowIdFor } from '../src/ids.js';
import { pidsByName, processMemoryMB } from './lib/machine.js';
import { RawDocker, BENCH_TEMPLATE } from './lib/raw.js';
import type { BenchStack } from './lib/stack.js';
import { mapLimit, sleep, summarize, timed, type Summary } from './lib/stats.js';
import type { Metric, ScenarioName } from './lib/types.js';
import { createPool } from './scenario-create-pool.js';
import { pauseModes } from './pause-modes.js';
import { snapshotScenario } from './snapshot-scenario.js';
import { transfer } from './lib/http-transfer.js';

export interface Sizes {
  createN: number;
  lifecycleReps: number;
  commandN: number;
  bigCommandN: number;
  fileSizesMB: number[];
  fileReps: number[];
  burstN: number;
  timerN: number;
  timerFloorN: number;
  timerBaseS: number;
  timerSpreadS: number;
  scaleN: number;
  scaleConcurrency: number;
  scaleSampleN: number;
  historyDurationS: number;
  historyRatePerS: number;
  /** Rounds of scenario 10 (snapshot, boot from it). */
  snapshotN: number;
  /** Rounds per pause mode of scenario `pause-modes` (bench/pause-modes.ts). */
  pauseModeRounds: number;
}

export const SCALES: Record<'smoke' | 'medium' | 'full', Sizes> = {
  smoke: {
    createN: 2, lifecycleReps: 2, commandN: 2, bigCommandN: 1, fileSizesMB: [1, 4], fileReps: [1, 1], burstN: 3,
    timerN: 3, timerFloorN: 2, timerBaseS: 1, timerSpreadS: 2, scaleN: 4, scaleConcurrency: 4, scaleSampleN: 2,
    historyDurationS: 2, historyRatePerS: 5, snapshotN: 2, pauseModeRounds: 2,
  },
  medium: {
    // n ≥ 30 for every latency figure; the burst is issue 15's 200 + 200.
    createN: 30, lifecycleReps: 30, commandN: 50, bigCommandN: 30, fileSizesMB: [1, 100], fileReps: [30, 30], burstN: 200,
    timerN: 200, timerFloorN: 50, timerBaseS: 15, timerSpreadS: 45, scaleN: 400, scaleConcurrency: 12, scaleSampleN: 30,
    historyDurationS: 60, historyRatePerS: 10, snapshotN: 30, pauseModeRounds: 30,
  },
  full: {
    createN: 50, lifecycleReps: 50, commandN: 100, bigCommandN: 30, fileSizesMB: [1, 100], fileReps: [30, 30], burstN: 200,
    timerN: 500, timerFloorN: 100, timerBaseS: 20, timerSpreadS: 60, scaleN: 1000, scaleConcurrency: 16, scaleSampleN: 30,
    historyDurationS: 60, historyRatePerS: 10, snapshotN: 20, pauseModeRounds: 20,
  },
};

export interface Ctx {
  stack: BenchStack;
  raw: RawDocker;
  docker: Docker;
  sizes: Sizes;
  log: (msg: string) => void;
  dataPlane: boolean;
}

export interface ScenarioOutput {
  metrics: Metric[];
  details: Record<string, unknown>;
  skipped?: string;
}

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits;

interface SandboxBody {
  sandboxID: string;
  status: string;
  endAt: string | null;
}

function ratioOf(berth: Summary | null, floor: Summary | null): number | null {
  if (!berth || !floor || !(floor.p50 > 0)) return null;
  return round(berth.p50 / floor.p50, 3);
}

/** A latency metric whose target is `p50 ≤ factor × floor p50`. */
function ratioMetric(id: string, label: string, berth: number[], floor: number[], factor: number): Metric {
  const b = summarize(berth);
  const f = summarize(floor);
  const ratio = ratioOf(b, f);
  return { id, label, unit: 'ms', berth: b, floor: f, ratio, target: `p50 ≤ ${factor}× floor`, met: ratio === null ? null : ratio <= factor };
}

/** A latency metric whose target is `p50 ≤ floor p50 + addMs`. */
function additiveMetric(id: string, label: string, berth: number[], floor: number[], addMs: number): Metric {
  const b = summarize(berth);
  const f = summarize(floor);
  return { id, label, unit: 'ms', berth: b, floor: f, ratio: ratioOf(b, f), target: `p50 ≤ floor + ${addMs} ms`, met: b.p50 <= f.p50 + addMs };
}

/** A latency metric whose target is an absolute p50 bound (`< maxMs`, or `≤` when inclusive); the floor is shown for scale. */
function absoluteMetric(id: string, label: string, berth: number[], floor: number[] | null, maxMs: number, inclusive = false): Metric {
  const b = summarize(berth);
  const f = floor ? summarize(floor) : null;
  const met = inclusive ? b.p50 <= maxMs : b.p50 < maxMs;
  return { id, label, unit: 'ms', berth: b, floor: f, ratio: ratioOf(b, f), target: `p50 ${inclusive ? '≤' : '<'} ${maxMs} ms`, met };
}

async function createSandbox(ctx: Ctx, timeoutS: number): Promise<{ ms: number; body: SandboxBody }> {
  const { ms, value } = await timed(() => ctx.stack.call('POST', '/sandboxes?wait=true', { templateID: BENCH_TEMPLATE, timeout: timeoutS }));
  if (value.status !== 201) throw new Error(`create answered ${value.status}: ${JSON.stringify(value.body)}`);
  return { ms, body: value.body as SandboxBody };
}

async function killSandbox(ctx: Ctx, id: string): Promise<number> {
  const res = await ctx.stack.call('DELETE', `/sandboxes/${id}`);
  return res.status;
}

async function killAll(ctx: Ctx, ids: string[]): Promise<void> {
  await mapLimit(ids, 8, (id) => killSandbox(ctx, id).catch(() => 0));
}

async function removeAll(ctx: Ctx, names: string[]): Promise<void> {
  await mapLimit(names, 8, (n) => ctx.raw.remove(n).catch(() => undefined));
}

async function expectOk<T extends { status: number; body: unknown }>(label: string, p: Promise<T>): Promise<T> {
  const res = await p;
  if (res.status >= 300) throw new Error(`${label} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res;
}

// 1. create → running, versus create + start -------------------------------------------------
async function create(ctx: Ctx): Promise<ScenarioOutput> {
  const berth: number[] = [];
  const floor: number[] = [];
  const ids: string[] = [];
  const names: string[] = [];
  try {
    // Warm-up (not counted): first calls pay for connections and code loading.
    names.push(await ctx.raw.createAndStart());
    ids.push((await createSandbox(ctx, 600)).body.sandboxID);
    for (let i = 0; i < ctx.sizes.createN; i++) {
      const r = await timed(() => ctx.raw.createAndStart());
      floor.push(r.ms);
      names.push(r.value);
      const b = await createSandbox(ctx, 600);
      berth.push(b.ms);
      ids.push(b.body.sandboxID);
    }
  } finally {
    await Promise.all([killAll(ctx, ids), removeAll(ctx, names)]);
  }
  return { metrics: [ratioMetric('create', 'create → running (API) vs create + start', berth, floor, 1.1)], details: {} };
}

// 2. lifecycle calls, versus docker pause / unpause / inspect --------------------------------
async function lifecycle(ctx: Ctx): Promise<ScenarioOutput> {
  const s = { pause: [] as number[], resume: [] as number[], setTimeout: [] as number[], refresh: [] as number[], get: [] as number[] };
  const f = { pause: [] as number[], unpause: [] as number[], inspect: [] as number[] };
  const { body } = await createSandbox(ctx, 600);
  const name = await ctx.raw.createAndStart();
  const id = body.sandboxID;
  try {
    for (let i = 0; i < ctx.sizes.lifecycleReps + 1; i++) {
      const warm = i === 0; // first round not counted
      const add = (arr: number[], ms: number) => !warm && arr.push(ms);
      add(f.pause, (await timed(() => ctx.raw.pause(name))).ms);
      add(s.pause, (await timed(() => expectOk('pause', ctx.stack.call('POST', `/sandboxes/${id}/pause`)))).ms);
      add(f.unpause, (await timed(() => ctx.raw.unpause(name))).ms);
      add(s.resume, (await timed(() => expectOk('resume', ctx.stack.call('POST', `/sandboxes/${id}/resume`)))).ms);
      add(f.inspect, (await timed(() => ctx.raw.inspect(name))).ms);
      add(s.get, (await timed(() => expectOk('get', ctx.stack.call('GET', `/sandboxes/${id}`)))).ms);
      add(s.setTimeout, (await timed(() => expectOk('setTimeout', ctx.stack.call('POST', `/sandboxes/${id}/timeout`, { timeout: 600 })))).ms);
      add(s.refresh, (await timed(() => expectOk('refresh', ctx.stack.call('POST', `/sandboxes/${id}/refreshes`, { duration: 600 })))).ms);
    }
  } finally {
    await Promise.all([killAll(ctx, [id]), removeAll(ctx, [name])]);
  }
  return {
    metrics: [
      additiveMetric('pause', 'pause vs docker pause', s.pause, f.pause, 10),
      additiveMetric('resume', 'resume vs docker unpause', s.resume, f.unpause, 10),
      absoluteMetric('get', 'get vs docker inspect', s.get, f.inspect, 10),
      absoluteMetric('setTimeout', 'setTimeout (floor: inspect)', s.setTimeout, f.inspect, 10),
      absoluteMetric('refresh', 'refresh (floor: inspect)', s.refresh, f.inspect, 10),
    ],
    details: {},
  };
}

// 3. command round trip, versus a raw exec ------------------------------------------------------
const ONE_MB = 1024 * 1024;
const BIG_ECHO = ['/bin/sh', '-c', `head -c ${ONE_MB} /dev/zero | tr '\\000' a`];

async function commands(ctx: Ctx): Promise<ScenarioOutput> {
  if (!ctx.dataPlane) return { metrics: [], details: {}, skipped: 'skipped: data plane not available' };
  const { body } = await createSandbox(ctx, 600);
  const name = await ctx.raw.createAndStart();
  const id = body.sandboxID;
  const t = { berth: [] as number[], floor: [] as number[] };
  const big = { berth: [] as number[], floor: [] as number[] };
  const run = async (cmd: string[]) => {
    const res = await expectOk('command', ctx.stack.call('POST', `/sandboxes/${id}/commands`, { cmd }));
    const out = res.body as { exitCode: number; stdout: string };
    if (out.exitCode !== 0) throw new Error(`command exited ${out.exitCode}`);
    return out.stdout.length;
  };
  try {
    await run(['true']);
    await ctx.raw.exec(name, ['true']);
    for (let i = 0; i < ctx.sizes.commandN; i++) {
      t.floor.push((await timed(() => ctx.raw.exec(name, ['true']))).ms);
      t.berth.push((await timed(() => run(['true']))).ms);
    }
    for (let i = 0; i < ctx.sizes.bigCommandN; i++) {
      const r = await timed(() => ctx.raw.exec(name, BIG_ECHO));
      if (r.value.stdoutBytes !== ONE_MB) throw new Error(`raw exec returned ${r.value.stdoutBytes} bytes, expected ${ONE_MB}`);
      big.floor.push(r.ms);
      const b = await timed(() => run(BIG_ECHO));
      if (b.value !== ONE_MB) throw new Error(`berth returned ${b.value} bytes of stdout, expected ${ONE_MB}`);
      big.berth.push(b.ms);
    }
  } finally {
    await Promise.all([killAll(ctx, [id]), removeAll(ctx, [name])]);
  }
  return {
    metrics: [
      absoluteMetric('command-true', 'command `true` (floor: raw exec)', t.berth, t.floor, 10, true),
      ratioMetric('command-1mb', 'command printing 1 MB vs raw exec', big.berth, big.floor, 1.1),
    ],
    details: {},
  };
}

// 4. file write and read, versus the raw archive API --------------------------------------------
function throughputMetric(id: string, label: string, sizeMB: number, berth: number[], floor: number[]): Metric {
  const b = summarize(berth);
  const f = summarize(floor);
  const bt = round(sizeMB / (b.p50 / 1000), 1);
  const ft = round(sizeMB / (f.p50 / 1000), 1);
  const ratio = ft > 0 ? round(bt / ft, 3) : null;
  return { id, label, unit: 'ms', berth: b, floor: f, value: bt, floorValue: ft, ratio, target: 'throughput ≥ 0.8× floor', met: ratio === null ? null : ratio >= 0.8 };
}

async function files(ctx: Ctx): Promise<ScenarioOutput> {
  if (!ctx.dataPlane) return { metrics: [], details: {}, skipped: 'skipped: data plane not available' };
  const { body } = await createSandbox(ctx, 600);
  const name = await ctx.raw.createAndStart();
  const id = body.sandboxID;
  const metrics: Metric[] = [];
  try {
    for (const [k, sizeMB] of ctx.sizes.fileSizesMB.entries()) {
      const reps = ctx.sizes.fileReps[k] ?? 1;
      const data = Buffer.alloc(sizeMB * ONE_MB, 0x61);
      const w = { berth: [] as number[], floor: [] as number[] };
      const r = { berth: [] as number[], floor: [] as number[] };
      const file = `bench-${sizeMB}mb.bin`;
      for (let i = 0; i < reps + 1; i++) {
        const warm = i === 0;
        const fw = await timed(() => ctx.raw.putFile(name, '/tmp', file, data));
        // berth through node:http like the floor's dockerode (bench/lib/http-transfer.ts): the
        // same client work on both sides, the answer counted as it streams.
        const fileUrl = `${ctx.stack.apiUrl}/sandboxes/${id}/files?path=${encodeURIComponent(`/tmp/${file}`)}`;
        const auth = { authorization: `Bearer ${ctx.stack.apiKey}` };
        const bw = await timed(async () => {
          const res = await transfer('PUT', fileUrl, auth, data);
          if (res.status !== 201) throw new Error(`file write: HTTP ${res.status} ${res.text}`);
        });
        const fr = await timed(() => ctx.raw.getFile(name, `/tmp/${file}`));
        const br = await timed(async () => {
          const res = await transfer('GET', fileUrl, auth);
          if (res.status !== 200) throw new Error(`file read: HTTP ${res.status} ${res.text}`);
          return res.bytes;
        });
        if (br.value !== data.length) throw new Error(`read ${br.value} bytes back, wrote ${data.length}`);
        if (fr.value < data.length) throw new Error(`raw archive read returned ${fr.value} bytes, wrote ${data.length}`);
        if (warm) continue;
        w.floor.push(fw.ms);
        w.berth.push(bw.ms);
        r.floor.push(fr.ms);
        r.berth.push(br.ms);
      }
      metrics.push(throughputMetric(`file-write-${sizeMB}mb`, `file write ${sizeMB} MB vs putArchive`, sizeMB, w.berth, w.floor));
      metrics.push(throughputMetric(`file-read-${sizeMB}mb`, `file read ${sizeMB} MB vs getArchive`, sizeMB, r.berth, r.floor));
    }
  } finally {
    await Promise.all([killAll(ctx, [id]), removeAll(ctx, [name])]);
  }
  return { metrics, details: {} };
}

// 5. burst: N concurrent creates, then N concurrent kills ----------------------------------------
async function burst(ctx: Ctx): Promise<ScenarioOutput> {
  const n = ctx.sizes.burstN;
  const indexes = Array.from({ length: n }, (_, i) => i);
  // Floor first.
  const rawCreateT0 = performance.now();
  const rawCreated = await Promise.allSettled(indexes.map(() => ctx.raw.createAndStart()));
  const rawCreateWall = performance.now() - rawCreateT0;
  const names = rawCreated.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const rawKillT0 = performance.now();
  const rawKilled = await Promise.allSettled(names.map((nm) => ctx.raw.remove(nm)));
  const rawKillWall = performance.now() - rawKillT0;
  const rawErrors = n - names.length + rawKilled.filter((r) => r.status === 'rejected').length;
  await sleep(2000);

  const latencies: number[] = [];
  const createT0 = performance.now();
  const created = await Promise.allSettled(
    indexes.map(async () => {
      const r = await createSandbox(ctx, 600);
      latencies.push(r.ms);
      return r.body.sandboxID;
    }),
  );
  const createWall = performance.now() - createT0;
  const ids = created.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const createErrors = created.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason).slice(0, 300));
  const killLat: number[] = [];
  const killT0 = performance.now();
  const killed = await Promise.allSettled(
    ids.map(async (id) => {
      const r = await timed(() => killSandbox(ctx, id));
      killLat.push(r.ms);
      if (r.value !== 204) throw new Error(`kill answered ${r.value}`);
    }),
  );
  const killWall = performance.now() - killT0;
  const killErrors = killed.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => String(r.reason).slice(0, 300));
  const errors = createErrors.length + killErrors.length;
  const total = createWall + killWall;
  const rawTotal = rawCreateWall + rawKillWall;
  const wallMetric = (id: string, label: string, v: number, fv: number, factor: number | null): Metric => ({
    id,
    label,
    unit: 'ms',
    berth: null,
    floor: null,
    value: Math.round(v),
    floorValue: Math.round(fv),
    ratio: round(v / fv, 3),
    target: factor === null ? 'informational' : `wall ≤ ${factor}× floor`,
    met: factor === null ? null : v <= factor * fv,
  });
  return {
    metrics: [
      { id: 'burst-errors', label: `burst errors (${n} creates + kills)`, unit: 'count', berth: null, floor: null, value: errors, floorValue: rawErrors, ratio: null, target: 'zero errors', met: errors === 0 },
      wallMetric('burst-wall', `burst wall time, ${n} creates then ${n} kills`, total, rawTotal, 1.1),
      wallMetric('burst-create-wall', `burst: ${n} concurrent creates`, createWall, rawCreateWall, null),
      wallMetric('burst-kill-wall', `burst: ${n} concurrent kills`, killWall, rawKillWall, null),
      { id: 'burst-create-latency', label: 'burst: per-create latency', unit: 'ms', berth: summarize(latencies), floor: null, ratio: null, target: 'informational', met: null },
      { id: 'burst-kill-latency', label: 'burst: per-kill latency', unit: 'ms', berth: summarize(killLat), floor: null, ratio: null, target: 'informational', met: null },
    ],
    details: { n, createErrors: createErrors.slice(0, 10), killErrors: killErrors.slice(0, 10), rawErrors },
  };
}

// 6. timer precision -----------------------------------------------------------------------------
interface StopEvent {
  atMs: number;
  status: string;
  reason: string;
}

async function timers(ctx: Ctx): Promise<ScenarioOutput> {
  const { timerN, timerFloorN, timerBaseS, timerSpreadS } = ctx.sizes;
  const timeoutOf = (i: number) => timerBaseS + (i % (timerSpreadS + 1));
  // Floor: a process timer + docker rm, for a subset (same staggering).
  const floorLate: number[] = [];
  const floorRun = (async () => {
    const names = await mapLimit(Array.from({ length: timerFloorN }, (_, i) => i), 4, async (i) => {
      const nm = await ctx.raw.createAndStart();
      const deadline = Date.now() + timeoutOf(i) * 1000;
      return { nm, deadline };
    });
    await Promise.all(
      names.map(async ({ nm, deadline }) => {
        await sleep(Math.max(0, deadline - Date.now()));
        await ctx.raw.remove(nm).catch(() => undefined);
        floorLate.push(Date.now() - deadline);
      }),
    );
  })();

  const sandboxes: { id: string; endAtMs: number; timeoutS: number }[] = [];
  const createErrors: string[] = [];
  ctx.log(`timers: creating ${timerN} sandboxes with timeouts ${timerBaseS}-${timerBaseS + timerSpreadS} s`);
  await mapLimit(Array.from({ length: timerN }, (_, i) => i), 8, async (i) => {
    try {
      const { body } = await createSandbox(ctx, timeoutOf(i));
      if (!body.endAt) throw new Error('create answered no endAt');
      sandboxes.push({ id: body.sandboxID, endAtMs: Date.parse(body.endAt), timeoutS: timeoutOf(i) });
    } catch (err) {
      createErrors.push(String(err).slice(0, 300));
    }
  });
  ctx.log(`timers: ${sandboxes.length} created; waiting for them to stop on their own`);
  // Watch through the bench's own Temporal client (describe, then the result's events): no API call touches them.
  const late: number[] = [];
  let early = 0;
  const otherReasons: Record<string, number> = {};
  const pending = new Set(sandboxes);
  const giveUpAt = Math.max(0, ...sandboxes.map((s) => s.endAtMs)) + 120_000;
  while (pending.size > 0 && Date.now() < giveUpAt) {
    const due = [...pending].filter((s) => s.endAtMs + 200 < Date.now());
    await mapLimit(due, 16, async (s) => {
      const handle = ctx.stack.client.workflow.getHandle(workflowIdFor(s.id));
      const d = await handle.describe().catch(() => null);
      if (!d || d.status.name === 'RUNNING') return;
      pending.delete(s);
      const result = (await handle.result().catch(() => null)) as { events?: StopEvent[] } | null;
      const stop = [...(result?.events ?? [])].reverse().find((e) => e.status === 'stopped');
      if (!stop) {
        otherReasons[`ended ${d.status.name} without a stop event`] = (otherReasons[`ended ${d.status.name} without a stop event`] ?? 0) + 1;
        return;
      }
      if (stop.reason !== 'idle_timeout') otherReasons[stop.reason] = (otherReasons[stop.reason] ?? 0) + 1;
      const lateness = stop.atMs - s.endAtMs;
      if (lateness < 0) early++;
      late.push(lateness);
    });
    await sleep(500);
  }
  await floorRun;
  const b = summarize(late);
  const f = summarize(floorLate);
  return {
    metrics: [
      { id: 'timer-early', label: 'timers: stopped before endAt', unit: 'count', berth: null, floor: null, value: early, floorValue: 0, ratio: null, target: 'zero', met: early === 0 },
      { id: 'timer-lateness', label: `timers: stop lateness after endAt (${late.length} sandboxes)`, unit: 'ms', berth: b, floor: f, ratio: null, target: 'p99 < 2000 ms', met: late.length > 0 && b.p99 < 2000 },
      { id: 'timer-missing', label: 'timers: not stopped within endAt + 120 s, or failed to create', unit: 'count', berth: null, floor: null, value: pending.size + createErrors.length, ratio: null, target: 'zero', met: pending.size + createErrors.length === 0 },
    ],
    details: { latenessMs: late, floorLatenessMs: floorLate, otherReasons, createErrors: createErrors.slice(0, 10), floorNote: `floor = a Node setTimeout + docker rm for ${timerFloorN} containers` },
  };
}

// 7. scale: N live sandboxes -------------------------------------------------------------------
function controlPlaneMemory(ctx: Ctx) {
  const worker = processMemoryMB(ctx.stack.worker.pid);
  const api = processMemoryMB(ctx.stack.api.pid);
  const temporal = processMemoryMB(ctx.stack.temporal.process.pid);
  const engineRss = pidsByName(['dockerd', 'containerd', 'containerd-shim', 'containerd-shim-runc-v2'])
    .map((pid) => processMemoryMB(pid)?.rssMB ?? 0)
    .reduce((a, b) => a + b, 0);
  const total = (worker?.rssMB ?? 0) + (api?.rssMB ?? 0) + (temporal?.rssMB ?? 0);
  return { worker, api, temporal, totalMB: round(total, 1), dockerEngineMB: round(engineRss, 1), hostAvailableMB: Math.round(os.freemem() / ONE_MB) };
}

async function scale(ctx: Ctx): Promise<ScenarioOutput> {
  const { scaleN, scaleConcurrency, scaleSampleN } = ctx.sizes;
  const before = controlPlaneMemory(ctx);
  const ids: string[] = [];
  const createLat: number[] = [];
  const errors: string[] = [];
  const names: string[] = [];
  let live: ReturnType<typeof controlPlaneMemory> | undefined;
  const s = { get: [] as number[], setTimeout: [] as number[], refresh: [] as number[], pause: [] as number[], resume: [] as number[] };
  const f = { inspect: [] as number[], pause: [] as number[], unpause: [] as number[] };
  let createWallS = 0;
  let killWallS = 0;
  try {
    const t0 = performance.now();
    let lastLog = Date.now();
    await mapLimit(Array.from({ length: scaleN }, (_, i) => i), scaleConcurrency, async () => {
      try {
        const r = await createSandbox(ctx, 3600);
        ids.push(r.body.sandboxID);
        createLat.push(r.ms);
      } catch (err) {
        errors.push(String(err).slice(0, 300));
      }
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        ctx.log(`scale: ${ids.length}/${scaleN} live (${errors.length} errors)`);
      }
    });
    createWallS = round((performance.now() - t0) / 1000, 1);
    ctx.log(`scale: ${ids.length} live sandboxes after ${createWallS} s; settling 10 s`);
    await sleep(ctx.sizes.scaleN >= 100 ? 10_000 : 1000);
    for (let i = 0; i < Math.min(5, scaleSampleN); i++) names.push(await ctx.raw.createAndStart());
    // Lifecycle latency while they all live, on a sample, with the floor on raw containers beside them.
    const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / scaleSampleN)) === 0).slice(0, scaleSampleN);
    for (const [i, id] of sample.entries()) {
      const nm = names[i % Math.max(1, names.length)];
      if (nm) {
        f.inspect.push((await timed(() => ctx.raw.inspect(nm))).ms);
        f.pause.push((await timed(() => ctx.raw.pause(nm))).ms);
        f.unpause.push((await timed(() => ctx.raw.unpause(nm))).ms);
      }
      s.get.push((await timed(() => expectOk('get', ctx.stack.call('GET', `/sandboxes/${id}`)))).ms);
      s.setTimeout.push((await timed(() => expectOk('setTimeout', ctx.stack.call('POST', `/sandboxes/${id}/timeout`, { timeout: 3600 })))).ms);
      s.refresh.push((await timed(() => expectOk('refresh', ctx.stack.call('POST', `/sandboxes/${id}/refreshes`, { duration: 3600 })))).ms);
      s.pause.push((await timed(() => expectOk('pause', ctx.stack.call('POST', `/sandboxes/${id}/pause`)))).ms);
      s.resume.push((await timed(() => expectOk('resume', ctx.stack.call('POST', `/sandboxes/${id}/resume`)))).ms);
    }
    live = controlPlaneMemory(ctx);
  } finally {
    const t1 = performance.now();
    await mapLimit(ids, scaleConcurrency, (id) => killSandbox(ctx, id).catch(() => 0));
    killWallS = round((performance.now() - t1) / 1000, 1);
    await removeAll(ctx, names);
  }
  const mem = live ?? controlPlaneMemory(ctx);
  const mb = (id: string, label: string, v: number, target = 'informational', met: boolean | null = null): Metric => ({
    id, label, unit: 'MB', berth: null, floor: null, value: v, ratio: null, target, met,
  });
  return {
    metrics: [
      mb('scale-control-plane-rss', `control plane RSS (worker + API + Temporal) with ${ids.length} live sandboxes`, mem.totalMB, '< 1536 MB', ids.length >= scaleN && mem.totalMB < 1536),
      mb('scale-worker-rss', 'worker RSS', mem.worker?.rssMB ?? 0),
      mb('scale-api-rss', 'API RSS', mem.api?.rssMB ?? 0),
      mb('scale-temporal-rss', 'Temporal dev server RSS', mem.temporal?.rssMB ?? 0),
      mb('scale-engine-rss', 'Docker engine RSS (dockerd + containerd + shims), for reference', mem.dockerEngineMB),
      { id: 'scale-create-errors', label: `scale: failed creates of ${scaleN}`, unit: 'count', berth: null, floor: null, value: errors.length, ratio: null, target: 'zero', met: errors.length === 0 },
      { id: 'scale-create-latency', label: `scale: create latency (${scaleConcurrency} in flight)`, unit: 'ms', berth: summarize(createLat), floor: null, ratio: null, target: 'informational', met: null },
      absoluteMetric('scale-get', `get with ${ids.length} live (floor: inspect)`, s.get, f.inspect, 10),
      absoluteMetric('scale-setTimeout', `setTimeout with ${ids.length} live`, s.setTimeout, f.inspect, 10),
      absoluteMetric('scale-refresh', `refresh with ${ids.length} live`, s.refresh, f.inspect, 10),
      additiveMetric('scale-pause', `pause with ${ids.length} live vs docker pause`, s.pause, f.pause, 10),
      additiveMetric('scale-resume', `resume with ${ids.length} live vs docker unpause`, s.resume, f.unpause, 10),
    ],
    details: { memoryBefore: before, memoryLive: mem, createWallS, killWallS, live: ids.length, errors: errors.slice(0, 10) },
  };
}

// 8. history cost of a busy sandbox --------------------------------------------------------------
async function history(ctx: Ctx): Promise<ScenarioOutput> {
  if (!ctx.dataPlane) return { metrics: [], details: {}, skipped: 'skipped: data plane not available' };
  const { historyDurationS, historyRatePerS } = ctx.sizes;
  const { body } = await createSandbox(ctx, 600);
  const id = body.sandboxID;
  const handle = ctx.stack.client.workflow.getHandle(workflowIdFor(id));
  const lat: number[] = [];
  let errors = 0;
  let skipped = 0;
  let runs = 1;
  let firstRunId = '';
  let startEvents = 0;
  let endEvents = 0;
  try {
    const d0 = await handle.describe();
    startEvents = d0.historyLength;
    firstRunId = d0.runId;
    const total = historyDurationS * historyRatePerS;
    const interval = 1000 / historyRatePerS;
    const inFlight = new Set<Promise<void>>();
    const t0 = Date.now();
    for (let i = 0; i < total; i++) {
      const at = t0 + i * interval;
      await sleep(Math.max(0, at - Date.now()));
      if (inFlight.size >= 20) {
        skipped++;
        continue;
      }
      const p = timed(() => ctx.stack.call('POST', `/sandboxes/${id}/commands`, { cmd: ['true'] }))
        .then((r) => {
          if (r.value.status !== 200) errors++;
          else lat.push(r.ms);
        })
        .catch(() => {
          errors++;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
    // Let the coalesced trailing touch land.
    await sleep(6000);
    const d1 = await handle.describe();
    endEvents = d1.historyLength;
    if (d1.runId !== firstRunId) runs = 2; // continued as new at least once
  } finally {
    await killAll(ctx, [id]);
  }
  const commandsRun = lat.length;
  return {
    metrics: [
      { id: 'history-events', label: `history events of a sandbox after ${commandsRun} commands in ${historyDurationS} s`, unit: 'events', berth: null, floor: null, value: endEvents, ratio: null, target: 'informational (coalesced touches)', met: null },
      { id: 'history-events-added', label: 'events added by the busy period', unit: 'events', berth: null, floor: null, value: runs === 1 ? endEvents - startEvents : endEvents, ratio: null, target: 'informational', met: null },
      { id: 'history-command-latency', label: `command latency at ${historyRatePerS}/s`, unit: 'ms', berth: summarize(lat), floor: null, ratio: null, target: 'informational', met: null },
    ],
    details: { startEvents, endEvents, commandsRun, errors, skipped, continuedAsNew: runs > 1 },
  };
}

export const SCENARIO_FNS: Record<ScenarioName, { title: string; run: (ctx: Ctx) => Promise<ScenarioOutput> }> = {
  create: { title: '1. create → running', run: create },
  lifecycle: { title: '2. lifecycle calls', run: lifecycle },
  commands: { title: '3. command round trip', run: commands },
  files: { title: '4. file write and read', run: files },
  burst: { title: '5. burst of concurrent creates and kills', run: burst },
  timers: { title: '6. timer precision', run: timers },
  scale: { title: '7. live sandboxes at scale', run: scale },
  history: { title: '8. history cost of a busy sandbox', run: history },
  'create-pool': { title: '9. create → running from the warm pool', run: createPool },
  snapshot: { title: '10. snapshot and boot from it', run: snapshotScenario },
  'pause-modes': { title: '11. pause modes: memory held and resume time (freeze, disk)', run: pauseModes },
};
