/**
 * Scenario `pause-modes` (issue 13): what a paused sandbox costs and how long it takes to come
 * back, for both pause modes. Each round creates a sandbox holding a 32 MB ballast in memory
 * (a file on its /dev/shm, charged to its cgroup), then pauses and resumes it, measuring:
 * - the container's memory use (Docker stats, `memory_stats.usage`) running and while paused
 *   (`disk`: no container, so 0 by construction; the pause image size is reported instead);
 * - pause and resume latency through the API, and resume + first command (`true`).
 * Sandboxes are created with the `tiny` template (busybox) and 128 MB.
 */
import type Docker from 'dockerode';
import type { Ctx, ScenarioOutput } from './scenarios.js';
import { summarize, timed } from './lib/stats.js';
import type { Metric } from './lib/types.js';

const BALLAST_MB = 32;
const MODES = ['freeze', 'disk'] as const;
type Mode = (typeof MODES)[number];

async function memoryMB(docker: Docker, id: string): Promise<number> {
  try {
    const stats = (await docker.getContainer(id).stats({ stream: false })) as { memory_stats?: { usage?: number } };
    return (stats.memory_stats?.usage ?? 0) / 1024 / 1024;
  } catch {
    return 0; // no container: nothing held
  }
}

function measured(id: string, label: string, unit: Metric['unit'], samples: number[]): Metric {
  const summary = summarize(samples);
  return { id, label, unit, berth: unit === 'ms' ? summary : null, floor: null, ...(unit === 'ms' ? {} : { value: Math.round((summary?.p50 ?? 0) * 10) / 10 }), ratio: null, target: 'measured', met: null };
}

async function ok(label: string, p: Promise<{ status: number; body: unknown }>): Promise<{ status: number; body: unknown }> {
  const res = await p;
  if (res.status >= 300) throw new Error(`${label} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res;
}

export async function pauseModes(ctx: Ctx): Promise<ScenarioOutput> {
  if (!ctx.dataPlane) return { metrics: [], details: {}, skipped: 'skipped: data plane not available' };
  const rounds = ctx.sizes.pauseModeRounds;
  const r: Record<Mode, { running: number[]; paused: number[]; pause: number[]; resume: number[]; firstCommand: number[]; imageMB: number[] }> = {
    freeze: { running: [], paused: [], pause: [], resume: [], firstCommand: [], imageMB: [] },
    disk: { running: [], paused: [], pause: [], resume: [], firstCommand: [], imageMB: [] },
  };
  for (let i = 0; i < rounds + 1; i++) {
    const warm = i === 0; // first round not counted
    for (const mode of MODES) {
      const created = await ok('create', ctx.stack.call('POST', '/sandboxes?wait=true', { templateID: 'tiny', timeout: 600, resources: { cpu: 0.5, memoryMB: 128 } }));
      const id = (created.body as { sandboxID: string }).sandboxID;
      const m = r[mode];
      const add = (arr: number[], v: number) => !warm && arr.push(v);
      try {
        await ok('ballast', ctx.stack.call('POST', `/sandboxes/${id}/commands`, { cmd: `head -c ${BALLAST_MB * 1024 * 1024} /dev/zero > /dev/shm/ballast` }));
        add(m.running, await memoryMB(ctx.docker, id));
        add(m.pause, (await timed(() => ok('pause', ctx.stack.call('POST', `/sandboxes/${id}/pause`, { mode })))).ms);
        add(m.paused, await memoryMB(ctx.docker, id));
        if (mode === 'disk') {
          const image = await ctx.docker.getImage(`berth-pause:${id}`).inspect();
          add(m.imageMB, image.Size / 1024 / 1024);
        }
        const t0 = performance.now();
        add(m.resume, (await timed(() => ok('resume', ctx.stack.call('POST', `/sandboxes/${id}/resume`)))).ms);
        await ok('first command', ctx.stack.call('POST', `/sandboxes/${id}/commands`, { cmd: 'true' }));
        add(m.firstCommand, performance.now() - t0);
      } finally {
        await ctx.stack.call('DELETE', `/sandboxes/${id}`).catch(() => undefined);
      }
    }
    ctx.log(`  round ${i}${warm ? ' (warm-up)' : ''} done`);
  }
  const metrics: Metric[] = [];
  for (const mode of MODES) {
    const m = r[mode];
    metrics.push(
      measured(`${mode}-running-mb`, `${mode}: container memory running (32 MB ballast)`, 'MB', m.running),
      measured(`${mode}-paused-mb`, `${mode}: container memory while paused`, 'MB', m.paused),
      measured(`${mode}-pause`, `${mode}: pause (API)`, 'ms', m.pause),
      measured(`${mode}-resume`, `${mode}: resume (API)`, 'ms', m.resume),
      measured(`${mode}-resume-first-command`, `${mode}: resume + first command`, 'ms', m.firstCommand),
    );
  }
  metrics.push(measured('disk-image-mb', 'disk: pause image size', 'MB', r.disk.imageMB));
  const freed = (mode: Mode) => (summarize(r[mode].running)?.p50 ?? 0) - (summarize(r[mode].paused)?.p50 ?? 0);
  return {
    metrics,
    details: {
      ballastMB: BALLAST_MB,
      memoryFreedMB: { freeze: Math.round(freed('freeze') * 10) / 10, disk: Math.round(freed('disk') * 10) / 10 },
      samples: r,
      note: 'Memory is the container cgroup usage from Docker stats (includes page cache); a disk-paused sandbox has no container, so it holds 0. The machine is shared with other engineers running tests: latencies vary with their load.',
    },
  };
}
