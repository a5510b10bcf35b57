/**
 * One chaos scenario: sandboxes in every interesting state, then a SIGKILL of some
 * components while creates and pauses are in flight and idle deadlines are about to fall;
 * the components come back after an outage, and the run checks what became of everything.
 */
import type Docker from 'dockerode';
import { audit, type SandboxObservation, type Verdict } from './audit.js';
import type { Cluster, Component } from './cluster.js';
import { discover, observe, type Expectation } from './observe.js';

export interface ScenarioOptions {
  /** Sandboxes per kind (alive, paused mid-kill, created mid-kill, deadline). */
  perKind: number;
  /** How long the killed components stay down. */
  outageMs: number;
  /** How long after recovery the run waits, at most, for everything to settle. */
  settleMs: number;
  template: string;
  log: (line: string) => void;
}

export interface ScenarioResult {
  killed: Component[];
  sandboxes: number;
  /** How long the killed components took to be ready again after their restart began. */
  restartMs: number;
  /** From recovery to a consistent state. */
  settleMs: number;
  verdict: Verdict;
  notes: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Created {
  sandboxID: string;
  endAt: string | null;
}

async function createSandbox(cluster: Cluster, template: string, timeoutS: number): Promise<Created | null> {
  const res = await cluster.call('POST', '/sandboxes', { templateID: template, timeout: timeoutS, metadata: { chaos: 'true' } });
  if (res.status !== 201 && res.status !== 202) return null;
  return res.body as Created;
}

export async function runScenario(cluster: Cluster, docker: Docker, killed: Component[], options: ScenarioOptions): Promise<ScenarioResult> {
  const { perKind, outageMs, template, log } = options;
  const notes: string[] = [];
  const expectations = new Map<string, Expectation>();

  // Long-lived sandboxes: some stay as they are, some get a pause in flight at the kill.
  const alive: Created[] = [];
  for (let i = 0; i < perKind * 2; i++) {
    const created = await createSandbox(cluster, template, 600);
    if (!created) throw new Error('a create before the kill failed; see the logs');
    alive.push(created);
    expectations.set(created.sandboxID, { expect: 'alive', endAtMs: null });
  }
  // Deadlines spread over the outage: the first falls ~1 s after the kill.
  const deadlines: Created[] = [];
  const firstDeadlineS = 2 + perKind * 0.4; // creating them takes a few hundred ms each
  for (let i = 0; i < perKind; i++) {
    const timeoutS = Math.round(firstDeadlineS + (i * (outageMs / 1000 - 1)) / Math.max(1, perKind));
    const created = await createSandbox(cluster, template, Math.max(1, timeoutS));
    if (!created?.endAt) throw new Error('a create before the kill failed; see the logs');
    deadlines.push(created);
    expectations.set(created.sandboxID, { expect: 'deadline', endAtMs: Date.parse(created.endAt) });
  }

  // In flight at the kill: pauses of half the long-lived ones, and new creates.
  const inFlight: Promise<unknown>[] = [];
  for (const s of alive.slice(0, perKind)) inFlight.push(cluster.call('POST', `/sandboxes/${s.sandboxID}/pause`));
  for (let i = 0; i < perKind; i++) {
    inFlight.push(
      createSandbox(cluster, template, 600).then((created) => {
        if (created) expectations.set(created.sandboxID, { expect: 'alive', endAtMs: null });
      }),
    );
  }
  await sleep(60);
  const killedAt = Date.now();
  await cluster.kill(killed);
  log(`killed ${killed.join('+')} (SIGKILL) with ${inFlight.length} calls in flight`);
  await sleep(Math.max(0, killedAt + outageMs - Date.now()));
  const restartBegan = Date.now();
  await cluster.start(killed);
  const recoveredAt = Date.now();
  log(`${killed.join('+')} back after ${((recoveredAt - killedAt) / 1000).toFixed(1)} s (restart took ${recoveredAt - restartBegan} ms)`);
  await Promise.all(inFlight);
  await cluster.restartCrashed();

  // Settle: wait for the deadlines (and any in-flight call's effect), then judge.
  const dependsOnRecovery = killed.includes('temporal') || killed.includes('worker');
  const lastDeadline = Math.max(...deadlines.map((d) => Date.parse(d.endAt ?? '0')));
  const settleLimit = Math.max(recoveredAt, lastDeadline) + options.settleMs;
  let verdict: Verdict;
  let observations: SandboxObservation[];
  for (;;) {
    observations = await observeAll(cluster, docker, expectations);
    const settled = Date.now() >= settleLimit;
    const judged = audit(observations, dependsOnRecovery ? recoveredAt : null, true);
    const deadlinesPending = observations.some((o) => o.expect === 'deadline' && o.stoppedAtMs === null);
    const clean = judged.lost.length + judged.stuck.length + judged.orphans.length === 0;
    if ((clean && !deadlinesPending) || settled) {
      verdict = judged;
      break;
    }
    await sleep(500);
  }
  const settleMs = Date.now() - recoveredAt;

  // Clean up: kill what is left through the API, as a user would.
  for (const o of observations) {
    if (o.workflow === 'open') await cluster.call('DELETE', `/sandboxes/${o.sandboxID}`);
  }
  for (const id of [...expectations.keys()]) expectations.delete(id);
  return { killed, sandboxes: observations.length, restartMs: recoveredAt - restartBegan, settleMs, verdict, notes };
}

async function observeAll(cluster: Cluster, docker: Docker, expectations: Map<string, Expectation>): Promise<SandboxObservation[]> {
  const client = await cluster.temporalClient();
  for (const id of await discover(client, docker, cluster.owner)) {
    if (!expectations.has(id)) expectations.set(id, { expect: 'unknown', endAtMs: null });
  }
  return Promise.all([...expectations].map(([id, e]) => observe(client, docker, id, e)));
}
