/**
 * The short chaos run (`npm run chaos -- --short`): SIGKILL of the worker, then of the
 * worker, the API and the Temporal dev server at once, with creates and pauses in flight and
 * deadlines falling during the outage. Nothing may be lost, orphaned, stopped early or left
 * stuck. Lateness is printed, not asserted (timing is the chaos command's and the bench's job).
 */
import { expect, it } from 'vitest';
import { quantile } from '../../chaos/lib/audit.js';
import { runChaos, SHORT } from '../../chaos/run.js';

it('loses nothing when the control plane is SIGKILLed mid-work', { timeout: 900_000 }, async () => {
  const lines: string[] = [];
  const report = await runChaos({ ...SHORT, settleMs: 90_000, template: 'tiny', log: (line) => lines.push(line) });
  console.log(lines.map((l) => `[chaos] ${l}`).join('\n'));
  for (const scenario of report.scenarios) {
    const { lost, orphans, early, stuck } = scenario.verdict;
    expect({ killed: scenario.killed, lost, orphans, early, stuck }).toEqual({ killed: scenario.killed, lost: [], orphans: [], early: [], stuck: [] });
    expect(scenario.verdict.latenessMs.length).toBeGreaterThan(0);
  }
  expect(report.leftoverContainers).toEqual([]);
  expect(report.unexpectedExits).toEqual([]);
  console.log(`[chaos] p99 lateness ${quantile(report.scenarios.flatMap((s) => s.verdict.latenessMs), 0.99)} ms`);
});
