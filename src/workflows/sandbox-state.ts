/**
 * The lifecycle rules of one sandbox as a small, pure state machine. The workflow owns
 * one instance and passes in workflow time; unit tests drive it with plain numbers.
 */
import type {
  CheckContainerRequest,
  ContainerCheck,
  SandboxEvent,
  SandboxInfo,
  SandboxSnapshot,
  SandboxSpec,
  SandboxStatus,
  TimeoutMode,
  TransitionReason,
} from './definitions.js';

/** The next thing that happens to the sandbox if nobody interacts with it. */
export interface Deadline {
  atMs: number;
  action: 'stop' | 'pause';
  reason: 'idle_timeout' | 'absolute_timeout' | 'max_lifetime' | 'paused_retention';
}

export interface SandboxStateOptions {
  /**
   * Whether a spec's `timeoutMode: 'absolute'` is honoured: the workflow's patch gate, false
   * only when replaying a run recorded before absolute expiry existed. Default true.
   */
  absoluteExpiry?: boolean;
}

const MAX_EVENTS_KEPT = 200;
/** Most concurrent leases kept (attached clients); beyond it the one ending first is dropped. */
const MAX_LEASES_KEPT = 1000;

export class SandboxState {
  /**
   * The timeout mode in force. In `absolute` mode the deadline kept in `idleDeadlineMs` (its
   * name predates the mode; snapshots carry it) is moved only by setTimeout, refresh and resume.
   */
  readonly timeoutMode: TimeoutMode;

  private constructor(
    private readonly s: SandboxSnapshot,
    options: SandboxStateOptions,
  ) {
    this.timeoutMode = s.spec.lifecycle.timeoutMode === 'absolute' && options.absoluteExpiry !== false ? 'absolute' : 'idle';
  }

  /** A new sandbox, in `creating`. */
  static create(spec: SandboxSpec, nowMs: number, options: SandboxStateOptions = {}): SandboxState {
    return new SandboxState({
      spec,
      status: 'creating',
      host: null,
      createdAtMs: nowMs,
      startedAtMs: null,
      idleTimeoutMs: spec.idleTimeoutMs,
      idleDeadlineMs: null,
      runningSinceMs: null,
      runningUsedMs: 0,
      pausedAtMs: null,
      stoppedAtMs: null,
      stopReason: null,
      stopDetail: null,
      events: [{ atMs: nowMs, status: 'creating', reason: 'created' }],
      generation: 0,
    }, options);
  }

  /** Rebuilds the state carried across continueAsNew. */
  static restore(snapshot: SandboxSnapshot, options: SandboxStateOptions = {}): SandboxState {
    return new SandboxState({ ...snapshot, events: [...snapshot.events], ...(snapshot.leases ? { leases: { ...snapshot.leases } } : {}) }, options);
  }

  get status(): SandboxStatus {
    return this.s.status;
  }
  get spec(): SandboxSpec {
    return this.s.spec;
  }
  get host(): string | null {
    return this.s.host;
  }
  get stopReason(): TransitionReason | null {
    return this.s.stopReason;
  }

  /** True once stopped or failed: nothing else can happen. */
  isFinal(): boolean {
    return this.s.status === 'stopped' || this.s.status === 'failed';
  }

  /** Provisioning finished: the sandbox runs and its clocks start. */
  markRunning(nowMs: number, host: string): void {
    if (this.isFinal()) return;
    this.s.host = host;
    this.s.startedAtMs ??= nowMs;
    this.startRunning(nowMs, 'provisioned');
  }

  markFailed(nowMs: number, detail: string): void {
    if (this.isFinal()) return;
    this.finish(nowMs, 'failed', 'provision_failed', detail);
  }

  /** Pauses: the running stretch ends and its time is counted. */
  markPaused(nowMs: number, reason: TransitionReason): void {
    if (this.isFinal()) return;
    if (this.s.runningSinceMs !== null) this.s.runningUsedMs += nowMs - this.s.runningSinceMs;
    this.s.runningSinceMs = null;
    this.s.idleDeadlineMs = null;
    this.s.pausedAtMs = nowMs;
    this.transition(nowMs, 'paused', reason);
  }

  /**
   * Resumes: a resume is an interaction, so the idle deadline restarts from now. In `absolute`
   * mode too (as E2B does): a paused sandbox does not expire, its resume starts a fresh
   * now + timeout.
   */
  markResumed(nowMs: number, reason: TransitionReason): void {
    if (this.isFinal()) return;
    this.s.pausedAtMs = null;
    this.startRunning(nowMs, reason);
  }

  markStopped(nowMs: number, reason: TransitionReason, detail?: string): void {
    if (this.isFinal()) return;
    if (this.s.runningSinceMs !== null) this.s.runningUsedMs += nowMs - this.s.runningSinceMs;
    this.s.runningSinceMs = null;
    this.finish(nowMs, 'stopped', reason, detail);
  }

  /** An interaction: the idle deadline becomes at least now + timeout. Running, `idle` mode only. */
  touch(nowMs: number): void {
    if (this.timeoutMode === 'absolute') return;
    if (this.s.status !== 'running' || this.s.idleDeadlineMs === null) return;
    this.s.idleDeadlineMs = Math.max(this.s.idleDeadlineMs, nowMs + this.s.idleTimeoutMs);
  }

  /** Sets the idle timeout; the deadline becomes exactly now + timeout (it may shorten). */
  setIdleTimeout(nowMs: number, timeoutMs: number): void {
    this.s.idleTimeoutMs = timeoutMs;
    if (this.s.status === 'running') this.s.idleDeadlineMs = nowMs + timeoutMs;
  }

  /** Keeps the sandbox alive for at least `durationMs` more; never shortens. */
  refresh(nowMs: number, durationMs: number): void {
    if (this.s.status !== 'running' || this.s.idleDeadlineMs === null) return;
    this.s.idleDeadlineMs = Math.max(this.s.idleDeadlineMs, nowMs + durationMs);
  }

  /**
   * An attached client's lease: no idle stop or pause before `now + durationMs` while it is
   * held; 0 releases it. Releasing touches the sandbox (the client's last interaction), so the
   * ordinary idle deadline applies from then on. Expired leases are dropped. In `absolute`
   * mode leases are kept but hold nothing off (see {@link nextDeadline}).
   */
  lease(nowMs: number, leaseID: string, durationMs: number): void {
    if (this.isFinal()) return;
    const leases: Record<string, number> = {};
    for (const [id, untilMs] of Object.entries(this.s.leases ?? {})) if (untilMs > nowMs) leases[id] = untilMs;
    if (durationMs > 0) leases[leaseID] = nowMs + durationMs;
    else {
      delete leases[leaseID];
      this.touch(nowMs);
    }
    const ids = Object.keys(leases);
    if (ids.length > MAX_LEASES_KEPT) {
      ids.sort((a, b) => (leases[a] ?? 0) - (leases[b] ?? 0));
      for (const id of ids.slice(0, ids.length - MAX_LEASES_KEPT)) delete leases[id];
    }
    this.s.leases = leases;
  }

  /** When the last active lease ends (0 when none). */
  leaseUntilMs(): number {
    let until = 0;
    for (const untilMs of Object.values(this.s.leases ?? {})) until = Math.max(until, untilMs);
    return until;
  }

  /** When running time reaches the maximum lifetime (running only). */
  lifetimeDeadlineMs(): number | null {
    if (this.s.runningSinceMs === null) return null;
    return this.s.runningSinceMs + this.s.spec.maxLifetimeMs - this.s.runningUsedMs;
  }

  /** The nearest deadline, or null when none applies (creating, final). */
  nextDeadline(): Deadline | null {
    if (this.s.status === 'running' && this.s.idleDeadlineMs !== null) {
      const lifetimeMs = this.lifetimeDeadlineMs() ?? Number.POSITIVE_INFINITY;
      // An attached client's lease holds idleness off; it never holds off the lifetime or an absolute timeout.
      const absolute = this.timeoutMode === 'absolute';
      const idleMs = absolute ? this.s.idleDeadlineMs : Math.max(this.s.idleDeadlineMs, this.leaseUntilMs());
      if (lifetimeMs <= idleMs) return { atMs: lifetimeMs, action: 'stop', reason: 'max_lifetime' };
      const action = this.s.spec.lifecycle.onTimeout === 'pause' ? 'pause' : 'stop';
      return { atMs: idleMs, action, reason: absolute ? 'absolute_timeout' : 'idle_timeout' };
    }
    if (this.s.status === 'paused' && this.s.pausedAtMs !== null) {
      return { atMs: this.s.pausedAtMs + this.s.spec.pausedRetentionMs, action: 'stop', reason: 'paused_retention' };
    }
    return null;
  }

  /** The deadline that has passed at `nowMs`, if any. */
  dueDeadline(nowMs: number): Deadline | null {
    const next = this.nextDeadline();
    return next && next.atMs <= nowMs ? next : null;
  }

  /** Running time so far. */
  runningTimeMs(nowMs: number): number {
    return this.s.runningUsedMs + (this.s.runningSinceMs === null ? 0 : nowMs - this.s.runningSinceMs);
  }

  info(nowMs: number): SandboxInfo {
    const spec = this.s.spec;
    const next = this.nextDeadline();
    return {
      sandboxID: spec.sandboxID,
      templateID: spec.templateID,
      owner: spec.owner,
      status: this.s.status,
      createdAt: iso(this.s.createdAtMs),
      startedAt: this.s.startedAtMs === null ? null : iso(this.s.startedAtMs),
      endAt: next ? iso(next.atMs) : null,
      timeout: Math.round(this.s.idleTimeoutMs / 1000),
      timeoutMode: this.timeoutMode,
      metadata: spec.metadata,
      lifecycle: { ...spec.lifecycle, timeoutMode: this.timeoutMode },
      resources: spec.resources,
      network: spec.network ?? null,
      host: this.s.host,
      runningTimeMs: this.runningTimeMs(nowMs),
      stoppedAt: this.s.stoppedAtMs === null ? null : iso(this.s.stoppedAtMs),
      stopReason: this.s.stopReason,
      stopDetail: this.s.stopDetail,
    };
  }

  events(): SandboxEvent[] {
    return [...this.s.events];
  }

  /** The state to carry into the next run after continueAsNew. */
  snapshot(): SandboxSnapshot {
    const leases = this.s.leases ? { leases: { ...this.s.leases } } : {};
    return { ...this.s, events: [...this.s.events], ...leases, generation: this.s.generation + 1 };
  }

  private startRunning(nowMs: number, reason: TransitionReason): void {
    this.s.runningSinceMs = nowMs;
    this.s.idleDeadlineMs = nowMs + this.s.idleTimeoutMs;
    this.transition(nowMs, 'running', reason);
  }

  private finish(nowMs: number, status: 'stopped' | 'failed', reason: TransitionReason, detail?: string): void {
    this.s.idleDeadlineMs = null;
    if (this.s.leases) this.s.leases = {};
    this.s.pausedAtMs = null;
    this.s.stoppedAtMs = nowMs;
    this.s.stopReason = reason;
    this.s.stopDetail = detail ?? null;
    this.transition(nowMs, status, reason, detail);
  }

  /** Records an event that is not a transition (a snapshot taken): the status stays as it is. */
  note(nowMs: number, reason: TransitionReason, detail?: string): void {
    if (this.isFinal()) return;
    const event: SandboxEvent = { atMs: nowMs, status: this.s.status, reason };
    if (detail !== undefined) event.detail = detail;
    this.s.events.push(event);
    if (this.s.events.length > MAX_EVENTS_KEPT) this.s.events.splice(1, this.s.events.length - MAX_EVENTS_KEPT);
  }

  private transition(nowMs: number, status: SandboxStatus, reason: TransitionReason, detail?: string): void {
    // A final state is final: a late transition (a race the workflow should never allow) is dropped.
    if (this.isFinal()) return;
    this.s.status = status;
    const event: SandboxEvent = { atMs: nowMs, status, reason };
    if (detail !== undefined) event.detail = detail;
    this.s.events.push(event);
    if (this.s.events.length > MAX_EVENTS_KEPT) this.s.events.splice(1, this.s.events.length - MAX_EVENTS_KEPT);
  }
}

/**
 * The detail of a `container_lost` stop when a container check found the container gone or
 * exited; null when it is healthy (running or paused), so a spurious report changes nothing.
 */
export function lostContainerDetail(check: ContainerCheck, source: CheckContainerRequest['source']): string | null {
  if (check.state === 'running' || check.state === 'paused') return null;
  return `${check.detail} (reported by ${source === 'reconciler' ? 'the reconciler' : 'a data-plane call'})`;
}

/** The detail of a `disk_quota` stop when a measured writable layer is above the limit; else null. */
export function diskQuotaDetail(check: ContainerCheck, diskLimitBytes: number | undefined): string | null {
  if (!diskLimitBytes || check.sizeRwBytes === undefined || check.sizeRwBytes <= diskLimitBytes) return null;
  const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
  return `writable layer uses ${mb(check.sizeRwBytes)}, above the limit of ${mb(diskLimitBytes)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
