/** Input and result of one reconciler sweep (shared by the workflow, the activity and the schedule). */
export interface SweepRequest {
  /** An orphan container is removed once its workflow has been closed (or absent) this long. */
  orphanGraceMs: number;
  /** Writable-layer limit per sandbox (0 or absent: not measured). */
  diskLimitBytes?: number;
  /** The host's own task queue: the sweep runs there (absent in schedules made before per-host queues: the workflow's queue). */
  hostTaskQueue?: string;
}

/** What one sweep saw and did; the reconcile workflow's result, readable in the Temporal UI. */
export interface SweepResult {
  host: string;
  taskQueue: string;
  /** berth containers of this host and task queue on the engine. */
  containers: number;
  /** Running or paused sandboxes of this host and task queue in visibility. */
  liveSandboxes: number;
  /** Sandboxes whose container was missing or exited: their workflow was told to check it. */
  lostReported: string[];
  /** Orphan containers (workflow closed or absent for longer than the grace) removed. */
  orphansRemoved: string[];
  /** Orphan containers still inside their grace period. */
  orphansWaiting: string[];
  /** Sandboxes whose writable layer was above the disk limit: told to check (→ `disk_quota`). */
  diskOverLimit: string[];
  /** Unclaimed warm-pool containers the worker did not hold (a crashed refill's, extras): removed. */
  poolRemoved?: string[];
}
