/**
 * The interaction gate: the one path every data-plane call takes before it reaches a sandbox
 * (owner check, auto-resume, coalesced touch, keep-alive leases for attached clients, and a
 * short live-state cache). Every front door calls it; it calls the lifecycle service and
 * signals the sandbox's workflow, never Docker.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config.js';
import { keepAlive } from '../dataplane/sse.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { workflowIdFor } from '../ids.js';
import { checkContainerSignal, leaseSignal, touchSignal, type SandboxInfo } from '../workflows/definitions.js';
import type { sandboxWorkflow } from '../workflows/sandbox.js';
import { LeaseKeeper } from './lease-keeper.js';
import { TouchCoalescer } from './touch-coalescer.js';

/**
 * How long a data-plane call may reuse a running sandbox's state instead of querying its
 * workflow (a query is ≈ 4-5 ms of a command's overhead). Lifecycle calls through this
 * process invalidate it; a change made through another API process is seen within this
 * time, and meanwhile Docker's own answer (no such container, container paused) applies.
 */
const LIVE_INFO_CACHE_MS = 1000;

/** What the gate needs from the lifecycle service. */
export interface GateLifecycle {
  /** 404 unless the sandbox is the owner's and creating, running or paused. */
  liveInfo(owner: string, sandboxID: string): Promise<SandboxInfo>;
  /** Waits until a creating sandbox runs (or failed). */
  waitReady(owner: string, sandboxID: string): Promise<SandboxInfo>;
  /** Resumes a paused sandbox because something interacts with it (idempotent). */
  autoResume(owner: string, sandboxID: string): Promise<SandboxInfo>;
}

export interface InteractionGateDeps {
  client: Client;
  config: BerthConfig;
  logger: Logger;
  lifecycle: GateLifecycle;
  /** Told the host of every sandbox a data-plane call is about to reach (the data plane routes by it). */
  onHost?: (sandboxID: string, host: string | null) => void;
}

export class InteractionGate {
  private readonly client: Client;
  private readonly logger: Logger;
  private readonly lifecycle: GateLifecycle;
  private readonly onHost: (sandboxID: string, host: string | null) => void;
  private readonly touches: TouchCoalescer;
  private readonly leases: LeaseKeeper;
  /** Running sandboxes' info, reused by data-plane calls for {@link LIVE_INFO_CACHE_MS}. */
  private readonly liveCache = new Map<string, { info: SandboxInfo; atMs: number }>();

  constructor(deps: InteractionGateDeps) {
    this.client = deps.client;
    this.logger = deps.logger;
    this.lifecycle = deps.lifecycle;
    this.onHost = deps.onHost ?? (() => undefined);
    this.touches = new TouchCoalescer(
      deps.config.lifecycle.touchCoalesceMs,
      (id) => this.handle(id).signal(touchSignal),
      (id, err) => this.logger.warn({ sandboxID: id, err }, 'touch signal failed'),
    );
    this.leases = new LeaseKeeper(
      deps.config.lifecycle.leaseRenewMs,
      (id, leaseID, durationMs) => this.handle(id).signal(leaseSignal, { leaseID, durationMs }),
      (id, err) => this.logger.debug({ sandboxID: id, err }, 'lease signal failed'),
    );
  }

  /**
   * Prepares a data-plane call: the sandbox must be live and the caller's; a paused one is
   * resumed first when it was created with `autoResume`, else 409. Then it is touched.
   */
  async beginInteraction(owner: string, sandboxID: string): Promise<SandboxInfo> {
    const info = await this.begin(owner, sandboxID);
    this.onHost(sandboxID, info.host);
    return info;
  }

  private async begin(owner: string, sandboxID: string): Promise<SandboxInfo> {
    const cached = this.liveCache.get(sandboxID);
    if (cached && cached.info.owner === owner && Date.now() - cached.atMs < LIVE_INFO_CACHE_MS) {
      this.touchUnlessAbsolute(cached.info);
      return cached.info;
    }
    let info = await this.lifecycle.liveInfo(owner, sandboxID);
    if (info.status === 'creating') {
      info = await this.lifecycle.waitReady(owner, sandboxID);
      if (info.status !== 'running') throw new NotFoundError(`sandbox ${sandboxID} not found`);
    }
    if (info.status === 'paused') {
      if (!info.lifecycle.autoResume) {
        throw new ConflictError(
          `sandbox ${sandboxID} is paused: resume it first (POST /sandboxes/${sandboxID}/resume or /connect)`,
        );
      }
      return this.lifecycle.autoResume(owner, sandboxID);
    }
    this.touchUnlessAbsolute(info);
    this.liveCache.set(sandboxID, { info, atMs: Date.now() });
    if (this.liveCache.size > 10_000) this.liveCache.clear();
    return info;
  }

  /** Touches a sandbox whose deadline interactions move: not one with an absolute timeout (it would only grow its history). */
  private touchUnlessAbsolute(info: SandboxInfo): void {
    if (info.timeoutMode !== 'absolute') this.touch(info.sandboxID, info.timeout * 1000);
  }

  /**
   * Whether the owner's sandbox runs now, without touching or resuming it (health probes).
   * False when it is paused, stopped, missing or another owner's.
   */
  async isRunning(owner: string, sandboxID: string): Promise<boolean> {
    try {
      return (await this.lifecycle.liveInfo(owner, sandboxID)).status === 'running';
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /**
   * Records an interaction (coalesced touch signal). Pass the sandbox's idle timeout when
   * known: the coalescing window is capped at a quarter of it.
   */
  touch(sandboxID: string, idleTimeoutMs?: number): void {
    this.touches.touch(sandboxID, idleTimeoutMs === undefined ? undefined : Math.max(100, idleTimeoutMs / 4));
  }

  /**
   * Keeps a sandbox alive while a client stays attached (long command, stream, proxy
   * connection), whatever its timeout becomes meanwhile: holds a lease on it (see
   * {@link LeaseKeeper}) so it is not stopped or paused for idleness, and touches it every
   * quarter of the idle timeout it had when the client attached (what workflows started before
   * leases existed go by). The returned stop function detaches (the last detachment releases the
   * lease) and touches once more: the ordinary idle deadline applies from then on.
   */
  keepAlive(sandboxID: string, idleTimeoutS: number): () => void {
    const detach = this.leases.attach(sandboxID);
    const stopTouches = keepAlive(() => this.touch(sandboxID, idleTimeoutS * 1000), idleTimeoutS);
    return () => {
      detach();
      stopTouches();
    };
  }

  /**
   * A data-plane call found no container (Docker 404, or exited): tells the sandbox's workflow
   * to check it (it stops with `container_lost` if it really is gone) and drops pending touches,
   * so the failed call does not push the sandbox's deadline.
   */
  reportContainerMissing(sandboxID: string): void {
    this.liveCache.delete(sandboxID);
    this.touches.forget(sandboxID);
    this.handle(sandboxID)
      .signal(checkContainerSignal, { source: 'dataplane' })
      .catch((err: unknown) => this.logger.debug({ sandboxID, err }, 'checkContainer signal failed'));
    this.logger.warn({ sandboxID }, 'data-plane call found no container; asked the sandbox to check it');
  }

  /** A lifecycle call is about to change the sandbox: its cached state is stale. */
  invalidate(sandboxID: string): void {
    this.liveCache.delete(sandboxID);
  }

  /** A bulk call may change any sandbox. */
  invalidateAll(): void {
    this.liveCache.clear();
  }

  /** The sandbox stopped: pending touches are moot. */
  forget(sandboxID: string): void {
    this.touches.forget(sandboxID);
  }

  /** Releases leases and delivers pending touches (none is dropped). */
  async close(): Promise<void> {
    await this.leases.close();
    await this.touches.close();
  }

  private handle(sandboxID: string): WorkflowHandle<typeof sandboxWorkflow> {
    return this.client.workflow.getHandle<typeof sandboxWorkflow>(workflowIdFor(sandboxID));
  }
}
