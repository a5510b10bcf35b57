/**
 * The targets of issue 15, one line each: met or missed, and by how much. Ratios are against
 * the floor measured in the same run. Written into the README's "current state" block by
 * `npm run bench` (bench/lib/report.ts).
 */
import type { BenchResults, Metric, ScenarioResult } from './types.js';

export type Verdict = 'met' | 'missed' | 'not measured';

export interface TargetLine {
  target: string;
  measured: string;
  verdict: Verdict;
  /** How far from the bar, in words ("missed by 4.3 ms", "met, 5.2 ms to spare"). */
  margin: string;
}

/** Live sandboxes the pause/resume and memory targets at scale are about. */
export const SCALE_TARGET_LIVE = 1000;

interface Found {
  metric: Metric;
  scenario: ScenarioResult;
}

const f1 = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));
const f2 = (v: number) => v.toFixed(2);

function finder(results: BenchResults) {
  return (id: string): Found | null => {
    for (const scenario of results.scenarios) {
      if (scenario.status !== 'ok') continue;
      const metric = scenario.metrics.find((m) => m.id === id);
      if (metric) return { metric, scenario };
    }
    return null;
  };
}

function notMeasured(target: string, why: string): TargetLine {
  return { target, measured: '—', verdict: 'not measured', margin: why };
}

/** berth p50 ≤ factor × floor p50 (latency). */
function ratioLine(target: string, found: Found | null, factor: number, what: string): TargetLine {
  if (!found?.metric.berth || !found.metric.floor) return notMeasured(target, `no \`${what}\` figure in this run`);
  const b = found.metric.berth.p50;
  const f = found.metric.floor.p50;
  const ratio = b / f;
  const measured = `${f1(b)} vs ${f1(f)} ms = ${f2(ratio)}× (n = ${found.metric.berth.n})`;
  const budget = factor * f;
  return ratio <= factor
    ? { target, measured, verdict: 'met', margin: `${f1(budget - b)} ms under ${factor}× (${f2(factor - ratio)}× to spare)` }
    : { target, measured, verdict: 'missed', margin: `by ${f2(ratio - factor)}× (${f1(b - budget)} ms over ${factor}× the floor)` };
}

/** berth p50 ≤ floor p50 + add (latency). */
function additiveLine(target: string, found: Found | null, addMs: number, what: string): TargetLine {
  if (!found?.metric.berth || !found.metric.floor) return notMeasured(target, `no \`${what}\` figure in this run`);
  const b = found.metric.berth.p50;
  const f = found.metric.floor.p50;
  const over = b - f;
  const measured = `${f1(b)} vs ${f1(f)} ms (+${f1(over)} ms, n = ${found.metric.berth.n})`;
  return over <= addMs
    ? { target, measured, verdict: 'met', margin: `${f1(addMs - over)} ms to spare` }
    : { target, measured, verdict: 'missed', margin: `by ${f1(over - addMs)} ms` };
}

/** berth p50 < max (or ≤ max when `inclusive`). */
function absoluteLine(target: string, found: Found | null, maxMs: number, what: string, inclusive = false): TargetLine {
  if (!found?.metric.berth) return notMeasured(target, `no \`${what}\` figure in this run`);
  const b = found.metric.berth.p50;
  const measured = `p50 ${f1(b)} ms (n = ${found.metric.berth.n})`;
  const ok = inclusive ? b <= maxMs : b < maxMs;
  return ok ? { target, measured, verdict: 'met', margin: `${f1(maxMs - b)} ms to spare` } : { target, measured, verdict: 'missed', margin: `by ${f1(b - maxMs)} ms` };
}

/** Throughput ≥ factor × floor throughput. */
function throughputLine(target: string, found: Found | null, factor: number, what: string): TargetLine {
  if (!found || found.metric.value === undefined || found.metric.floorValue === undefined || !found.metric.berth) {
    return notMeasured(target, `no \`${what}\` figure in this run`);
  }
  const ratio = found.metric.value / found.metric.floorValue;
  const measured = `${f1(found.metric.value)} vs ${f1(found.metric.floorValue)} MB/s = ${f2(ratio)}× (n = ${found.metric.berth.n})`;
  return ratio >= factor
    ? { target, measured, verdict: 'met', margin: `${f2(ratio - factor)}× to spare` }
    : { target, measured, verdict: 'missed', margin: `by ${f2(factor - ratio)}×` };
}

function liveOf(found: Found | null): number {
  const live = found?.scenario.details.live;
  return typeof live === 'number' ? live : 0;
}

/** A combined line: met when every part is met; the margin lists each part. */
function combine(target: string, parts: { name: string; line: TargetLine }[]): TargetLine {
  if (parts.every((p) => p.line.verdict === 'not measured')) return notMeasured(target, parts[0]?.line.margin ?? 'not in this run');
  const verdict: Verdict = parts.some((p) => p.line.verdict === 'missed') ? 'missed' : parts.some((p) => p.line.verdict === 'not measured') ? 'not measured' : 'met';
  return {
    target,
    measured: parts.map((p) => `${p.name} ${p.line.measured}`).join('; '),
    verdict,
    margin: parts.map((p) => `${p.name}: ${p.line.verdict === 'met' ? 'met, ' : p.line.verdict === 'missed' ? 'missed ' : ''}${p.line.margin}`).join('; '),
  };
}

export function evaluateTargets(results: BenchResults): TargetLine[] {
  const find = finder(results);
  const lines: TargetLine[] = [];

  // 1. Create from the warm pool (a scenario whose metric id is `create-pool`: berth's create vs create + start).
  {
    const t = 'create from the warm pool: p50 < 50 ms and < 0.25× raw create + start';
    const pool = find('create-pool');
    if (!pool?.metric.berth || !pool.metric.floor) lines.push(notMeasured(t, 'no `create-pool` figure in this run (the warm-pool scenario)'));
    else lines.push(combine(t, [
      { name: 'absolute', line: absoluteLine(t, pool, 50, 'create-pool') },
      { name: 'ratio', line: ratioLine(t, pool, 0.25, 'create-pool') },
    ]));
  }
  // 2. Cold create.
  lines.push(ratioLine('cold create ≤ 1.1× raw create + start', find('create'), 1.1, 'create'));
  // 3. Pause / resume at one live sandbox.
  lines.push(combine('pause / resume at 1 live sandbox ≤ docker op + 10 ms', [
    { name: 'pause', line: additiveLine('', find('pause'), 10, 'pause') },
    { name: 'resume', line: additiveLine('', find('resume'), 10, 'resume') },
  ]));
  // 4. Pause / resume at 1000 live sandboxes.
  {
    const t = `pause / resume at ${SCALE_TARGET_LIVE} live sandboxes ≤ docker op + 10 ms`;
    const p = find('scale-pause');
    const line = combine(t, [
      { name: 'pause', line: additiveLine('', p, 10, 'scale-pause') },
      { name: 'resume', line: additiveLine('', find('scale-resume'), 10, 'scale-resume') },
    ]);
    const live = liveOf(p);
    if (p && live < SCALE_TARGET_LIVE) {
      lines.push({ ...line, verdict: 'not measured', measured: `at ${live} live: ${line.measured}`, margin: `only ${live} live (run \`npm run bench -- --only scale --live ${SCALE_TARGET_LIVE} --merge\`); at ${live}: ${line.margin}` });
    } else lines.push(line);
  }
  // 5. get / setTimeout / refresh.
  lines.push(combine('get / setTimeout / refresh p50 < 10 ms', [
    { name: 'get', line: absoluteLine('', find('get'), 10, 'get') },
    { name: 'setTimeout', line: absoluteLine('', find('setTimeout'), 10, 'setTimeout') },
    { name: 'refresh', line: absoluteLine('', find('refresh'), 10, 'refresh') },
  ]));
  // 6. Commands.
  lines.push(absoluteLine('command `true` through the API p50 ≤ 10 ms', find('command-true'), 10, 'command-true', true));
  lines.push(ratioLine('command printing 1 MB ≤ 1.1× raw exec', find('command-1mb'), 1.1, 'command-1mb'));
  // 7. Files.
  for (const size of [1, 100]) {
    lines.push(combine(`file write and read ${size} MB ≥ 0.8× raw archive throughput`, [
      { name: 'write', line: throughputLine('', find(`file-write-${size}mb`), 0.8, `file-write-${size}mb`) },
      { name: 'read', line: throughputLine('', find(`file-read-${size}mb`), 0.8, `file-read-${size}mb`) },
    ]));
  }
  // 8. Burst.
  {
    const t = 'burst of 200 creates then 200 kills: 0 errors, wall ≤ 1.1× raw';
    const errors = find('burst-errors');
    const wall = find('burst-wall');
    if (!errors || !wall || wall.metric.value === undefined || wall.metric.floorValue === undefined) lines.push(notMeasured(t, 'no `burst` figures in this run'));
    else {
      const n = typeof wall.scenario.details.n === 'number' ? wall.scenario.details.n : 0;
      const e = errors.metric.value ?? 0;
      const ratio = wall.metric.value / wall.metric.floorValue;
      const measured = `${e} errors; ${f1(wall.metric.value / 1000)} vs ${f1(wall.metric.floorValue / 1000)} s = ${f2(ratio)}× (${n} + ${n})`;
      const ok = e === 0 && ratio <= 1.1;
      const margin = `${e === 0 ? 'no errors' : `${e} errors`}; wall ${ratio <= 1.1 ? `${f2(1.1 - ratio)}× to spare` : `over by ${f2(ratio - 1.1)}×`}`;
      if (n < 200) lines.push({ target: t, measured, verdict: 'not measured', margin: `only ${n} + ${n} in this run (medium and full use 200); ${margin}` });
      else lines.push({ target: t, measured, verdict: ok ? 'met' : 'missed', margin });
    }
  }
  // 9. Memory at 1000 live.
  {
    const t = `${SCALE_TARGET_LIVE} live sandboxes: control plane (API + worker + Temporal) < 1.5 GB`;
    const mem = find('scale-control-plane-rss');
    if (!mem || mem.metric.value === undefined) lines.push(notMeasured(t, 'no `scale` figures in this run'));
    else {
      const live = liveOf(mem);
      const v = mem.metric.value;
      const measured = `${f1(v)} MB with ${live} live`;
      const margin = v < 1536 ? `${f1(1536 - v)} MB to spare` : `by ${f1(v - 1536)} MB`;
      if (live < SCALE_TARGET_LIVE) lines.push({ target: t, measured, verdict: 'not measured', margin: `only ${live} live (run \`npm run bench -- --only scale --live ${SCALE_TARGET_LIVE} --merge\`); ${margin} at ${live}` });
      else lines.push({ target: t, measured, verdict: v < 1536 ? 'met' : 'missed', margin });
    }
  }
  return lines;
}

const ICON: Record<Verdict, string> = { met: '✅ met', missed: '❌ missed', 'not measured': '— not measured' };

/** The markdown block: one line per issue-15 target. */
export function targetTable(results: BenchResults): string {
  const lines = evaluateTargets(results);
  const met = lines.filter((l) => l.verdict === 'met').length;
  const missed = lines.filter((l) => l.verdict === 'missed').length;
  const loads = results.scenarios.flatMap((s) => [s.run?.loadBefore[0], s.run?.loadAfter[0]]).filter((v): v is number => typeof v === 'number');
  const range = loads.length ? `; 1-min load ${Math.min(...loads)}–${Math.max(...loads)} across scenarios (the bench's own processes included)` : '';
  const quiet = results.quietCheck ? `; --quiet-check passed at ${results.quietCheck.load1} ≤ ${results.quietCheck.maxLoad}` : '; no --quiet-check';
  const out = [
    `Issue 15 targets, ${results.scale} scale, run ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC` +
      ` (load average at start ${JSON.stringify((results.machine as { loadAverageAtStart?: unknown }).loadAverageAtStart ?? null)}${quiet}${range}): ` +
      `**${met} met, ${missed} missed, ${lines.length - met - missed} not measured**.`,
    '',
    '| target | measured (p50, berth vs floor) | verdict | by how much |',
    '| --- | --- | --- | --- |',
    ...lines.map((l) => `| ${l.target} | ${l.measured} | ${ICON[l.verdict]} | ${l.margin} |`),
  ];
  return out.join('\n');
}
