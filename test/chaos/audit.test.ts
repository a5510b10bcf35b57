import { describe, expect, it } from 'vitest';
import { audit, meetsGoal, quantile, type SandboxObservation } from '../../chaos/lib/audit.js';

function obs(partial: Partial<SandboxObservation>): SandboxObservation {
  return { sandboxID: 's', expect: 'alive', endAtMs: null, workflow: 'open', status: 'running', stopReason: null, stoppedAtMs: null, container: 'running', ...partial };
}

describe('chaos audit', () => {
  it('accepts live sandboxes whose container matches their state', () => {
    const v = audit([obs({}), obs({ sandboxID: 'p', status: 'paused', container: 'paused' })], null, true);
    expect(v).toEqual({ lost: [], orphans: [], early: [], stuck: [], latenessMs: [] });
  });

  it('counts an expected-alive sandbox that stopped, or whose container is gone, as lost', () => {
    const v = audit(
      [
        obs({ sandboxID: 'stopped', workflow: 'closed', status: 'stopped', container: 'absent' }),
        obs({ sandboxID: 'gone', container: 'absent' }),
        obs({ sandboxID: 'thawed', status: 'paused', container: 'running' }),
      ],
      null,
      true,
    );
    expect(v.lost.sort()).toEqual(['gone', 'stopped', 'thawed']);
  });

  it('only judges container consistency once settled', () => {
    expect(audit([obs({ container: 'absent' })], null, false).lost).toEqual([]);
  });

  it('finds containers of stopped or unknown sandboxes (orphans)', () => {
    const v = audit(
      [
        obs({ sandboxID: 'a', expect: 'unknown', workflow: 'absent', status: null, container: 'running' }),
        obs({ sandboxID: 'b', expect: 'unknown', workflow: 'closed', status: 'stopped', container: 'exited' }),
      ],
      null,
      true,
    );
    expect(v.orphans).toEqual(['a', 'b']);
  });

  it('flags early stops and measures lateness from the later of deadline and recovery', () => {
    const v = audit(
      [
        obs({ sandboxID: 'early', expect: 'deadline', endAtMs: 10_000, workflow: 'closed', status: 'stopped', stoppedAtMs: 9_000, container: 'absent' }),
        obs({ sandboxID: 'a', expect: 'deadline', endAtMs: 10_000, workflow: 'closed', status: 'stopped', stoppedAtMs: 20_300, container: 'absent' }),
        obs({ sandboxID: 'b', expect: 'deadline', endAtMs: 30_000, workflow: 'closed', status: 'stopped', stoppedAtMs: 30_100, container: 'absent' }),
      ],
      20_000,
      true,
    );
    expect(v.early).toEqual(['early']);
    expect(v.latenessMs).toEqual([300, 100]);
  });

  it('counts a sandbox stuck creating, or live long after its deadline, as stuck', () => {
    const v = audit([obs({ sandboxID: 'c', status: 'creating', container: 'absent' }), obs({ sandboxID: 'd', expect: 'deadline', endAtMs: 1 })], null, true);
    expect(v.stuck).toEqual(['c', 'd']);
  });

  it('meets the goal only with nothing lost and p99 lateness under the bound', () => {
    const clean = audit([], null, true);
    expect(meetsGoal(clean, 2000)).toBe(true);
    expect(meetsGoal({ ...clean, latenessMs: [100, 2500] }, 2000)).toBe(false);
    expect(meetsGoal({ ...clean, orphans: ['x'] }, 2000)).toBe(false);
    expect(quantile([5, 1, 3], 0.5)).toBe(3);
    expect(quantile([], 0.99)).toBeNull();
  });
});
