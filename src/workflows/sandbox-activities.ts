/**
 * The Docker activities as the sandbox workflow calls them: timeouts, heartbeats and the two
 * retry policies (a caller waits / nobody waits), plus how their failures are read.
 */
import { RetryState } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { SandboxActivities } from '../activities/index.js';
import { FailureType } from './definitions.js';

/**
 * How long work nobody waits on keeps retrying one Docker call before it lets go of the
 * sandbox's lock (so a user's kill is not stuck behind it) and tries again later.
 */
const UNATTENDED_GIVE_UP_AFTER = '5 minutes';

/** A worker that stops heartbeating (killed, partitioned) loses its activity after this long. */
const HEARTBEAT_TIMEOUT = '15 seconds';

const ACTIVITY_RETRY = {
  initialInterval: '200ms',
  maximumInterval: '10s',
  nonRetryableErrorTypes: [FailureType.imageNotFound, FailureType.containerGone],
};

/**
 * The activities with their timeouts: creating a container may take a while on a busy
 * engine; pause, resume and remove are quick. Every activity heartbeats while its Docker call
 * runs (src/activities/heartbeat.ts), so a worker that dies mid-call is noticed after the
 * heartbeat timeout and another worker retries, not after the whole start-to-close timeout.
 */
function dockerActivities(
  retry: typeof ACTIVITY_RETRY & { maximumAttempts?: number; maximumInterval: string },
  scheduleToCloseTimeout?: string,
  route: { taskQueue: string; scheduleToStartTimeout?: string } | null = null,
) {
  const bound = { ...(scheduleToCloseTimeout ? { scheduleToCloseTimeout } : {}), ...(route ?? {}) };
  const heartbeatTimeout = HEARTBEAT_TIMEOUT;
  const provisioning = proxyActivities<SandboxActivities>({ startToCloseTimeout: '2 minutes', heartbeatTimeout, retry, ...bound });
  const quick = proxyActivities<SandboxActivities>({ startToCloseTimeout: '30 seconds', heartbeatTimeout, retry, ...bound });
  // Committing (or recreating from) a big file system takes a while; heartbeats notice a dead worker.
  const disk = proxyActivities<SandboxActivities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout, retry, ...bound });
  return {
    provisionSandbox: provisioning.provisionSandbox,
    pauseSandbox: quick.pauseSandbox,
    resumeSandbox: quick.resumeSandbox,
    destroySandbox: quick.destroySandbox,
    inspectSandbox: quick.inspectSandbox,
    pauseToDisk: disk.pauseToDisk,
    resumeFromDisk: disk.resumeFromDisk,
  };
}

/**
 * Docker calls a caller waits on (provision, user pause / resume / kill): a few attempts, then
 * the caller gets the error (and may retry) while the sandbox stays as it was.
 */
export const docker = dockerActivities({ ...ACTIVITY_RETRY, maximumAttempts: 5 });

/**
 * Docker calls nobody waits on (deadlines, bulk actions, clean-up after a failed provision):
 * retried until the engine answers, so an engine that is down for a while delays them but
 * never fails the sandbox's workflow or leaks its container.
 */
export const dockerUntilDone = dockerActivities({ ...ACTIVITY_RETRY, maximumInterval: '30s' }, UNATTENDED_GIVE_UP_AFTER);

export type DockerCalls = typeof docker;

/**
 * Pause and resume a caller waits on, as local activities: the worker that runs the workflow
 * task calls Docker inside that task, so the update completes in the task that accepted it:
 * one workflow task instead of two, and no activity dispatch. Only quick calls belong here;
 * unattended ones stay above. The worker running the workflow task must serve the sandbox's
 * host: only sandboxes on the shared queue use them (a sandbox routed to a per-host queue sends
 * activity tasks there), and as a second guard the caller passes `onHost`: a worker of another
 * host refuses (WrongHost) without touching Docker, and the workflow then sends an activity
 * task instead (see SandboxLifecycle.pause / resume).
 */
const local = proxyLocalActivities<SandboxActivities>({ startToCloseTimeout: '30 seconds', retry: { ...ACTIVITY_RETRY, maximumAttempts: 5 } });
export const dockerLocal = {
  pauseSandbox: asActivityFailure('pauseSandbox', local.pauseSandbox),
  resumeSandbox: asActivityFailure('resumeSandbox', local.resumeSandbox),
  /**
   * The same for a sandbox placed on a host (patch 'local-pause-resume-on-host'): every worker
   * registers these on the shared queue, and each runs only on a worker of the sandbox's host;
   * any other worker refuses (WrongHost) and the workflow sends an activity task to the host's
   * queue instead.
   */
  pauseSandboxOnHost: asActivityFailure('pauseSandboxOnHost', local.pauseSandboxOnHost),
  resumeSandboxOnHost: asActivityFailure('resumeSandboxOnHost', local.resumeSandboxOnHost),
};

/**
 * A local activity's failure reaches the workflow as the bare cause (an ApplicationFailure),
 * not wrapped in an ActivityFailure as an activity task's is. Wrap it the same way, so the
 * workflow (isContainerGone) and the API (temporal-errors.ts: an update's Docker call failed)
 * read both alike.
 */
export function asActivityFailure<A extends unknown[], R>(activityType: string, call: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await call(...args);
    } catch (err) {
      if (err instanceof ActivityFailure || !(err instanceof Error)) throw err;
      const retryState = err instanceof ApplicationFailure && err.nonRetryable ? RetryState.NON_RETRYABLE_FAILURE : RetryState.MAXIMUM_ATTEMPTS_REACHED;
      throw new ActivityFailure(`local activity ${activityType} failed`, activityType, undefined, retryState, undefined, err);
    }
  };
}

/** The Docker calls of one sandbox: those a caller waits on, and those nobody waits on. */
export interface SandboxDockerCalls {
  docker: DockerCalls;
  untilDone: DockerCalls;
  /** The host's own queue (absent: the workflow's shared queue), for activities proxied elsewhere (snapshots). */
  taskQueue?: string;
}

/** Sandboxes created before per-host queues: activities on the workflow's own (shared) queue. */
export const SHARED_QUEUE_CALLS: SandboxDockerCalls = { docker, untilDone: dockerUntilDone };

/**
 * How long a call a caller waits on stays queued for its host's worker: a host whose worker is
 * down answers the caller with an error after this (the sandbox stays as it was) instead of
 * holding the sandbox's lock until the host comes back. Calls nobody waits on keep their own
 * bound ({@link UNATTENDED_GIVE_UP_AFTER}) and are tried again later: a deadline on a host whose
 * worker is down runs when the worker is back, never early and never against another engine.
 */
const HOST_QUEUE_WAIT = '1 minute';

/** The Docker calls of a sandbox placed on a host: sent to that host's task queue only. */
export function hostDockerCalls(taskQueue: string): SandboxDockerCalls {
  return {
    taskQueue,
    docker: dockerActivities({ ...ACTIVITY_RETRY, maximumAttempts: 5 }, undefined, { taskQueue, scheduleToStartTimeout: HOST_QUEUE_WAIT }),
    untilDone: dockerActivities({ ...ACTIVITY_RETRY, maximumInterval: '30s' }, UNATTENDED_GIVE_UP_AFTER, { taskQueue }),
  };
}

/** A container that vanished under us (host lost, removed by hand) ends the sandbox. */
export function isContainerGone(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FailureType.containerGone;
}

/** A local pause / resume ran on a worker of another host (it did nothing). */
export function isWrongHost(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FailureType.wrongHost;
}

/** The message of the innermost cause of an activity failure. */
export function failureMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
