/**
 * `npm run chaos`: SIGKILLs berth's control plane (the worker, the API, the Temporal dev
 * server, and all of them at once) while creates and pauses are in flight and idle deadlines
 * fall during the outage; then reports lost sandboxes, orphan containers, early stops and
 * how late deadlines fired after the component was back.
 *
 *   node --import tsx chaos/run.ts [--short] [--targets worker,api,temporal,all] [--per-kind N] [--outage-ms MS] [--out FILE]
 *
 * Goal: 0 lost / 0 orphans / 0 early / 0 stuck, p99 lateness < 2 s. Exit code 1 when missed.
 * Every container it creates is labelled with its own owner and removed at the end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { createDockerClient } from '../src/docker/client.js';
import { meetsGoal, quantile } from './lib/audit.js';
import { Cluster, COMPONENTS, type Component } from './lib/cluster.js';
import { runScenario, type ScenarioResult } from './lib/scenario.js';

export const MAX_P99_LATENESS_MS = 2000;

export interface ChaosOptions {
  targets: Component[][];
  perKind: number;
  outageMs: number;
  settleMs: number;
  template: string;
  log: (line: string) => void;
}

export interface ChaosReport {
  scenarios: ScenarioResult[];
  /** Containers of the run's owner left after everything was killed through the API. */
  leftoverContainers: string[];
  unexpectedExits: string[];
  ok: boolean;
}

export const SHORT: Pick<ChaosOptions, 'targets' | 'perKind' | 'outageMs' | 'settleMs'> = {
  targets: [['worker'], ['temporal', 'worker', 'api']],
  perKind: 2,
  outageMs: 4000,
  settleMs: 30_000,
};
export const FULL: Pick<ChaosOptions, 'targets' | 'perKind' | 'outageMs' | 'settleMs'> = {
  targets: [['worker'], ['api'], ['temporal'], ['temporal', 'worker', 'api']],
  perKind: 5,
  outageMs: 8000,
  settleMs: 60_000,
};

/** Runs every scenario on one cluster of its own and judges the outcome. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-chaos-'));
  const runId = randomBytes(4).toString('hex');
  const docker = createDockerClient(process.env.DOCKER_SOCKET ?? '/var/run/docker.sock');
  const cluster = await Cluster.create(dir, runId);
  options.log(`cluster up (logs in ${dir}), owner ${cluster.owner}`);
  const scenarios: ScenarioResult[] = [];
  let ok = false;
  try {
    for (const killed of options.targets) {
      const result = await runScenario(cluster, docker, killed, options);
      options.log(describe(result));
      scenarios.push(result);
    }
    // Give the last kills a moment, then nothing of ours may remain.
    const deadline = Date.now() + 30_000;
    let leftover = await ownContainers(docker, cluster.owner);
    while (leftover.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      leftover = await ownContainers(docker, cluster.owner);
    }
    ok = leftover.length === 0 && cluster.unexpectedExits.length === 0 && scenarios.every((s) => meetsGoal(s.verdict, MAX_P99_LATENESS_MS));
    return { scenarios, leftoverContainers: leftover, unexpectedExits: [...cluster.unexpectedExits], ok };
  } finally {
    await cluster.stop();
    for (const id of await ownContainers(docker, cluster.owner)) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    if (ok) rmSync(dir, { recursive: true, force: true });
    else options.log(`logs kept in ${dir}`);
  }
}

async function ownContainers(docker: ReturnType<typeof createDockerClient>, owner: string): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`berth.owner=${owner}`] } });
  return list.map((c) => c.Labels['berth.sandbox'] ?? c.Id);
}

export function describe(r: ScenarioResult): string {
  const v = r.verdict;
  const ms = (x: number | null) => (x === null ? '-' : `${x} ms`);
  return [
    `kill ${r.killed.join('+')}: ${r.sandboxes} sandboxes`,
    `lost ${v.lost.length}, orphans ${v.orphans.length}, early ${v.early.length}, stuck ${v.stuck.length}`,
    `lateness p50 ${ms(quantile(v.latenessMs, 0.5))} p99 ${ms(quantile(v.latenessMs, 0.99))} (n=${v.latenessMs.length})`,
    `restart ${r.restartMs} ms, settled ${r.settleMs} ms after`,
    ...(v.lost.length + v.orphans.length + v.early.length + v.stuck.length > 0 ? [`ids ${JSON.stringify({ lost: v.lost, orphans: v.orphans, early: v.early, stuck: v.stuck })}`] : []),
  ].join(' · ');
}

function parseTargets(text: string): Component[][] {
  return text.split(',').map((t) => {
    if (t === 'all') return [...COMPONENTS];
    if (!(COMPONENTS as string[]).includes(t)) throw new Error(`unknown target ${t}; use worker, api, temporal or all`);
    return [t as Component];
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      short: { type: 'boolean', default: false },
      targets: { type: 'string' },
      'per-kind': { type: 'string' },
      'outage-ms': { type: 'string' },
      out: { type: 'string' },
      template: { type: 'string', default: 'tiny' },
    },
  });
  const base = values.short ? SHORT : FULL;
  const started = Date.now();
  const report = await runChaos({
    ...base,
    ...(values.targets ? { targets: parseTargets(values.targets) } : {}),
    ...(values['per-kind'] ? { perKind: Number(values['per-kind']) } : {}),
    ...(values['outage-ms'] ? { outageMs: Number(values['outage-ms']) } : {}),
    template: values.template ?? 'tiny',
    log: (line) => console.log(`[chaos] ${line}`),
  });
  const allLateness = report.scenarios.flatMap((s) => s.verdict.latenessMs);
  console.log(`[chaos] ${report.ok ? 'PASS' : 'FAIL'} in ${((Date.now() - started) / 1000).toFixed(0)} s: ` +
    `lost ${sum(report, 'lost')}, orphans ${sum(report, 'orphans') + report.leftoverContainers.length}, early ${sum(report, 'early')}, stuck ${sum(report, 'stuck')}, ` +
    `p99 lateness ${quantile(allLateness, 0.99) ?? '-'} ms (goal < ${MAX_P99_LATENESS_MS}), unexpected exits ${report.unexpectedExits.length}`);
  for (const line of report.unexpectedExits) console.log(`[chaos]   ${line}`);
  if (values.out) writeFileSync(values.out, JSON.stringify({ at: new Date().toISOString(), ...report }, null, 2));
  return report.ok ? 0 : 1;
}

function sum(report: ChaosReport, key: 'lost' | 'orphans' | 'early' | 'stuck'): number {
  return report.scenarios.reduce((n, s) => n + s.verdict[key].length, 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
