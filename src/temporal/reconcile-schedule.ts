/**
 * The reconciler's Temporal Schedule: one per Docker host (and task queue), created or updated
 * idempotently when that host's worker starts. Every `intervalMs` it starts a short
 * `reconcileWorkflow` on the host's own task queue (so the host's worker sweeps its own engine).
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { reconcileWorkflow } from '../workflows/reconcile.js';
import type { SweepRequest } from '../workflows/reconcile-types.js';

export interface ReconcileScheduleOptions {
  hostName: string;
  taskQueue: string;
  /** Sweep period; 0 removes the schedule (reconciler off). */
  intervalMs: number;
  orphanGraceMs: number;
  /** Writable-layer limit per sandbox in MB (0 = not measured). */
  diskLimitMB?: number;
  /** The host's own task queue, where the sweep activity runs (the workflow stays on `taskQueue`). */
  hostTaskQueue?: string;
}

/** The schedule's ID: one per host and task queue. */
export function reconcileScheduleId(options: Pick<ReconcileScheduleOptions, 'hostName' | 'taskQueue'>): string {
  return `berth-reconcile-${options.hostName}-${options.taskQueue}`;
}

/** Creates the schedule, or brings an existing one up to date; with `intervalMs` 0, deletes it. */
export async function ensureReconcileSchedule(client: Client, options: ReconcileScheduleOptions): Promise<void> {
  const scheduleId = reconcileScheduleId(options);
  if (options.intervalMs <= 0) {
    await deleteReconcileSchedule(client, options);
    return;
  }
  const request: SweepRequest = {
    orphanGraceMs: options.orphanGraceMs,
    diskLimitBytes: (options.diskLimitMB ?? 0) * 1024 * 1024,
    ...(options.hostTaskQueue ? { hostTaskQueue: options.hostTaskQueue } : {}),
  };
  const spec = { intervals: [{ every: options.intervalMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'reconcileWorkflow',
    workflowId: `reconcile-${options.hostName}-${options.taskQueue}`,
    taskQueue: options.taskQueue,
    args: [request] as Parameters<typeof reconcileWorkflow>,
    // A sweep that cannot run (no worker) times out rather than piling up.
    workflowExecutionTimeout: '5 minutes',
    staticSummary: `reconciler sweep of host ${options.hostName}`,
  };
  const policies = { overlap: 'SKIP' as const, catchupWindow: '1 minute' };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action, policies }));
  }
}

/** Removes the schedule (no error when it does not exist). */
export async function deleteReconcileSchedule(client: Client, options: Pick<ReconcileScheduleOptions, 'hostName' | 'taskQueue'>): Promise<void> {
  try {
    await client.schedule.getHandle(reconcileScheduleId(options)).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}
