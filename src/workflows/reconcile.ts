/**
 * The reconciler: a short workflow, started by a Temporal Schedule per Docker host, that runs
 * one sweep on that host's task queue (see src/activities/reconcile.ts). Deterministic: it only
 * calls the activity and returns what it saw, so each run reads as one line in the Temporal UI.
 */
import { log, proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { ReconcileActivities } from '../activities/reconcile.js';
import type { SweepRequest, SweepResult } from './reconcile-types.js';

const { sweepContainers } = proxyActivities<ReconcileActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { maximumAttempts: 3, initialInterval: '1s' },
});

export async function reconcileWorkflow(request: SweepRequest): Promise<SweepResult> {
  const result = await sweepContainers(request);
  const summary =
    `${result.containers} containers, ${result.liveSandboxes} live sandboxes; ` +
    `lost reported ${result.lostReported.length}, over disk limit ${result.diskOverLimit.length}, orphans removed ${result.orphansRemoved.length}, waiting ${result.orphansWaiting.length}`;
  setCurrentDetails(summary);
  if (result.lostReported.length || result.orphansRemoved.length || result.diskOverLimit.length) log.info('reconciler fixed drift', { ...result });
  return result;
}
