/**
 * What a sandbox workflow does, as one class: the rules' state ({@link SandboxState}), the
 * lock, and the operations that call Docker (provision, pause, resume, stop, container checks,
 * deadlines). The workflow function (sandbox.ts) only registers the messages (sandbox-messages.ts)
 * and runs a short loop over it.
 */
import { allHandlersFinished, ApplicationFailure, condition, log, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  FailureType,
  SearchAttr,
  type CallerRequest,
  type CheckContainerRequest,
  type HostLostRequest,
  type LeaseRequest,
  type PauseMode,
  type PauseRequest,
  type ProvisionRequest,
  type SandboxInfo,
  type SandboxResult,
  type SandboxSnapshot,
  type SandboxStatus,
  type TransitionReason,
} from './definitions.js';
import { LifecycleLock } from './lifecycle-lock.js';
import { dockerLocal, failureMessage, isContainerGone, isWrongHost, SHARED_QUEUE_CALLS, type DockerCalls, type SandboxDockerCalls } from './sandbox-activities.js';
import { diskQuotaDetail, lostContainerDetail, type Deadline, type SandboxState } from './sandbox-state.js';

/** How long a deadline whose action failed for good waits before it is tried again. */
const DEADLINE_RETRY_MS = 30_000;

/** Workflow time. Inside the workflow sandbox `Date.now()` is deterministic (replayed from history). */
export function now(): number {
  // eslint-disable-next-line no-restricted-properties
  return Date.now();
}

/** The `patched()` gates a run was started under (older runs replay with older rules). */
export interface LifecycleGates {
  /** The lock re-checks after waking, and a long history wakes the main loop. */
  strictLock: boolean;
  /** `checkContainer` and `lease` signals are honoured. */
  faultTolerant: boolean;
  /** Pause to disk exists (`mode: 'disk'`, `lifecycle.pauseMode`); older runs only freeze. */
  pauseToDisk: boolean;
  /** A caller's pause and resume run as local activities (one workflow task per call). */
  localPauseResume?: boolean;
  /** The same for a sandbox placed on a host (routed), when the workflow task's worker serves that host. */
  localOnHost?: boolean;
}

export class SandboxLifecycle {
  readonly sandboxID: string;
  readonly lock: LifecycleLock;
  private checkingContainer = false;
  /** After a deadline's action failed for good, it is tried again no sooner than this. */
  private deadlineRetryAtMs = 0;

  constructor(
    readonly state: SandboxState,
    readonly gates: LifecycleGates,
    /** Where its Docker calls go: its host's queue, or (older sandboxes) the shared queue. */
    readonly calls: SandboxDockerCalls = SHARED_QUEUE_CALLS,
  ) {
    this.sandboxID = state.spec.sandboxID;
    this.lock = new LifecycleLock(gates.strictLock);
  }

  get status(): SandboxStatus {
    return this.state.status;
  }

  isFinal(): boolean {
    return this.state.isFinal();
  }

  info(): SandboxInfo {
    return this.state.info(now());
  }

  result(): SandboxResult {
    return { info: this.info(), events: this.state.events() };
  }

  snapshot(): SandboxSnapshot {
    return this.state.snapshot();
  }

  // ---- checks of a caller's request ----

  /** Another owner's caller gets "not found". */
  requireOwner(request: CallerRequest): void {
    if (request.owner !== this.state.spec.owner) {
      throw ApplicationFailure.create({ type: FailureType.notFound, message: `sandbox ${this.sandboxID} not found`, nonRetryable: true });
    }
  }

  /** The caller's, live, and in one of the `allowed` states (else a conflict saying which state it is in). */
  requireStatus(request: CallerRequest, allowed: readonly SandboxStatus[], action: string): void {
    this.requireOwner(request);
    if (this.state.isFinal()) {
      throw ApplicationFailure.create({ type: FailureType.notFound, message: `sandbox ${this.sandboxID} is ${this.state.status}`, nonRetryable: true });
    }
    if (!allowed.includes(this.state.status)) {
      throw ApplicationFailure.create({
        type: FailureType.conflict,
        message: `cannot ${action} sandbox ${this.sandboxID}: it is ${this.state.status}`,
        nonRetryable: true,
      });
    }
  }

  // ---- operations (callers hold the lock) ----

  async stop(reason: TransitionReason, detail?: string, calls: DockerCalls = this.calls.docker): Promise<void> {
    await calls.destroySandbox({ sandboxID: this.sandboxID });
    this.state.markStopped(now(), reason, detail);
    this.publishState();
  }

  async pause(reason: TransitionReason, mode: PauseMode, calls: DockerCalls = this.calls.docker): Promise<void> {
    const disk = mode === 'disk' && this.gates.pauseToDisk;
    try {
      if (disk) await calls.pauseToDisk({ sandboxID: this.sandboxID, owner: this.state.spec.owner });
      else {
        const ref = { sandboxID: this.sandboxID, mode: 'freeze' as const };
        if (calls === this.calls.docker) {
          await this.locallyOnHost(
            (onHost) => dockerLocal.pauseSandbox({ ...ref, onHost }),
            (onHost) => dockerLocal.pauseSandboxOnHost({ sandboxID: this.sandboxID, onHost }),
            () => calls.pauseSandbox(ref),
          );
        }
        else await calls.pauseSandbox(ref);
      }
    } catch (err) {
      if (!isContainerGone(err)) throw err;
      await this.stop('host_lost', 'container disappeared while pausing', this.calls.untilDone);
      throw this.lost();
    }
    this.state.markPaused(now(), reason, disk ? 'disk' : 'freeze');
    this.publishState();
  }

  /** How an automatic pause (deadline, bulk) keeps this sandbox: its `lifecycle.pauseMode`. */
  autoPauseMode(): PauseMode {
    return this.gates.pauseToDisk ? (this.state.spec.lifecycle.pauseMode ?? 'freeze') : 'freeze';
  }

  /** A user's pause request names a mode this run knows (older runs: freeze only). */
  validatePause(request: PauseRequest): void {
    const mode = request.mode ?? 'freeze';
    if (mode === 'freeze' || (mode === 'disk' && this.gates.pauseToDisk)) return;
    throw ApplicationFailure.create({
      type: FailureType.invalid,
      message: mode === 'disk' ? `sandbox ${this.sandboxID} was created before pause to disk existed: pause it with mode "freeze"` : `unknown pause mode "${String(mode)}": use "freeze" or "disk"`,
      nonRetryable: true,
    });
  }

  async resume(reason: TransitionReason): Promise<void> {
    const fromDisk = this.state.pausedMode === 'disk';
    try {
      if (fromDisk) await this.calls.docker.resumeFromDisk(this.provisionRequest());
      else {
        const ref = { sandboxID: this.sandboxID };
        await this.locallyOnHost(
          (onHost) => dockerLocal.resumeSandbox({ ...ref, onHost }),
          (onHost) => dockerLocal.resumeSandboxOnHost({ ...ref, onHost }),
          () => this.calls.docker.resumeSandbox(ref),
        );
      }
    } catch (err) {
      if (!isContainerGone(err)) throw err;
      await this.stop('host_lost', fromDisk ? 'pause image disappeared while paused to disk' : 'container disappeared while paused', this.calls.untilDone);
      throw this.lost();
    }
    this.state.markResumed(now(), reason);
    this.publishState();
  }

  /**
   * A caller's Docker call: as a local activity when the run has a gate for it and knows its host
   * (`shared`: an unplaced sandbox, 'local-pause-resume'; `placed`: a sandbox on a host's queue,
   * 'local-pause-resume-on-host'), else (or when the worker holding the workflow task serves
   * another host, which refuses without touching Docker) as an activity task.
   */
  private async locallyOnHost(shared: (onHost: string) => Promise<void>, placed: (onHost: string) => Promise<void>, task: () => Promise<void>): Promise<void> {
    const host = this.state.host;
    const local = this.gates.localPauseResume ? shared : this.gates.localOnHost ? placed : null;
    if (!local || host === null) return task();
    try {
      await local(host);
    } catch (err) {
      if (!isWrongHost(err)) throw err;
      await task();
    }
  }

  /** An interaction (running only; nothing in `absolute` mode). */
  touch(): void {
    this.state.touch(now());
  }

  /** Sets the timeout: the deadline becomes now + timeout (may shorten). */
  setTimeout(timeoutMs: number): void {
    this.state.setIdleTimeout(now(), timeoutMs);
  }

  /** Keeps the sandbox alive at least `durationMs` more (never shortens). */
  refresh(durationMs: number): void {
    this.state.refresh(now(), durationMs);
  }

  /** Provisions the container, under the lock, unless an update delivered with the start (a kill) came first. */
  provisionOnce(): Promise<void> {
    return this.lock.exclusive(async () => {
      if (this.state.status === 'creating' || !this.gates.strictLock) await this.provision();
    });
  }

  /** An attached client's lease (older runs ignore it). A released lease may bring the idle deadline back. */
  lease(request: LeaseRequest): void {
    if (!this.gates.faultTolerant) return;
    this.state.lease(now(), request.leaseID, request.durationMs);
    if (request.durationMs <= 0) this.lock.rearm();
  }

  /**
   * A report that the container is missing or over its disk limit. Reports coalesce: one check
   * at a time, run under the lock when the sandbox is in one of `states`, trusting only Docker's
   * answer (a few quick attempts: an engine that does not answer must not hold the lock for long).
   */
  async checkContainer(request: CheckContainerRequest, states: readonly SandboxStatus[]): Promise<void> {
    if (!this.gates.faultTolerant || this.checkingContainer) return;
    this.checkingContainer = true;
    try {
      await this.lock.exclusive(async () => {
        if (!states.includes(this.state.status)) return;
        // Paused to disk: having no container is the point (its pause image is checked on resume).
        if (this.state.pausedMode === 'disk') return;
        await this.unattended('checking the container', async () => {
          const measureDisk = request.diskLimitBytes ? { measureDisk: true } : {};
          const check = await this.calls.docker.inspectSandbox({ sandboxID: this.sandboxID, ...measureDisk });
          const lost = lostContainerDetail(check, request.source);
          const overDisk = diskQuotaDetail(check, request.diskLimitBytes);
          if (lost) await this.stop('container_lost', lost, this.calls.untilDone);
          else if (overDisk) await this.stop('disk_quota', overDisk, this.calls.untilDone);
        });
      });
    } finally {
      this.checkingContainer = false;
    }
  }

  /**
   * Runs work nobody waits on (a deadline, a bulk action). Its Docker calls retry until done;
   * whatever still fails is logged, never allowed to fail the workflow: the sandbox stays
   * as it was and its next deadline is armed again.
   */
  async unattended(what: string, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (err) {
      if (this.state.isFinal()) return true;
      log.error(`${what} failed; the sandbox stays ${this.state.status}`, { sandboxID: this.sandboxID, error: failureMessage(err) });
      return false;
    }
  }

  /**
   * Its host was declared lost: the sandbox stops with `host_lost` without a Docker call (that
   * engine cannot be reached; the host's reconciler removes the container if it comes back).
   * Under the lock, so it never interleaves with an operation in flight.
   */
  async hostLost(request: HostLostRequest): Promise<void> {
    if (this.state.spec.host === undefined || request.host !== this.state.spec.host) return;
    await this.lock.exclusive(async () => {
      if (this.state.isFinal()) return;
      this.state.markStopped(now(), 'host_lost', request.detail);
      this.publishState();
    });
  }

  // ---- the main loop's view ----

  nextDeadline(): Deadline | null {
    return this.state.nextDeadline();
  }

  /** How long the timer for `deadline` waits (later after a failed attempt). */
  timerMs(deadline: Deadline): number {
    return Math.max(1, Math.max(deadline.atMs, this.deadlineRetryAtMs) - now());
  }

  /**
   * What wakes the main loop before its timer: a state change that may move the deadline
   * earlier (the end of any locked operation, a released lease), the end, or (current runs) a
   * history long enough to continue as new. Touches only move the deadline later, so they do not
   * wake it: when the timer fires the loop re-checks and re-arms if needed.
   */
  wakeCondition(): () => boolean {
    const seenVersion = this.lock.armVersion;
    return () => this.lock.armVersion !== seenVersion || this.state.isFinal() || (this.gates.strictLock && this.historyIsLong() && !this.lock.busy);
  }

  /** The timer fired: under the lock, performs the deadline that is due (if still due). */
  runDueDeadline(): Promise<void> {
    return this.lock.exclusive(async () => {
      const due = this.state.dueDeadline(now());
      if (due && !this.state.isFinal() && !(await this.unattended(`${due.reason} ${due.action}`, () => this.onDeadline(due)))) {
        this.deadlineRetryAtMs = now() + DEADLINE_RETRY_MS;
      }
    });
  }

  historyIsLong(): boolean {
    const { historyLength, continueAsNewSuggested } = workflowInfo();
    return historyLength >= this.state.spec.historyEventLimit || continueAsNewSuggested;
  }

  /** Resolves once nothing runs any more: in-flight handlers finished and the lock is free. */
  untilIdle(): Promise<void> {
    return condition(() => allHandlersFinished() && !this.lock.busy);
  }

  // ---- internals ----

  private async provision(): Promise<void> {
    try {
      const result = await this.calls.docker.provisionSandbox(this.provisionRequest());
      this.state.markRunning(now(), result.host);
    } catch (err) {
      const detail = failureMessage(err);
      log.warn('provisioning failed', { sandboxID: this.sandboxID, detail });
      await this.unattended('removing the container of a failed provision', () => this.calls.untilDone.destroySandbox({ sandboxID: this.sandboxID }));
      this.state.markFailed(now(), detail);
    }
    this.publishState();
  }

  /** The container the spec describes: provisioning's input, and a resume from disk's. */
  private provisionRequest(): ProvisionRequest {
    const { spec } = this.state;
    return {
      sandboxID: this.sandboxID,
      owner: spec.owner,
      templateID: spec.templateID,
      image: spec.image,
      resources: spec.resources,
      // Only the activity's input grows (no new command): older histories replay unchanged.
      ...(spec.network ? { network: spec.network } : {}),
      sealedEnvs: spec.sealedEnvs,
      ...(spec.volumes?.length ? { volumes: spec.volumes } : {}),
      ...(spec.runtime ? { runtime: spec.runtime } : {}),
    };
  }

  private async onDeadline(deadline: Deadline): Promise<void> {
    log.info('deadline reached', { sandboxID: this.sandboxID, reason: deadline.reason, action: deadline.action });
    if (deadline.action === 'pause') await this.pause(deadline.reason, this.autoPauseMode(), this.calls.untilDone);
    else await this.stop(deadline.reason, undefined, this.calls.untilDone);
  }

  private publishState(): void {
    const { state } = this;
    upsertSearchAttributes([
      { key: SearchAttr.state, value: state.status },
      ...(state.host ? [{ key: SearchAttr.host, value: state.host }] : []),
      ...(state.stopReason ? [{ key: SearchAttr.stopReason, value: state.stopReason }] : []),
    ]);
  }

  private lost(): ApplicationFailure {
    return ApplicationFailure.create({ type: FailureType.notFound, message: `sandbox ${this.sandboxID} was lost`, nonRetryable: true });
  }
}
