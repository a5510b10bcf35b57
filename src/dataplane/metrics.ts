/**
 * Per-sandbox resource metrics: a sampler in the API process reads `docker stats` (one-shot)
 * for every running berth container at a fixed period and keeps a bounded time series per
 * sandbox in memory. CPU % comes from the delta between two samples.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { LABELS } from '../docker/labels.js';
import { sandboxIdOfContainer } from '../docker/pool-labels.js';
import { dataPlaneError } from '../docker/errors.js';

/** One sample. */
export interface MetricSample {
  /** ISO timestamp of the sample. */
  at: string;
  /** CPU use in percent of one CPU (200 = two CPUs busy); null for the very first sample. */
  cpuPercent: number | null;
  /** CPUs the sandbox may use. */
  cpuLimit: number | null;
  memoryUsedBytes: number;
  memoryLimitBytes: number;
  /** Bytes written to the container's own file system layer; null until measured. */
  diskUsedBytes: number | null;
}

interface RawCpu {
  atMs: number;
  total: number;
  system: number;
  online: number;
}

interface Series {
  samples: MetricSample[];
  lastCpu?: RawCpu;
  diskUsedBytes: number | null;
  diskAtMs: number;
  /** CPUs the container may use (from the last inspect). */
  cpuLimit: number | null;
}

/** How often disk use is re-measured (it walks the container's layer). */
const DISK_PERIOD_MS = 30_000;

type StatsBody = {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: { inactive_file?: number; total_inactive_file?: number; cache?: number } };
};

/** Samples berth containers and answers metrics queries. */
/** Docker calls the background sampler makes at once. */
const SAMPLER_CONCURRENCY = 4;

export class MetricsSampler {
  private readonly series = new Map<string, Series>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    private readonly docker: Docker,
    private readonly options: { intervalMs: number; retention: number },
    private readonly logger?: Logger,
  ) {}

  /** Starts the periodic sampler (no-op when the interval is 0). */
  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling. */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Samples one sandbox now and returns it. `record: false` (a client asking for the current
   * value) does not add the sample to the series, so polling never crowds the periodic
   * samples out of the retention window (the CPU baseline and disk figure are still updated). Disk usage (a walk of the writable layer) is re-measured only when the
   * last measure is older than `diskMaxAgeMs`.
   */
  async sample(sandboxID: string, { record = true, diskMaxAgeMs = DISK_PERIOD_MS }: { record?: boolean; diskMaxAgeMs?: number } = {}): Promise<MetricSample> {
    const container = this.docker.getContainer(sandboxID);
    const series = this.seriesOf(sandboxID);
    const nowMs = Date.now();
    const needDisk = series.diskUsedBytes === null || nowMs - series.diskAtMs > diskMaxAgeMs;
    const [stats, inspect] = await Promise.all([
      // one-shot: no 1 s wait for a second reading; CPU % is computed against our previous sample.
      container.stats({ stream: false, 'one-shot': true } as { stream: false }) as Promise<StatsBody>,
      needDisk ? container.inspect({ size: true } as object) : Promise.resolve(null),
    ]).catch((err: unknown) => {
      throw dataPlaneError(err, sandboxID);
    });
    const atMs = Date.now(); // after the reads: samples are appended in time order
    if (inspect) {
      series.diskUsedBytes = (inspect as { SizeRw?: number }).SizeRw ?? 0;
      series.diskAtMs = nowMs;
    }
    const cpu: RawCpu = {
      atMs,
      total: stats.cpu_stats?.cpu_usage?.total_usage ?? 0,
      system: stats.cpu_stats?.system_cpu_usage ?? 0,
      online: stats.cpu_stats?.online_cpus ?? 1,
    };
    const cpuPercent = cpuPercentBetween(series.lastCpu, cpu);
    if (!series.lastCpu || cpu.total >= series.lastCpu.total) series.lastCpu = cpu;
    const nanoCpus = (inspect as { HostConfig?: { NanoCpus?: number } } | null)?.HostConfig?.NanoCpus;
    if (nanoCpus) series.cpuLimit = nanoCpus / 1e9;
    const sample: MetricSample = {
      at: new Date(atMs).toISOString(),
      cpuPercent,
      cpuLimit: series.cpuLimit,
      memoryUsedBytes: memoryUsed(stats),
      memoryLimitBytes: stats.memory_stats?.limit ?? 0,
      diskUsedBytes: series.diskUsedBytes,
    };
    if (!record) return sample;
    series.samples.push(sample);
    if (series.samples.length > this.options.retention) series.samples.splice(0, series.samples.length - this.options.retention);
    return sample;
  }

  /** Samples recorded for a sandbox within `[startMs, endMs]`, oldest first. */
  history(sandboxID: string, startMs = 0, endMs = Number.MAX_SAFE_INTEGER): MetricSample[] {
    return (this.series.get(sandboxID)?.samples ?? []).filter((s) => {
      const t = Date.parse(s.at);
      return t >= startMs && t <= endMs;
    });
  }

  private seriesOf(sandboxID: string): Series {
    let series = this.series.get(sandboxID);
    if (!series) {
      series = { samples: [], diskUsedBytes: null, diskAtMs: 0, cpuLimit: null };
      this.series.set(sandboxID, series);
    }
    return series;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const containers = await this.docker.listContainers({ filters: { label: [`${LABELS.managed}=true`], status: ['running'] } });
      const live = new Set<string>();
      // Bounded concurrency: with hundreds of sandboxes, an unbounded burst of stats and
      // size inspections would load the engine that the sandboxes themselves need.
      // Claimed warm-pool containers by name; unclaimed ones (no sandbox yet) are not sampled.
      const queue = containers.map((c) => sandboxIdOfContainer(c)).filter((id): id is string => Boolean(id));
      for (const id of queue) live.add(id);
      const workers = Array.from({ length: Math.min(SAMPLER_CONCURRENCY, queue.length) }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) await this.sample(id).catch(() => undefined);
      });
      await Promise.all(workers);
      // Forget sandboxes whose container is gone (stopped); paused ones keep their history.
      const paused = await this.docker.listContainers({ filters: { label: [`${LABELS.managed}=true`], status: ['paused'] } });
      for (const c of paused) live.add(sandboxIdOfContainer(c) ?? '');
      for (const id of this.series.keys()) if (!live.has(id)) this.series.delete(id);
    } catch (err) {
      this.logger?.warn({ err }, 'metrics sampling failed');
    } finally {
      this.ticking = false;
    }
  }
}

/** CPU % of one CPU between two cumulative readings (docker's formula); null without a previous one. */
export function cpuPercentBetween(prev: RawCpu | undefined, cur: RawCpu): number | null {
  if (!prev) return null;
  const cpuDelta = cur.total - prev.total;
  const systemDelta = cur.system - prev.system;
  if (systemDelta <= 0 || cpuDelta < 0) return 0;
  return Math.round((cpuDelta / systemDelta) * cur.online * 100 * 100) / 100;
}

/** Memory in use as `docker stats` shows it: usage minus inactive page cache. */
function memoryUsed(stats: StatsBody): number {
  const usage = stats.memory_stats?.usage ?? 0;
  const s = stats.memory_stats?.stats;
  const cache = s?.inactive_file ?? s?.total_inactive_file ?? 0;
  return Math.max(0, usage - cache);
}
