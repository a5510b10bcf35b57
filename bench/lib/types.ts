import type { Summary } from './stats.js';

export const SCENARIOS = ['create', 'lifecycle', 'commands', 'files', 'burst', 'timers', 'scale', 'history', 'create-pool', 'snapshot', 'pause-modes'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** One measured quantity, berth beside its floor. */
export interface Metric {
  id: string;
  label: string;
  unit: 'ms' | 'MB/s' | 'MB' | 'count' | 'events' | 's';
  /** Distribution (latencies); null for a single value. */
  berth: Summary | null;
  floor: Summary | null;
  /** Single values (wall time, errors, memory). */
  value?: number;
  floorValue?: number;
  /** berth / floor on p50 (or value); for throughput, berth / floor throughput. */
  ratio: number | null;
  target: string;
  met: boolean | null;
}

export interface ScenarioResult {
  name: ScenarioName;
  title: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  durationS: number;
  metrics: Metric[];
  details: Record<string, unknown>;
  /** The run that measured it (differs from the file's own run for scenarios kept by `--merge`). */
  run?: ScenarioRun;
}

export interface ScenarioRun {
  scale: string;
  startedAt: string;
  /** 1/5/15-minute load averages just before and just after the scenario. */
  loadBefore: number[];
  loadAfter: number[];
}

export interface BenchResults {
  schema: 'berth-bench/1';
  scale: string;
  startedAt: string;
  finishedAt: string;
  machine: unknown;
  sizes: unknown;
  /** Temporal dynamic config given with --dynamic-config (experiments). */
  dynamicConfig: string[];
  /** WorkerOptions overrides given with --worker-options (experiments), or null for src/worker.ts as is. */
  workerOptions: string | null;
  notes: string[];
  /** `--quiet-check`: the 1-min load average seen and the bar it had to pass; null without the check. */
  quietCheck: { load1: number; maxLoad: number } | null;
  scenarios: ScenarioResult[];
}
