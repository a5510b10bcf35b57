/**
 * `--quiet-check`: a benchmark taken while other work loads the machine measures that other
 * work. Refuse to start when the 1-minute load average says the machine is busy.
 */
import os from 'node:os';

export interface QuietVerdict {
  ok: boolean;
  load1: number;
  maxLoad: number;
  message: string;
}

/** Default threshold: about a third of the cores busy (0.7 on a 2-core machine). */
export function defaultMaxLoad(cores = os.cpus().length): number {
  return Math.max(0.35, Math.round(cores * 0.35 * 100) / 100);
}

export function quietVerdict(load1: number, maxLoad: number): QuietVerdict {
  const l = Math.round(load1 * 100) / 100;
  if (l <= maxLoad) return { ok: true, load1: l, maxLoad, message: `machine quiet: 1-min load average ${l} ≤ ${maxLoad}` };
  return {
    ok: false,
    load1: l,
    maxLoad,
    message:
      `refusing to run: the 1-min load average is ${l}, above ${maxLoad} (--quiet-check), so other work would be measured too. ` +
      'Wait until the machine is idle (see `uptime`; --quiet-wait S waits that long for it), or raise the bar with --max-load N, or drop --quiet-check to run anyway (the load is recorded in results.json).',
  };
}

/** Checks now; with `waitS` > 0, re-checks every 5 s for up to that long before refusing. */
export async function quietCheck(maxLoad: number, waitS: number, log: (msg: string) => void): Promise<QuietVerdict> {
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const verdict = quietVerdict(os.loadavg()[0] ?? 0, maxLoad);
    if (verdict.ok || Date.now() >= deadline) return verdict;
    log(`load average ${verdict.load1} > ${maxLoad}; waiting for the machine to settle (up to ${Math.ceil((deadline - Date.now()) / 1000)} s more)`);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

/** The three load averages, rounded: recorded before and after every scenario. */
export function loadAverages(): number[] {
  return os.loadavg().map((v) => Math.round(v * 100) / 100);
}
