/**
 * Per-host task queues (pure: workflow and worker both import it). Sandbox workflows run on the
 * shared queue; every Docker activity of a sandbox placed on host H goes to H's own queue, which
 * only H's worker polls, so it can never run against another engine.
 */

/** The task queue of one Docker host's worker: `<shared queue>-host-<host name>` (e.g. `berth-host-a`). */
export function hostTaskQueue(sharedQueue: string, hostName: string): string {
  return `${sharedQueue}-host-${hostName}`;
}

/** Host names: they name a task queue, a workflow and a label, so letters, digits, `.`, `_`, `-`. */
export const HOST_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
