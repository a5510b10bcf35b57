/**
 * Wire types of berth's REST API, written to match the server's answers field by field
 * (src/api/rest/*.ts, src/service/sandbox-service.ts, src/dataplane/*.ts). When the server's
 * zod response schemas (src/api/rest/response-schemas.ts) land, these can be generated from them.
 */

export type SandboxStatus = 'creating' | 'running' | 'paused' | 'stopped' | 'failed';

/** Why a transition happened (also the stop reason of a stopped sandbox). */
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
  | 'provision_failed';

/**
 * How the timeout counts: `idle` (default; every interaction moves `endAt` to now + timeout) or
 * `absolute` (`endAt` = start + timeout; only setTimeout, refresh and connect with a timeout move it,
 * and a resume starts a fresh now + timeout).
 */
export type TimeoutMode = 'idle' | 'absolute';

export interface SandboxLifecycle {
  /** What expiry does: stop (`kill`) or `pause`. */
  onTimeout: 'kill' | 'pause';
  /** Resume a paused sandbox when something interacts with it. */
  autoResume: boolean;
  timeoutMode: TimeoutMode;
}

export interface SandboxResources {
  cpu: number;
  memoryMB: number;
}

/** Egress policy, enforced by the host's packet filter (docs/security.md). CIDRs or single IPv4 addresses. */
export interface SandboxNetworkPolicy {
  /** `false` denies everything not in `allowOut`. Default true. */
  allowInternet: boolean;
  /** Always reachable (allow beats deny; private ranges only when listed here). */
  allowOut: string[];
  /** Never reachable unless also in `allowOut`. */
  denyOut: string[];
}

/** `GET /sandboxes/{id}` and the answer of every lifecycle call. */
export interface SandboxInfo {
  sandboxID: string;
  templateID: string;
  status: SandboxStatus;
  createdAt: string;
  startedAt: string | null;
  /** When the sandbox stops (or pauses) if nothing happens; null while creating or after stop. */
  endAt: string | null;
  /** Timeout in seconds (idle or absolute, see `timeoutMode`). */
  timeout: number;
  timeoutMode: TimeoutMode;
  metadata: Record<string, string>;
  lifecycle: SandboxLifecycle;
  resources: SandboxResources;
  /** null for sandboxes created before egress policies existed. */
  network: SandboxNetworkPolicy | null;
  host: string | null;
  runningTimeMs: number;
  stoppedAt: string | null;
  stopReason: TransitionReason | null;
  stopDetail: string | null;
  /** The sandbox's workflow in the Temporal UI. */
  historyURL: string;
}

/** One row of `GET /sandboxes`. */
export interface SandboxListItem {
  sandboxID: string;
  templateID: string | null;
  status: SandboxStatus;
  createdAt: string;
  stoppedAt: string | null;
  stopReason: TransitionReason | null;
  metadata: Record<string, string>;
  host: string | null;
  historyURL: string;
}

/** `GET /sandboxes`. */
export interface SandboxPage {
  sandboxes: SandboxListItem[];
  nextToken: string | null;
}

export interface SandboxEvent {
  at: string;
  status: SandboxStatus;
  reason: TransitionReason;
  detail?: string;
}

/** `GET /sandboxes/{id}/events` (also answers after the sandbox stopped). */
export interface SandboxEvents {
  sandboxID: string;
  status: SandboxStatus;
  events: SandboxEvent[];
  historyURL: string;
}

/** Body of `POST /sandboxes`. */
export interface CreateSandboxBody {
  templateID?: string;
  image?: string;
  /** Seconds. */
  timeout?: number;
  metadata?: Record<string, string>;
  envs?: Record<string, string>;
  resources?: Partial<SandboxResources>;
  lifecycle?: Partial<SandboxLifecycle>;
  network?: Partial<SandboxNetworkPolicy>;
}

/** `POST /sandboxes/bulk/{kill|pause}`. */
export interface BulkResult {
  affected: number;
  jobId: string | null;
}

/** Body of `POST /sandboxes/{id}/commands`. */
export interface RunCommandBody {
  cmd: string | string[];
  envs?: Record<string, string>;
  cwd?: string;
  user?: string;
  /** Seconds. */
  timeout?: number;
  stdin?: string;
  stdinEncoding?: 'utf8' | 'base64';
  background?: boolean;
  stream?: boolean;
  encoding?: 'utf8' | 'base64';
}

/** Foreground, buffered answer of `POST /sandboxes/{id}/commands`. */
export interface CommandResultBody {
  cmdID: string;
  pid: number;
  exitCode: number;
  stdout: string;
  stderr: string;
  encoding: 'utf8' | 'base64';
  truncated: { stdout: boolean; stderr: boolean };
  outputBytes: { stdout: number; stderr: number };
  timedOut: boolean;
}

/** A background command: `POST …/commands` with `background: true`, `GET …/commands/{cmdID}`. */
export interface CommandStatus {
  cmdID: string;
  cmd: string | string[];
  user: string | null;
  cwd: string | null;
  startedAt: string | null;
  pid: number | null;
  state: 'running' | 'exited' | 'lost';
  running: boolean;
  exitCode: number | null;
  timedOut: boolean;
}

/** `GET …/commands/{cmdID}/logs`. */
export interface CommandLogsBody {
  stdout: string;
  stderr: string;
  encoding: 'utf8' | 'base64';
  cursor: string;
  more: boolean;
  status: CommandStatus;
}

/** `POST …/commands/{cmdID}/signal`. */
export interface SignalResult {
  signalled: number;
  status: CommandStatus;
}

export type SignalName = 'TERM' | 'KILL' | 'INT' | 'HUP' | 'QUIT' | 'USR1' | 'USR2' | 'STOP' | 'CONT';

/** A file or folder inside the sandbox. */
export interface EntryInfo {
  path: string;
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** Permission bits as octal text, e.g. `"644"`. */
  mode: string;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  modifiedAt: string;
}

/** `GET …/files/list` and `GET …/files/search`. */
export interface EntryList {
  entries: EntryInfo[];
  truncated: boolean;
}

export interface MetricSample {
  at: string;
  /** Percent of one CPU (200 = two busy CPUs); null on the very first sample. */
  cpuPercent: number | null;
  cpuLimit: number | null;
  memoryUsedBytes: number;
  memoryLimitBytes: number;
  diskUsedBytes: number | null;
}

/** `GET /sandboxes/{id}/metrics`. */
export interface SandboxMetrics {
  sandboxID: string;
  intervalMs: number;
  current: MetricSample;
  series: MetricSample[];
}

/** `GET /sandboxes/{id}/endpoints/{port}`. */
export interface SandboxEndpoint {
  sandboxID: string;
  port: number;
  url: string;
  websocketUrl: string;
  auth: string;
  internal: { host: string; port: number };
}
