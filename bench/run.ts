/**
 * `npm run bench`: berth against the raw Docker floor, in the same run, on this machine.
 *
 *   node --import tsx bench/run.ts [--scale smoke|medium|full] [--only create,lifecycle,…] [--out DIR]
 *     [--quiet-check [--max-load N] [--quiet-wait S]] [--live N] [--merge]
 *
 * Starts its own Temporal dev server (in memory), a worker and an API as child processes,
 * all on 127.0.0.1; runs the scenarios; writes results.json, README.md (table between
 * markers) and PNG plots to DIR (default docs/benchmarks). `--dynamic-config KEY=JSON`
 * (repeatable) passes Temporal dynamic config to the dev server, for experiments. Every container it creates is
 * labelled and removed at the end, also on failure or Ctrl-C.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { createDockerClient } from '../src/docker/client.js';
import { defaultTemporalCliPath } from '../src/dev/temporal-dev-server.js';
import { describeMachine } from './lib/machine.js';
import { defaultMaxLoad, loadAverages, quietCheck } from './lib/quiet.js';
import { cleanupContainers, RawDocker } from './lib/raw.js';
import { writeReport } from './lib/report.js';
import { startBenchStack, type BenchStack } from './lib/stack.js';
import { SCENARIOS, type BenchResults, type ScenarioName, type ScenarioResult } from './lib/types.js';
import { SCALES, SCENARIO_FNS, type Ctx } from './scenarios.js';
import { stopCreatePoolStack } from './scenario-create-pool.js';

const USAGE =
  `usage: npm run bench -- [--scale smoke|medium|full] [--only ${SCENARIOS.join(',')}] [--out DIR] ` +
  '[--quiet-check] [--max-load N] [--quiet-wait S] [--live N] [--merge] [--dynamic-config KEY=JSON ...] [--worker-options JSON]';

/** Scenarios of an earlier results.json in `outDir` that this run does not re-measure (`--merge`). */
function earlierScenarios(outDir: string): ScenarioResult[] {
  const file = path.join(outDir, 'results.json');
  if (!existsSync(file)) return [];
  const old = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
  return old.scenarios.map((s) => ({ ...s, run: s.run ?? { scale: old.scale, startedAt: old.startedAt, loadBefore: [], loadAfter: [] } }));
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: 'full' },
      only: { type: 'string' },
      out: { type: 'string', default: 'docs/benchmarks' },
      'dynamic-config': { type: 'string', multiple: true },
      'worker-options': { type: 'string' },
      'quiet-check': { type: 'boolean', default: false },
      'max-load': { type: 'string' },
      'quiet-wait': { type: 'string', default: '60' },
      live: { type: 'string' },
      merge: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const scaleName = values.scale as keyof typeof SCALES;
  const baseSizes = SCALES[scaleName];
  if (!baseSizes) throw new Error(`unknown --scale ${values.scale}; ${USAGE}`);
  const live = values.live === undefined ? undefined : Number(values.live);
  if (live !== undefined && !(Number.isInteger(live) && live >= 1)) throw new Error(`--live takes a whole number of sandboxes ≥ 1 (e.g. --live 1000); got ${values.live}`);
  const sizes = live === undefined ? baseSizes : { ...baseSizes, scaleN: live, scaleConcurrency: Math.max(baseSizes.scaleConcurrency, live >= 1000 ? 16 : 0) };
  const maxLoad = values['max-load'] === undefined ? defaultMaxLoad() : Number(values['max-load']);
  if (!(maxLoad > 0)) throw new Error(`--max-load takes a positive load average (e.g. 1.5); got ${values['max-load']}`);
  const quietWaitS = Number(values['quiet-wait']);
  if (!(quietWaitS >= 0)) throw new Error(`--quiet-wait takes seconds ≥ 0; got ${values['quiet-wait']}`);
  const only = values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : [...SCENARIOS];
  for (const name of only) if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`unknown scenario ${name}; ${USAGE}`);
  const log = (msg: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
  let quiet: BenchResults['quietCheck'] = null;
  if (values['quiet-check']) {
    const verdict = await quietCheck(maxLoad, quietWaitS, log);
    if (!verdict.ok) {
      console.error(`[bench] ${verdict.message}`);
      return 3;
    }
    log(verdict.message);
    quiet = { load1: verdict.load1, maxLoad };
  }
  const outDir = path.resolve(values.out);
  mkdirSync(outDir, { recursive: true });
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const runId = randomBytes(4).toString('hex');

  const kept = values.merge ? earlierScenarios(outDir).filter((s) => !only.includes(s.name)) : [];

  Runtime.install({ logger: new DefaultLogger('WARN') });
  const docker = createDockerClient(process.env.DOCKER_SOCKET ?? '/var/run/docker.sock');
  const stale = await cleanupContainers(docker, null);
  if (stale > 0) log(`removed ${stale} containers left by an earlier bench run`);
  const machine = await describeMachine(docker, defaultTemporalCliPath());
  const startedAt = new Date().toISOString();
  log(`scale ${scaleName}, scenarios ${only.join(', ')}; logs in ${logDir}; results to ${outDir}`);

  let stack: BenchStack | undefined;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: cleaning up');
    void (async () => {
      await stack?.stop().catch(() => undefined);
      await stopCreatePoolStack().catch(() => undefined);
      await cleanupContainers(docker, runId).catch(() => undefined);
      process.exit(130);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results: ScenarioResult[] = [];
  try {
    stack = await startBenchStack({
      runId,
      logDir,
      dynamicConfig: values['dynamic-config'] ?? [],
      ...(values['worker-options'] ? { workerOptionsJson: values['worker-options'] } : {}),
    });
    log(`stack up: API ${stack.apiUrl}, Temporal ${stack.temporal.address}`);
    const openapi = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as { paths?: Record<string, unknown> };
    const paths = Object.keys(openapi.paths ?? {});
    const dataPlane = paths.some((p) => /^\/sandboxes\/\{[^}]+\}\/commands$/.test(p)) && paths.some((p) => /^\/sandboxes\/\{[^}]+\}\/files$/.test(p));
    if (!dataPlane) log('data plane endpoints not found in /openapi.json: scenarios 3, 4 and 8 will be skipped');
    const ctx: Ctx = { stack, raw: new RawDocker(docker, runId, stack.networkName), docker, sizes, log, dataPlane };
    for (const name of SCENARIOS) {
      if (!only.includes(name) || interrupted) continue;
      const def = SCENARIO_FNS[name as ScenarioName];
      log(`${def.title} ...`);
      const t0 = performance.now();
      const loadBefore = loadAverages();
      const run = () => ({ scale: scaleName, startedAt, loadBefore, loadAfter: loadAverages() });
      try {
        const out = await def.run(ctx);
        const durationS = (performance.now() - t0) / 1000;
        if (out.skipped) {
          log(`  ${out.skipped}`);
          results.push({ name, title: def.title, status: 'skipped', reason: out.skipped, durationS, metrics: [], details: {}, run: run() });
        } else {
          results.push({ name, title: def.title, status: 'ok', durationS, metrics: out.metrics, details: out.details, run: run() });
          for (const m of out.metrics) {
            const v = m.berth ? `p50 ${m.berth.p50} ms${m.floor ? ` (floor ${m.floor.p50})` : ''}` : `${m.value ?? '?'} ${m.unit}${m.floorValue !== undefined ? ` (floor ${m.floorValue})` : ''}`;
            log(`  ${m.label}: ${v}; target ${m.target}: ${m.met === null ? '—' : m.met ? 'met' : 'MISSED'}`);
          }
        }
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        log(`  FAILED: ${reason}`);
        results.push({ name, title: def.title, status: 'failed', reason, durationS: (performance.now() - t0) / 1000, metrics: [], details: {}, run: run() });
      }
      // Nothing of this scenario may linger into the next one.
      await cleanupContainers(docker, runId).catch(() => undefined);
    }
  } finally {
    await stack?.stop().catch((err: unknown) => log(`stack stop failed: ${String(err)}`));
    const removed = await cleanupContainers(docker, runId).catch(() => 0);
    if (removed > 0) log(`removed ${removed} leftover containers`);
  }
  const report: BenchResults = {
    schema: 'berth-bench/1',
    scale: scaleName,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine,
    sizes,
    dynamicConfig: values['dynamic-config'] ?? [],
    workerOptions: values['worker-options'] ?? null,
    quietCheck: quiet,
    notes: [
      'All processes on 127.0.0.1: Temporal CLI dev server (in-memory SQLite), berth worker and API as separate Node processes, the bench client.',
      'The floor is dockerode against the same engine with the same image (berth/busybox:1) and the same hardened container spec (src/activities/container-spec.ts).',
    ],
    scenarios: [...kept, ...results].sort((a, b) => order(a.name) - order(b.name)),
  };
  await writeReport(outDir, report);
  log(`wrote ${path.join(outDir, 'results.json')}`);
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

function order(name: string): number {
  const i = (SCENARIOS as readonly string[]).indexOf(name);
  return i < 0 ? SCENARIOS.length : i;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
