/**
 * Every message a sandbox workflow understands, with its types. The API and the workflow
 * both import from here, so the two sides cannot drift apart.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export type SandboxStatus = 'creating' | 'running' | 'paused' | 'stopped' | 'failed';

/** Why a transition happened; visible in the API (`/events`) and the Temporal UI. */
export type TransitionReason =
  | 'created'
  | 'provisioned'
  | 'user'
  | 'connect'
  | 'auto_resume'
  | 'idle_timeout'
  | 'absolute_timeout'
  | 'max_lifetime'
  | 'paused_retention'
  | 'host_lost'
  | 'container_lost'
  | 'disk_quota'
  | 'provision_failed'
  /** Not a transition: a snapshot was taken (detail: its snapshotID); the status stays. */
  | 'snapshot';

/** What happens when the timeout expires. */
export type OnTimeout = 'kill' | 'pause';

/**
 * How the timeout counts: `idle` (every interaction moves `endAt` to now + timeout) or
 * `absolute` (`endAt` = start + timeout, moved only by setTimeout, refresh and connect with a
 * timeout; a resume starts a fresh now + timeout). See docs/lifecycle.md.
 */
export type TimeoutMode = 'idle' | 'absolute';

export interface LifecyclePolicy {
  onTimeout: OnTimeout;
  /** Resume a paused sandbox when something interacts with it. */
  autoResume: boolean;
  /** Absent in specs of sandboxes created before the option existed: `idle`. */
  timeoutMode?: TimeoutMode;
  /** How an automatic pause (onTimeout `pause`, bulk pause) keeps the sandbox; absent: `freeze`. */
  pauseMode?: PauseMode;
}

export interface Resources {
  cpu: number;
  memoryMB: number;
}

/**
 * Where a sandbox may open connections (IPv4 CIDRs or single addresses, normalised to
 * CIDRs). Allow beats deny; private ranges are denied unless allowed; other sandboxes,
 * the host and link-local addresses are never reachable. Enforced by the host's packet
 * filter (src/network), see docs/security.md.
 */
export interface NetworkPolicy {
  /** false denies 0.0.0.0/0 (everything not in allowOut). */
  allowInternet: boolean;
  allowOut: string[];
  denyOut: string[];
}

/** Everything fixed at creation. Durations are milliseconds so tests can use tiny ones. */
export interface SandboxSpec {
  sandboxID: string;
  owner: string;
  templateID: string;
  image: string;
  metadata: Record<string, string>;
  resources: Resources;
  lifecycle: LifecyclePolicy;
  /** Egress policy; absent in sandboxes created before policies existed (they were on Docker's default bridge). */
  network?: NetworkPolicy;
  /** Env vars sealed with the API's secret key (see src/secrets.ts); never clear text in history. */
  sealedEnvs?: string;
  /** Named volumes mounted into the container (absent: none). */
  volumes?: VolumeMount[];
  /** Docker runtime (`runsc` for gVisor: no network; a pause to disk checkpoints processes); absent: the engine's default. */
  runtime?: string;
  /**
   * The Docker host chosen at create: every Docker activity goes to that host's task queue
   * (src/workflows/host-queue.ts). Absent in sandboxes created before per-host queues: their
   * activities use the shared queue, as before.
   */
  host?: string;
  /**
   * The API's configuration has a warm pool for this template (BERTH_WARM_POOL): the workflow first
   * tries to claim a pool container inside its first workflow task (a local activity, patch
   * `warm-pool-local-claim`), before the provisioning activity. Absent: provisioning as before.
   */
  warmPool?: boolean;
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  pausedRetentionMs: number;
  /** continueAsNew once the history holds this many events. */
  historyEventLimit: number;
}

/** One lifecycle transition. */
export interface SandboxEvent {
  /** Epoch milliseconds (workflow time). */
  atMs: number;
  status: SandboxStatus;
  reason: TransitionReason;
  detail?: string;
}

/** The mutable state of a sandbox, carried across continueAsNew. */
export interface SandboxSnapshot {
  spec: SandboxSpec;
  status: SandboxStatus;
  host: string | null;
  createdAtMs: number;
  startedAtMs: number | null;
  idleTimeoutMs: number;
  /** When the sandbox goes idle if nothing touches it (running only). */
  idleDeadlineMs: number | null;
  /** Start of the current running stretch (running only). */
  runningSinceMs: number | null;
  /** Running time accumulated before the current stretch. */
  runningUsedMs: number;
  pausedAtMs: number | null;
  stoppedAtMs: number | null;
  stopReason: TransitionReason | null;
  stopDetail: string | null;
  events: SandboxEvent[];
  /** How many times this sandbox continued as new. */
  generation: number;
  /**
   * Attached clients' leases (lease ID → epoch ms it ends): while one is active the sandbox is
   * not stopped or paused for idleness. Absent in snapshots of older versions.
   */
  leases?: Record<string, number>;
  /** How the sandbox is paused (paused only; absent: `freeze`, as in snapshots of older versions). */
  pausedMode?: PauseMode;
}

/** What `GET /sandboxes/{id}` shows (times as ISO strings, timeout in seconds). */
export interface SandboxInfo {
  sandboxID: string;
  templateID: string;
  owner: string;
  status: SandboxStatus;
  createdAt: string;
  startedAt: string | null;
  /** When the sandbox stops (or pauses) if nothing happens; null while creating or after stop. */
  endAt: string | null;
  timeout: number;
  /** How `timeout` counts (the mode really enforced). */
  timeoutMode: TimeoutMode;
  metadata: Record<string, string>;
  lifecycle: LifecyclePolicy & { timeoutMode: TimeoutMode; pauseMode: PauseMode };
  /** How the sandbox is paused now (`disk`: no container, processes restart on resume); null unless paused. */
  pausedMode: PauseMode | null;
  resources: Resources;
  /** The egress policy; null for sandboxes created before policies existed. */
  network: NetworkPolicy | null;
  host: string | null;
  runningTimeMs: number;
  stoppedAt: string | null;
  stopReason: TransitionReason | null;
  stopDetail: string | null;
}

/** Input of {@link sandboxWorkflow}: a fresh spec, or a snapshot after continueAsNew. */
export type SandboxWorkflowInput = { spec: SandboxSpec; snapshot?: undefined } | { spec?: undefined; snapshot: SandboxSnapshot };

/** The workflow's result: readable after the sandbox stopped. */
export interface SandboxResult {
  info: SandboxInfo;
  events: SandboxEvent[];
}

/** `ApplicationFailure.type`s that cross the workflow boundary; the API maps them to HTTP codes. */
export const FailureType = {
  conflict: 'SandboxConflict',
  notFound: 'SandboxNotFound',
  invalid: 'SandboxInvalidArgument',
  containerGone: 'ContainerGone',
  imageNotFound: 'ImageNotFound',
  /** A local pause / resume reached a worker of another Docker host: the workflow uses an activity task instead. */
  wrongHost: 'WrongHost',
} as const;

// ---- updates (request/response, validated before anything is written) ----
/** Resolves once provisioning finished (running or failed). */
// Every update names the caller's owner; a sandbox answers "not found" to other owners.
export const waitReadyUpdate = defineUpdate<SandboxInfo, [CallerRequest]>('waitReady');
export const pauseUpdate = defineUpdate<SandboxInfo, [PauseRequest]>('pause');
export const resumeUpdate = defineUpdate<SandboxInfo, [ResumeRequest]>('resume');
export const setTimeoutUpdate = defineUpdate<SandboxInfo, [SetTimeoutRequest]>('setTimeout');
export const refreshUpdate = defineUpdate<SandboxInfo, [RefreshRequest]>('refresh');
export const connectUpdate = defineUpdate<SandboxInfo, [ConnectRequest]>('connect');
export const killUpdate = defineUpdate<SandboxInfo, [CallerRequest]>('kill');
/** Commits the sandbox's filesystem to a snapshot image (see src/workflows/snapshot.ts); IDs and sizes only. */
export const snapshotUpdate = defineUpdate<SnapshotTaken, [SnapshotRequest]>('snapshot');

export interface CallerRequest {
  owner: string;
}
export interface PauseRequest extends CallerRequest {
  /** Absent: `freeze`. */
  mode?: PauseMode;
}
export interface ResumeRequest extends CallerRequest {
  reason?: 'user' | 'auto_resume';
}
export interface SetTimeoutRequest extends CallerRequest {
  timeoutMs: number;
}
export interface RefreshRequest extends CallerRequest {
  durationMs: number;
}
export interface SnapshotRequest extends CallerRequest {
  /** Chosen by the caller, so a retried update (or activity) makes one image, not two. */
  snapshotID: string;
}
/** Snapshot IDs: `snap_` and 20 lowercase alphanumerics (never a template name; a valid image name). */
export const SNAPSHOT_ID_PATTERN = /^snap_[a-z0-9]{20}$/;
/** What a snapshot is: a user's (`snapshot`) or a disk pause's own image (`pause`). */
export type SnapshotKind = 'snapshot' | 'pause';
/** What the snapshot step recorded (no bytes: IDs, sizes, times). */
export interface SnapshotTaken {
  snapshotID: string;
  sandboxID: string;
  kind: SnapshotKind;
  imageID: string;
  sizeBytes: number;
  createdAt: string;
}
export interface ConnectRequest extends CallerRequest {
  /** Extends the deadline to at least now + timeoutMs (never shortens). */
  timeoutMs?: number;
}

// ---- signals (fire and forget) ----
/** An interaction happened: reset the idle deadline (no effect in `absolute` mode). Sent coalesced by the API. */
export const touchSignal = defineSignal('touch');
/**
 * Asks the sandbox to stop or pause, as a signal so that Temporal batch operations can
 * deliver it to every sandbox matching a visibility query (bulk kill / pause).
 */
export const bulkActionSignal = defineSignal<[BulkActionRequest]>('bulkAction');
export interface BulkActionRequest {
  action: 'kill' | 'pause';
  owner: string;
}

/**
 * Someone saw the sandbox's container missing or exited (the reconciler's sweep, a data-plane
 * call answered 404 by Docker). The workflow checks the container itself, under its lock, and
 * stops with `container_lost` only if it really is gone or exited: a spurious report is harmless.
 */
export const checkContainerSignal = defineSignal<[CheckContainerRequest]>('checkContainer');
export interface CheckContainerRequest {
  /** Who reported it (shown in the event's detail). */
  source: 'reconciler' | 'dataplane';
  /**
   * The host's writable-layer limit when the report is about disk use: the check then also
   * measures the container's writable layer and stops with `disk_quota` above it.
   */
  diskLimitBytes?: number;
}

/**
 * A client is attached (long command, stream, proxy connection): the sandbox is not stopped
 * or paused for idleness before `now + durationMs`. Renewed periodically by the API; a
 * duration of 0 releases the lease. Max lifetime still applies, and so does an `absolute`
 * timeout (leases hold off idleness only).
 */
export const leaseSignal = defineSignal<[LeaseRequest]>('lease');
export interface LeaseRequest {
  leaseID: string;
  durationMs: number;
}

/**
 * The sandbox's host stopped reporting for longer than its grace period (src/workflows/host.ts):
 * the sandbox stops with `host_lost` without calling Docker (nobody can reach that engine). Its
 * container, should the host come back, is an orphan the host's reconciler removes.
 */
export const hostLostSignal = defineSignal<[HostLostRequest]>('hostLost');
export interface HostLostRequest {
  host: string;
  detail: string;
}

// ---- queries (read only, no history) ----
export const infoQuery = defineQuery<SandboxInfo>('info');
export const eventsQuery = defineQuery<SandboxEvent[]>('events');
/**
 * The create's env vars, sealed as in the spec (null: none). The data plane adds them to every
 * exec, since a container claimed from the warm pool was started before the create.
 */
export const sealedEnvsQuery = defineQuery<string | null>('sealedEnvs');

// ---- search attributes (register these on the Temporal server) ----
export const SearchAttr = {
  state: defineSearchAttributeKey('BerthState', SearchAttributeType.KEYWORD),
  template: defineSearchAttributeKey('BerthTemplate', SearchAttributeType.KEYWORD),
  owner: defineSearchAttributeKey('BerthOwner', SearchAttributeType.KEYWORD),
  host: defineSearchAttributeKey('BerthHost', SearchAttributeType.KEYWORD),
  metadata: defineSearchAttributeKey('BerthMetadata', SearchAttributeType.KEYWORD_LIST),
  stopReason: defineSearchAttributeKey('BerthStopReason', SearchAttributeType.KEYWORD),
  /** The sandbox's CPUs and memory limit, set at start (they never change): per-owner quotas sum them. */
  cpu: defineSearchAttributeKey('BerthCpu', SearchAttributeType.DOUBLE),
  memoryMB: defineSearchAttributeKey('BerthMemoryMB', SearchAttributeType.INT),
} as const;

/** All search attribute keys, for server registration. */
export const ALL_SEARCH_ATTRIBUTES = Object.values(SearchAttr);

/** Metadata as `key=value` keywords for the `BerthMetadata` attribute. */
export function metadataKeywords(metadata: Record<string, string>): string[] {
  return Object.entries(metadata).map(([k, v]) => `${k}=${v}`);
}

// ---- activities the workflow calls (implemented in src/activities) ----
/** A Docker named volume mounted into a sandbox. */
export interface VolumeMount {
  /** The volume's name as its owner knows it. */
  name: string;
  /** The engine's volume name. */
  volume: string;
  mountPath: string;
  readOnly: boolean;
}

export interface ProvisionRequest {
  sandboxID: string;
  owner: string;
  templateID: string;
  image: string;
  resources: Resources;
  /** Absent for runs started before policies existed: the activity applies the default. */
  network?: NetworkPolicy;
  sealedEnvs?: string;
  volumes?: VolumeMount[];
  /** The spec's runtime (absent: the engine's default). */
  runtime?: string;
  /** This host's warm pool was already tried (a local claim found none): make a container, do not take from the pool. */
  poolTried?: boolean;
}
/** A local claim's answer: the claimed container, or why there is none (`tried`: this host's pool was asked). */
export type LocalClaimResult = ProvisionResult | { containerID: null; tried: boolean };
export interface ProvisionResult {
  containerID: string;
  host: string;
}
export interface ContainerRef {
  sandboxID: string;
}
/** What a container check found: `running` / `paused` are healthy; `missing` / `exited` mean lost. */
export interface ContainerCheck {
  state: 'running' | 'paused' | 'missing' | 'exited';
  detail: string;
  /** Size of the container's writable layer, when measured. */
  sizeRwBytes?: number;
}
/** Input of the `snapshotSandbox` activity (src/activities/snapshot.ts). */
export interface SnapshotSandboxRequest {
  sandboxID: string;
  snapshotID: string;
  owner: string;
  /** The sandbox's template: a boot from the snapshot takes its defaults (resources, timeout). */
  templateID: string;
  kind: SnapshotKind;
}
/**
 * How a pause keeps the sandbox: `freeze` (cgroup freezer: processes and memory kept, memory
 * still held) or `disk` (container committed to a local pause image and removed: no memory or
 * CPU held, survives an engine restart; files kept, processes restart on resume). See docs/pause.md.
 */
export type PauseMode = 'freeze' | 'disk';
export const PAUSE_MODES: readonly PauseMode[] = ['freeze', 'disk'];
/** Input of the pause-to-disk activity. */
export interface PauseToDiskRequest {
  sandboxID: string;
  owner: string;
}
/** What a pause to disk left on the engine. */
export interface PauseToDiskResult {
  image: string;
  sizeBytes: number;
}
