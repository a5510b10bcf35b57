/**
 * What a chaos run checks after recovery, as a pure function over what it observed (so the
 * rules are unit tested): nothing lost, no orphan container, no early stop, and how late
 * each deadline that fell during the outage fired after the component was back.
 */
export type ContainerState = 'running' | 'paused' | 'exited' | 'absent';
export type WorkflowState = 'open' | 'closed' | 'absent';

export interface SandboxObservation {
  sandboxID: string;
  /**
   * `alive`: the API answered its create, long timeout: it must still be live.
   * `deadline`: short timeout falling during the outage: it must stop, never before `endAtMs`.
   * `unknown`: found in Temporal or Docker only (its create's answer was lost with the API).
   */
  expect: 'alive' | 'deadline' | 'unknown';
  endAtMs: number | null;
  workflow: WorkflowState;
  status: string | null;
  stopReason: string | null;
  stoppedAtMs: number | null;
  container: ContainerState;
}

export interface Verdict {
  /** Expected alive but stopped, failed or gone; or live with no usable container. */
  lost: string[];
  /** A container whose sandbox is stopped, failed or unknown to Temporal. */
  orphans: string[];
  /** Stopped before its deadline. */
  early: string[];
  /** Its deadline passed long ago and it is still live, or it is stuck creating. */
  stuck: string[];
  /** Per `deadline` sandbox: stop time minus the later of its deadline and recovery. */
  latenessMs: number[];
}

const LIVE = new Set(['creating', 'running', 'paused']);

/**
 * Judges observations made after recovery. `recoveredAtMs` is when the killed component was
 * back (null when the deadline did not depend on it, e.g. only the API was killed).
 * `settled` says the run waited long enough that nothing may still be in motion.
 */
export function audit(observations: SandboxObservation[], recoveredAtMs: number | null, settled: boolean): Verdict {
  const verdict: Verdict = { lost: [], orphans: [], early: [], stuck: [], latenessMs: [] };
  for (const o of observations) {
    const live = o.workflow === 'open' && o.status !== null && LIVE.has(o.status);
    if (!live && o.container !== 'absent') verdict.orphans.push(o.sandboxID);
    if (live && settled) {
      const consistent =
        (o.status === 'running' && o.container === 'running') || (o.status === 'paused' && o.container === 'paused');
      if (o.status === 'creating') verdict.stuck.push(o.sandboxID);
      else if (!consistent) verdict.lost.push(o.sandboxID);
    }
    if (o.expect === 'alive' && !live) verdict.lost.push(o.sandboxID);
    if (o.expect === 'deadline') {
      if (o.stoppedAtMs !== null && o.endAtMs !== null) {
        if (o.stoppedAtMs < o.endAtMs) verdict.early.push(o.sandboxID);
        else verdict.latenessMs.push(o.stoppedAtMs - Math.max(o.endAtMs, recoveredAtMs ?? o.endAtMs));
      } else if (live && settled) verdict.stuck.push(o.sandboxID);
    }
  }
  verdict.latenessMs = verdict.latenessMs.map((ms) => Math.max(0, ms));
  return verdict;
}

/** The value at quantile `q` (0..1) of `values`, nearest rank; null when empty. */
export function quantile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? null;
}

/** True when a verdict meets the goal: 0 lost / 0 orphans / 0 early / 0 stuck, p99 lateness under `maxLatenessMs`. */
export function meetsGoal(verdict: Verdict, maxLatenessMs: number): boolean {
  const p99 = quantile(verdict.latenessMs, 0.99);
  return (
    verdict.lost.length === 0 &&
    verdict.orphans.length === 0 &&
    verdict.early.length === 0 &&
    verdict.stuck.length === 0 &&
    (p99 === null || p99 < maxLatenessMs)
  );
}
