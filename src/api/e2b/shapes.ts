/**
 * The E2B control plane's wire shapes (as the `e2b` Python/npm SDKs and agentbox read them)
 * and their mapping to and from berth's sandbox views.
 */
import { z } from 'zod';
import type { SandboxView } from '../../service/sandbox-service.js';
import type { CreateSandboxBody } from '../../service/schemas.js';
import type { MetricSample } from '../../dataplane/metrics.js';

/**
 * The envd version berth's envd listener speaks (the SDKs switch features on it): >= 0.3.0 sends
 * `stdin` on process start, >= 0.4.0 leaves the user to envd's default (`user`), >= 0.5.2 allows
 * `close_stdin`, >= 0.5.7 uploads file-like data as a streamed `application/octet-stream` body.
 * Not 0.6.x: file metadata (xattrs), watch entries and network-mount watching are not served.
 */
export const ENVD_VERSION = '0.5.7';

/**
 * `clientID` of every sandbox. agentbox addresses a sandbox as `<sandboxID>-<clientID>`;
 * berth's IDs contain no `-`, so the door strips everything from the first `-`.
 */
export const CLIENT_ID = 'berth';

/** The sandbox ID in an E2B path: agentbox sends `<sandboxID>-<clientID>`. */
export function sandboxIDFromPath(raw: string): string {
  const dash = raw.indexOf('-');
  return dash < 0 ? raw : raw.slice(0, dash);
}

/** E2B create body (`POST /sandboxes`, `POST /v2/sandboxes`); fields berth ignores pass. */
export const e2bCreateSchema = z
  .object({
    templateID: z.string().min(1).optional(),
    timeout: z.number().int().nonnegative().optional(),
    autoPause: z.boolean().optional(),
    autoResume: z.object({ enabled: z.boolean() }).passthrough().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    envVars: z.record(z.string(), z.string()).nullish(),
    allow_internet_access: z.boolean().nullish(),
    network: z
      .object({
        allowOut: z.array(z.string()).nullish(),
        denyOut: z.array(z.string()).nullish(),
      })
      .passthrough()
      .nullish(),
    secure: z.boolean().optional(),
    volumeMounts: z.array(z.object({ name: z.string(), path: z.string() }).passthrough()).nullish(),
    mcp: z.unknown().optional(),
    iam: z.unknown().optional(),
  })
  .passthrough();
export type E2BCreateBody = z.infer<typeof e2bCreateSchema>;

/** E2B's default timeout when a create names none (its API's default). */
export const E2B_DEFAULT_TIMEOUT_S = 15;

/** Maps an E2B create body to berth's. */
export function toBerthCreate(body: E2BCreateBody): CreateSandboxBody {
  const allowOut = body.network?.allowOut ?? [];
  const denyOut = body.network?.denyOut ?? [];
  const allowInternet = body.allow_internet_access ?? true;
  const hasNetwork = body.network != null || body.allow_internet_access != null;
  const onTimeout = body.autoPause ? 'pause' : 'kill';
  return {
    templateID: body.templateID ?? 'base',
    timeout: body.timeout && body.timeout > 0 ? body.timeout : E2B_DEFAULT_TIMEOUT_S,
    metadata: body.metadata ?? {},
    envs: body.envVars ?? {},
    // E2B's timeout is absolute: endAt = start + timeout, interactions do not move it.
    lifecycle: { onTimeout, autoResume: body.autoResume?.enabled ?? false, timeoutMode: 'absolute', pauseMode: 'freeze' },
    ...(hasNetwork ? { network: { allowInternet, allowOut, denyOut } } : {}),
    // berth volumes of the owner (POST /volumes with berth's REST), mounted read-write.
    ...(body.volumeMounts?.length ? { volumes: body.volumeMounts.map((v) => ({ name: v.name, mountPath: v.path, readOnly: false })) } : {}),
  };
}

export const e2bTimeoutSchema = z.object({ timeout: z.number().int().nonnegative() }).passthrough();
export const e2bRefreshSchema = z.object({ duration: z.number().int().nonnegative().optional() }).passthrough();
export const e2bConnectSchema = z.object({ timeout: z.number().int().nonnegative().optional() }).passthrough();

/** Where a sandbox's ports are reached: `<port>-<sandboxID>.<domain>` (see docs/e2b.md). */
export interface WireContext {
  domain: string;
  envdAccessToken: string;
}

/** `Sandbox` (create, connect, resume answers). */
export function toE2BSandbox(view: SandboxView, ctx: WireContext) {
  return {
    templateID: view.templateID,
    sandboxID: view.sandboxID,
    clientID: CLIENT_ID,
    envdVersion: ENVD_VERSION,
    envdAccessToken: ctx.envdAccessToken,
    trafficAccessToken: null,
    domain: ctx.domain,
  };
}

function e2bState(view: Pick<SandboxView, 'status'>): 'running' | 'paused' {
  return view.status === 'paused' ? 'paused' : 'running';
}

/** `ListedSandbox` (list answers). */
export function toE2BListed(view: SandboxView, diskSizeMB: number) {
  const startedAt = view.startedAt ?? view.createdAt;
  return {
    templateID: view.templateID,
    sandboxID: view.sandboxID,
    clientID: CLIENT_ID,
    startedAt,
    endAt: view.endAt ?? new Date(Date.parse(startedAt) + view.timeout * 1000).toISOString(),
    cpuCount: Math.max(1, Math.ceil(view.resources.cpu)),
    memoryMB: view.resources.memoryMB,
    diskSizeMB,
    state: e2bState(view),
    envdVersion: ENVD_VERSION,
    metadata: view.metadata,
  };
}

/** `SandboxDetail` (`GET /sandboxes/{id}`). */
export function toE2BDetail(view: SandboxView, ctx: WireContext, diskSizeMB: number) {
  return {
    ...toE2BListed(view, diskSizeMB),
    envdAccessToken: ctx.envdAccessToken,
    domain: ctx.domain,
    allowInternetAccess: view.network?.allowInternet ?? true,
    lifecycle: { autoResume: view.lifecycle.autoResume, onTimeout: view.lifecycle.onTimeout },
  };
}

/** `SandboxMetric` from one of berth's samples. */
export function toE2BMetric(sample: MetricSample, cpuCount: number, diskSizeMB: number) {
  const atMs = Date.parse(sample.at);
  return {
    timestamp: sample.at,
    timestampUnix: Math.floor(atMs / 1000),
    cpuCount,
    cpuUsedPct: (sample.cpuPercent ?? 0) / Math.max(1, cpuCount), // E2B: percent of all the sandbox's CPUs
    memUsed: sample.memoryUsedBytes,
    memTotal: sample.memoryLimitBytes,
    memCache: 0,
    diskUsed: sample.diskUsedBytes ?? 0,
    diskTotal: diskSizeMB * 1024 * 1024,
  };
}

/**
 * The `metadata` list filter: E2B sends one query parameter holding a URL-encoded
 * `k=v&k2=v2` whose keys and values are percent-quoted once more.
 */
export function parseMetadataFilter(raw: unknown): string[] {
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const filters: string[] = [];
  for (const value of values) {
    if (typeof value !== 'string') continue;
    for (const [k, v] of new URLSearchParams(value)) filters.push(`${safeDecode(k)}=${safeDecode(v)}`);
  }
  return filters;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
