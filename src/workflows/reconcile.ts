/**
 * The reconciler: a short workflow, started by a Temporal Schedule per Docker host, that runs
 * one sweep on that host's task queue (see src/activities/reconcile.ts). Deterministic: it only
 * calls the activity and returns what it saw, so each run reads as one line in the Temporal UI.
 */
import { log, patched, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { ReconcileActivities } from '../activities/reconcile.js';
import type { SweepRequest, SweepResult } from './reconcile-types.js';

const SWEEP_OPTIONS = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1s' },
} as const;

export async function reconcileWorkflow(request: SweepRequest): Promise<SweepResult> {
  // Per-host queues: the sweep runs on the host's own queue (only that engine's worker polls it).
  const hostQueue = request.hostTaskQueue !== undefined && patched('reconcile-on-host-queue') ? request.hostTaskQueue : undefined;
  const { sweepContainers } = proxyActivities<ReconcileActivities>({ ...SWEEP_OPTIONS, ...(hostQueue ? { taskQueue: hostQueue } : {}) });
  const result = await sweepContainers(request);
  const summary =
    `${result.containers} containers, ${result.liveSandboxes} live sandboxes; ` +
    `lost reported ${result.lostReported.length}, over disk limit ${result.diskOverLimit.length}, orphans removed ${result.orphansRemoved.length}, waiting ${result.orphansWaiting.length}`;
  setCurrentDetails(summary);
  if (result.lostReported.length || result.orphansRemoved.length || result.diskOverLimit.length) log.info('reconciler fixed drift', { ...result });
  return result;
}
