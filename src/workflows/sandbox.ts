/**
 * One workflow per sandbox: it owns the sandbox's state and its timers. Thin by design:
 * the rules live in {@link SandboxState}; this file wires messages, timers and activities.
 */
import {
  ApplicationFailure,
  ActivityFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SandboxActivities } from '../activities/index.js';
import {
  bulkActionSignal,
  checkContainerSignal,
  connectUpdate,
  eventsQuery,
  FailureType,
  infoQuery,
  killUpdate,
  leaseSignal,
  pauseUpdate,
  refreshUpdate,
  resumeUpdate,
  SearchAttr,
  setTimeoutUpdate,
  touchSignal,
  waitReadyUpdate,
  type CallerRequest,
  type ResumeRequest,
  type SandboxInfo,
  type SandboxResult,
  type SandboxStatus,
  type SandboxWorkflowInput,
  type TransitionReason,
} from './definitions.js';
import { diskQuotaDetail, lostContainerDetail, SandboxState, type Deadline } from './sandbox-state.js';

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
function dockerActivities(retry: typeof ACTIVITY_RETRY & { maximumAttempts?: number; maximumInterval: string }, scheduleToCloseTimeout?: string) {
  const bound = scheduleToCloseTimeout ? { scheduleToCloseTimeout } : {};
  const heartbeatTimeout = HEARTBEAT_TIMEOUT;
  const provisioning = proxyActivities<SandboxActivities>({ startToCloseTimeout: '2 minutes', heartbeatTimeout, retry, ...bound });
  const quick = proxyActivities<SandboxActivities>({ startToCloseTimeout: '30 seconds', heartbeatTimeout, retry, ...bound });
  return {
    provisionSandbox: provisioning.provisionSandbox,
    pauseSandbox: quick.pauseSandbox,
    resumeSandbox: quick.resumeSandbox,
    destroySandbox: quick.destroySandbox,
    inspectSandbox: quick.inspectSandbox,
  };
}

/**
 * Docker calls a caller waits on (provision, user pause / resume / kill): a few attempts, then
 * the caller gets the error (and may retry) while the sandbox stays as it was.
 */
const docker = dockerActivities({ ...ACTIVITY_RETRY, maximumAttempts: 5 });

/**
 * Docker calls nobody waits on (deadlines, bulk actions, clean-up after a failed provision):
 * retried until the engine answers, so an engine that is down for a while delays them but
 * never fails the sandbox's workflow or leaks its container.
 */
const dockerUntilDone = dockerActivities({ ...ACTIVITY_RETRY, maximumInterval: '30s' }, UNATTENDED_GIVE_UP_AFTER);

/** How long a deadline whose action failed for good waits before it is tried again. */
const DEADLINE_RETRY_MS = 30_000;

/** Workflow time. Inside the workflow sandbox `Date.now()` is deterministic (replayed from history). */
function now(): number {
  // eslint-disable-next-line no-restricted-properties
  return Date.now();
}

/** The sandbox lifecycle workflow. Completes when the sandbox is stopped or failed. */
export async function sandboxWorkflow(input: SandboxWorkflowInput): Promise<SandboxResult> {
  /**
   * Absolute expiry (`lifecycle.timeoutMode: 'absolute'`): asked only of runs whose spec wants
   * it, so runs recorded before it existed replay without a marker and keep idle rules.
   */
  const spec = input.snapshot ? input.snapshot.spec : input.spec;
  const absoluteExpiry = spec.lifecycle.timeoutMode === 'absolute' && patched('absolute-expiry');
  const state = input.snapshot ? SandboxState.restore(input.snapshot, { absoluteExpiry }) : SandboxState.create(input.spec, now(), { absoluteExpiry });
  const sandboxID = state.spec.sandboxID;
  /**
   * Runs started before this version replay with the old lock and wake-up rules (which made
   * different decisions in rare races); every new run, including one continued as new, gets
   * the current ones.
   */
  const strictLock = patched('strict-lock-and-history-wakeup');
  /** Container checks (`container_lost`) and attached clients' leases; older runs ignore both signals. */
  const faultTolerant = patched('container-checks-and-leases');
  let checkingContainer = false;
  /** Bumped whenever the nearest deadline may have moved earlier, so the timer is re-armed. */
  let armVersion = 0;
  let busy = false;
  /** After a deadline's action failed for good, it is tried again no sooner than this. */
  let deadlineRetryAtMs = 0;

  /** Runs lifecycle operations one at a time (updates and deadlines never interleave). */
  async function exclusive<T>(operation: () => Promise<T>): Promise<T> {
    // condition() releases every waiter whose predicate holds in one pass, so re-check after
    // waking: only the first continuation to run takes the lock, the others wait again.
    if (strictLock) while (busy) await condition(() => !busy);
    else await condition(() => !busy);
    busy = true;
    try {
      return await operation();
    } finally {
      busy = false;
      armVersion++;
    }
  }

  function publishState(): void {
    upsertSearchAttributes([
      { key: SearchAttr.state, value: state.status },
      ...(state.host ? [{ key: SearchAttr.host, value: state.host }] : []),
      ...(state.stopReason ? [{ key: SearchAttr.stopReason, value: state.stopReason }] : []),
    ]);
  }

  function info(): SandboxInfo {
    return state.info(now());
  }

  function requireOwner(request: CallerRequest): void {
    if (request.owner !== state.spec.owner) {
      throw ApplicationFailure.create({ type: FailureType.notFound, message: `sandbox ${sandboxID} not found`, nonRetryable: true });
    }
  }

  function requireStatus(request: CallerRequest, allowed: SandboxStatus[], action: string): void {
    requireOwner(request);
    if (state.isFinal()) {
      throw ApplicationFailure.create({ type: FailureType.notFound, message: `sandbox ${sandboxID} is ${state.status}`, nonRetryable: true });
    }
    if (!allowed.includes(state.status)) {
      throw ApplicationFailure.create({
        type: FailureType.conflict,
        message: `cannot ${action} sandbox ${sandboxID}: it is ${state.status}`,
        nonRetryable: true,
      });
    }
  }

  /** A container that vanished under us (host lost, removed by hand) ends the sandbox. */
  function isContainerGone(err: unknown): boolean {
    return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === FailureType.containerGone;
  }

  type DockerCalls = typeof docker;

  async function stop(reason: TransitionReason, detail?: string, calls: DockerCalls = docker): Promise<void> {
    await calls.destroySandbox({ sandboxID });
    state.markStopped(now(), reason, detail);
    publishState();
  }

  async function pause(reason: TransitionReason, calls: DockerCalls = docker): Promise<void> {
    try {
      await calls.pauseSandbox({ sandboxID, mode: 'freeze' });
    } catch (err) {
      if (!isContainerGone(err)) throw err;
      await stop('host_lost', 'container disappeared while pausing', dockerUntilDone);
      throw ApplicationFailure.create({ type: FailureType.notFound, message: `sandbox ${sandboxID} was lost`, nonRetryable: true });
    }
    state.markPaused(now(), reason);
    publishState();
  }

  async function resume(reason: TransitionReason): Promise<void> {
    try {
      await docker.resumeSandbox({ sandboxID });
    } catch (err) {
      if (!isContainerGone(err)) throw err;
      await stop('host_lost', 'container disappeared while paused', dockerUntilDone);
      throw ApplicationFailure.create({ type: FailureType.notFound, message: `sandbox ${sandboxID} was lost`, nonRetryable: true });
    }
    state.markResumed(now(), reason);
    publishState();
  }

  async function provision(): Promise<void> {
    try {
      const result = await docker.provisionSandbox({
        sandboxID,
        owner: state.spec.owner,
        templateID: state.spec.templateID,
        image: state.spec.image,
        resources: state.spec.resources,
        // Only the activity's input grows (no new command): older histories replay unchanged.
        ...(state.spec.network ? { network: state.spec.network } : {}),
        sealedEnvs: state.spec.sealedEnvs,
        ...(state.spec.volumes?.length ? { volumes: state.spec.volumes } : {}),
      });
      state.markRunning(now(), result.host);
    } catch (err) {
      const detail = failureMessage(err);
      log.warn('provisioning failed', { sandboxID, detail });
      await unattended('removing the container of a failed provision', () => dockerUntilDone.destroySandbox({ sandboxID }));
      state.markFailed(now(), detail);
    }
    publishState();
  }

  async function onDeadline(deadline: Deadline): Promise<void> {
    log.info('deadline reached', { sandboxID, reason: deadline.reason, action: deadline.action });
    if (deadline.action === 'pause') await pause(deadline.reason, dockerUntilDone);
    else await stop(deadline.reason, undefined, dockerUntilDone);
  }

  /**
   * Runs work nobody waits on (a deadline, a bulk action). Its Docker calls retry until done;
   * whatever still fails is logged, never allowed to fail the workflow: the sandbox stays
   * as it was and its next deadline is armed again.
   */
  async function unattended(what: string, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (err) {
      if (state.isFinal()) return true;
      log.error(`${what} failed; the sandbox stays ${state.status}`, { sandboxID, error: failureMessage(err) });
      return false;
    }
  }

  setHandler(infoQuery, info);
  setHandler(eventsQuery, () => state.events());
  setHandler(touchSignal, () => state.touch(now()));
  setHandler(leaseSignal, (request) => {
    if (!faultTolerant) return;
    state.lease(now(), request.leaseID, request.durationMs);
    if (request.durationMs <= 0) armVersion++; // a released lease may bring the idle deadline back
  });
  // Reports coalesce: one check at a time, run under the lock, trusting only Docker's answer.
  // A few quick attempts only: an engine that does not answer must not hold the lock for long.
  setHandler(checkContainerSignal, async (request) => {
    if (!faultTolerant || checkingContainer) return;
    checkingContainer = true;
    try {
      await exclusive(async () => {
        if (state.status !== 'running' && state.status !== 'paused') return;
        await unattended('checking the container', async () => {
          const measureDisk = request.diskLimitBytes ? { measureDisk: true } : {};
          const check = await docker.inspectSandbox({ sandboxID, ...measureDisk });
          const lost = lostContainerDetail(check, request.source);
          const overDisk = diskQuotaDetail(check, request.diskLimitBytes);
          if (lost) await stop('container_lost', lost, dockerUntilDone);
          else if (overDisk) await stop('disk_quota', overDisk, dockerUntilDone);
        });
      });
    } finally {
      checkingContainer = false;
    }
  });
  setHandler(bulkActionSignal, async (request) => {
    if (request.owner !== state.spec.owner) return;
    await exclusive(async () => {
      await unattended(`bulk ${request.action}`, async () => {
        if (request.action === 'kill' && !state.isFinal()) await stop('user', 'bulk kill', dockerUntilDone);
        if (request.action === 'pause' && state.status === 'running') await pause('user', dockerUntilDone);
      });
    });
  });

  setHandler(
    waitReadyUpdate,
    async () => {
      await condition(() => state.status !== 'creating');
      return info();
    },
    { validator: (request) => requireOwner(request) },
  );

  setHandler(
    pauseUpdate,
    (request) =>
      exclusive(async () => {
        requireStatus(request, ['running'], 'pause');
        await pause('user');
        return info();
      }),
    { validator: (request) => requireStatus(request, ['running'], 'pause') },
  );

  // An automatic resume (a data-plane call on a paused sandbox) is idempotent: parallel
  // calls race to resume, and the ones that find it running already just touch it.
  const resumableFrom = (request: ResumeRequest): SandboxStatus[] => (request.reason === 'auto_resume' ? ['paused', 'running'] : ['paused']);
  setHandler(
    resumeUpdate,
    (request) =>
      exclusive(async () => {
        requireStatus(request, resumableFrom(request), 'resume');
        if (state.status === 'paused') await resume(request.reason ?? 'user');
        else state.touch(now());
        return info();
      }),
    { validator: (request) => requireStatus(request, resumableFrom(request), 'resume') },
  );

  setHandler(
    connectUpdate,
    (request) =>
      exclusive(async () => {
        requireStatus(request, ['running', 'paused'], 'connect to');
        if (state.status === 'paused') await resume('connect');
        state.touch(now());
        if (request.timeoutMs !== undefined) state.refresh(now(), request.timeoutMs);
        return info();
      }),
    {
      validator: (request) => {
        requireStatus(request, ['running', 'paused', 'creating'], 'connect to');
        validateDuration(request.timeoutMs, 'timeout', true);
      },
    },
  );

  setHandler(
    setTimeoutUpdate,
    (request) =>
      exclusive(async () => {
        requireStatus(request, ['running', 'paused'], 'set the timeout of');
        state.setIdleTimeout(now(), request.timeoutMs);
        return info();
      }),
    {
      validator: (request) => {
        requireStatus(request, ['running', 'paused', 'creating'], 'set the timeout of');
        validateDuration(request.timeoutMs, 'timeout', false);
      },
    },
  );

  setHandler(
    refreshUpdate,
    (request) =>
      exclusive(async () => {
        requireStatus(request, ['running'], 'refresh');
        state.refresh(now(), request.durationMs);
        return info();
      }),
    {
      validator: (request) => {
        requireStatus(request, ['running', 'creating'], 'refresh');
        validateDuration(request.durationMs, 'duration', false);
      },
    },
  );

  setHandler(
    killUpdate,
    (request) =>
      exclusive(async () => {
        requireStatus(request, ['creating', 'running', 'paused'], 'kill');
        await stop('user');
        return info();
      }),
    { validator: (request) => requireStatus(request, ['creating', 'running', 'paused'], 'kill') },
  );

  function historyIsLong(): boolean {
    const { historyLength, continueAsNewSuggested } = workflowInfo();
    return historyLength >= state.spec.historyEventLimit || continueAsNewSuggested;
  }

  // An update delivered with the start (a kill, say) may take the lock first: provision only
  // if the sandbox is still waiting for it.
  if (state.status === 'creating') {
    await exclusive(async () => {
      if (state.status === 'creating' || !strictLock) await provision();
    });
  }

  while (!state.isFinal()) {
    if (historyIsLong() && !busy) {
      await condition(() => allHandlersFinished() && !busy);
      if (!state.isFinal()) {
        log.info('continuing as new', { sandboxID, historyLength: workflowInfo().historyLength });
        return continueAsNew<typeof sandboxWorkflow>({ snapshot: state.snapshot() });
      }
      break;
    }
    const deadline = state.nextDeadline();
    const seenVersion = armVersion;
    // Wakes on a state change that may move the deadline earlier. Touches only move it
    // later, so they do not re-arm: when the timer fires we re-check and re-arm if needed.
    // A busy sandbox's touches grow the history too: wake up to continue as new when it is long.
    // (While an operation holds the lock its end bumps armVersion, which wakes us anyway.)
    const woken = () => armVersion !== seenVersion || state.isFinal() || (strictLock && historyIsLong() && !busy);
    let changed = true;
    setCurrentDetails(describeState(state.status, deadline));
    if (deadline) {
      // The timer's summary tells operators in the Temporal UI what it waits for.
      const summary = `${deadline.reason}: ${deadline.action} at ${new Date(deadline.atMs).toISOString()}`;
      changed = await condition(woken, Math.max(1, Math.max(deadline.atMs, deadlineRetryAtMs) - now()), { summary });
    }
    else await condition(woken);
    if (!changed) {
      await exclusive(async () => {
        const due = state.dueDeadline(now());
        if (due && !state.isFinal() && !(await unattended(`${due.reason} ${due.action}`, () => onDeadline(due)))) {
          deadlineRetryAtMs = now() + DEADLINE_RETRY_MS;
        }
      });
    }
  }

  await condition(allHandlersFinished);
  setCurrentDetails(describeState(state.status, null));
  return { info: info(), events: state.events() };
}

/** One line for the Temporal UI's "current details". */
function describeState(status: SandboxStatus, deadline: Deadline | null): string {
  if (!deadline) return `**${status}**`;
  return `**${status}** · next: ${deadline.action} (${deadline.reason}) at ${new Date(deadline.atMs).toISOString()}`;
}

function validateDuration(valueMs: number | undefined, name: string, optional: boolean): void {
  if (valueMs === undefined && optional) return;
  if (typeof valueMs !== 'number' || !Number.isFinite(valueMs) || valueMs <= 0) {
    throw ApplicationFailure.create({ type: FailureType.invalid, message: `${name} must be a positive number`, nonRetryable: true });
  }
}

function failureMessage(err: unknown): string {
  let current: unknown = err;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
