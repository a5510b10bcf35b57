/** Pure logic of the bench harness: the quiet check's verdict and the issue-15 target lines. */
import { describe, expect, it } from 'vitest';
import { quietVerdict } from '../../bench/lib/quiet.js';
import { evaluateTargets, targetTable } from '../../bench/lib/targets.js';
import { summarize } from '../../bench/lib/stats.js';
import type { BenchResults, Metric, ScenarioResult } from '../../bench/lib/types.js';

const lat = (id: string, berth: number, floor: number | null, n = 30): Metric => ({
  id,
  label: id,
  unit: 'ms',
  berth: summarize(Array.from({ length: n }, () => berth)),
  floor: floor === null ? null : summarize(Array.from({ length: n }, () => floor)),
  ratio: null,
  target: 't',
  met: null,
});

function scenario(name: ScenarioResult['name'], metrics: Metric[], details: Record<string, unknown> = {}): ScenarioResult {
  return { name, title: name, status: 'ok', durationS: 1, metrics, details };
}

function results(scenarios: ScenarioResult[]): BenchResults {
  return {
    schema: 'berth-bench/1',
    scale: 'medium',
    startedAt: '2026-12-01T03:00:00.000Z',
    finishedAt: '2026-12-01T03:10:00.000Z',
    machine: { loadAverageAtStart: [0.2, 0.3, 0.4] },
    sizes: {},
    dynamicConfig: [],
    workerOptions: null,
    quietCheck: null,
    notes: [],
    scenarios,
  };
}

describe('quiet check', () => {
  it('refuses above the bar, saying how to wait or override', () => {
    const v = quietVerdict(3.456, 0.7);
    expect(v.ok).toBe(false);
    expect(v.load1).toBe(3.46);
    expect(v.message).toContain('--max-load');
    expect(v.message).toContain('3.46');
  });
  it('passes at or below the bar', () => {
    expect(quietVerdict(0.7, 0.7).ok).toBe(true);
    expect(quietVerdict(0.1, 0.7).ok).toBe(true);
  });
});

describe('issue-15 target lines', () => {
  const run = results([
    scenario('create', [lat('create', 150, 125)]),
    scenario('lifecycle', [lat('pause', 19.8, 5.5), lat('resume', 14, 5), lat('get', 4.8, 1), lat('setTimeout', 7.4, 1), lat('refresh', 11, 1)]),
    scenario('burst', [
      { id: 'burst-errors', label: 'e', unit: 'count', berth: null, floor: null, value: 0, ratio: null, target: 't', met: null },
      { id: 'burst-wall', label: 'w', unit: 'ms', berth: null, floor: null, value: 20_000, floorValue: 20_000, ratio: null, target: 't', met: null },
    ], { n: 200 }),
    scenario('scale', [
      { id: 'scale-control-plane-rss', label: 'm', unit: 'MB', berth: null, floor: null, value: 900, ratio: null, target: 't', met: null },
      lat('scale-pause', 20, 12),
      lat('scale-resume', 20, 12),
    ], { live: 400 }),
  ]);
  const lines = evaluateTargets(run);
  const line = (prefix: string) => {
    const l = lines.find((x) => x.target.startsWith(prefix));
    if (!l) throw new Error(`no line for ${prefix}`);
    return l;
  };

  it('has one line per issue-15 target', () => {
    expect(lines).toHaveLength(11);
  });

  it('says by how much a ratio target is missed', () => {
    const l = line('cold create');
    expect(l.verdict).toBe('missed');
    expect(l.measured).toContain('1.20×');
    expect(l.margin).toContain('by 0.10×');
    expect(l.margin).toContain('12.5 ms over');
  });

  it('combines pause and resume: one missed part misses the target', () => {
    const l = line('pause / resume at 1 live');
    expect(l.verdict).toBe('missed');
    expect(l.margin).toContain('pause: missed by 4.3 ms');
    expect(l.margin).toContain('resume: met, 1.0 ms to spare');
  });

  it('misses get / setTimeout / refresh when any p50 is 10 ms or more', () => {
    const l = line('get / setTimeout / refresh');
    expect(l.verdict).toBe('missed');
    expect(l.margin).toContain('refresh: missed by 1.0 ms');
  });

  it('does not claim the 1000-live targets from a smaller run', () => {
    expect(line('pause / resume at 1000').verdict).toBe('not measured');
    expect(line('pause / resume at 1000').margin).toContain('--live 1000');
    expect(line('1000 live sandboxes').verdict).toBe('not measured');
  });

  it('marks scenarios absent from the run as not measured', () => {
    expect(line('create from the warm pool').verdict).toBe('not measured');
    expect(line('file write and read 1 MB').verdict).toBe('not measured');
  });

  it('meets the burst target with zero errors and a wall within 1.1×', () => {
    expect(line('burst').verdict).toBe('met');
  });

  it('renders a markdown table with a count of met and missed', () => {
    const table = targetTable(run);
    expect(table).toContain('| target | measured (p50, berth vs floor) | verdict | by how much |');
    expect(table).toMatch(/\*\*1 met, 3 missed, 7 not measured\*\*/);
  });
});
