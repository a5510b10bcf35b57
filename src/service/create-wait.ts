/**
 * A create that waits is one update-with-start of `waitReady`: Temporal answers once the sandbox's
 * first workflow task has accepted the update. Under a burst (200 creates at once on 2 cores) the
 * worker's workflow tasks queued for longer than Temporal's RPC deadline, and the call failed with
 * DEADLINE_EXCEEDED although the workflow had started and went on to provision: the caller got a
 * 503 for a sandbox that then ran. So after that deadline berth looks for the started workflow
 * (its ID is the new sandbox's, unique) and keeps waiting with `waitReady` updates, up to a bound.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { SandboxInfo } from '../workflows/definitions.js';
import { Grpc, grpcStatusLink } from './temporal-overload.js';

/** How long a create keeps waiting for its started sandbox after Temporal's deadline passed once. */
export const CREATE_WAIT_BUDGET_MS = 5 * 60_000;
const RETRY_PAUSE_MS = 200;

/** Temporal's deadline passed before the update was accepted (not an answer about the sandbox). */
export function isUpdateDeadline(err: unknown): boolean {
  return grpcStatusLink(err, Grpc.DEADLINE_EXCEEDED) !== undefined;
}

export interface CreateWaitDeps {
  /** Starts the workflow and waits until the sandbox is ready (update-with-start). */
  updateWithStart: () => Promise<SandboxInfo>;
  /** A `waitReady` update on the sandbox's workflow, by its ID (WorkflowNotFoundError if it never started). */
  waitReady: () => Promise<SandboxInfo>;
  /** Called once when the wait goes on past Temporal's deadline (for the log). */
  onLongWait?: () => void;
  budgetMs?: number;
  now?: () => number;
}

/**
 * Starts the sandbox's workflow and waits until it is ready. After a DEADLINE_EXCEEDED, if the
 * workflow exists, waits on until it is ready or `budgetMs` has passed; a start that did not
 * take effect gets the first deadline error, and any other error is thrown as it came.
 */
export async function startAndWaitReady(deps: CreateWaitDeps): Promise<SandboxInfo> {
  const now = deps.now ?? Date.now;
  const giveUpAt = now() + (deps.budgetMs ?? CREATE_WAIT_BUDGET_MS);
  try {
    return await deps.updateWithStart();
  } catch (err) {
    if (!isUpdateDeadline(err)) throw err;
    deps.onLongWait?.();
    for (;;) {
      try {
        return await deps.waitReady();
      } catch (again) {
        if (again instanceof WorkflowNotFoundError) throw err;
        if (!isUpdateDeadline(again) || now() >= giveUpAt) throw again;
        // Temporal's own deadline paces this loop; the pause only guards against one that expires at once.
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
      }
    }
  }
}
