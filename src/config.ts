import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { cidrProblem, normalizeCidr } from './network/cidr.js';
import type { NetworkConfig } from './network/sandbox-network.js';
import { buildTemplateCatalog, type Template } from './templates.js';
import { HOST_NAME_PATTERN } from './workflows/host-queue.js';

/** How the API reaches one Docker host's engine. */
export type DockerEndpoint = { kind: 'unix'; socketPath: string } | { kind: 'tcp'; host: string; port: number };

const HOUR_MS = 3_600_000;
const GIB = 1024 ** 3;

const apiKeysSchema = z
  .string()
  .min(1, 'BERTH_API_KEYS is required: a comma-separated list of key:owner pairs, e.g. "sk-abc:alice"')
  .transform((raw, ctx) => {
    const keys = new Map<string, string>();
    for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      const separator = entry.lastIndexOf(':');
      const key = separator > 0 ? entry.slice(0, separator) : entry;
      const owner = separator > 0 ? entry.slice(separator + 1) : 'default';
      if (key.length < 8) {
        ctx.addIssue({ code: 'custom', message: `API key "${key.slice(0, 3)}…" is shorter than 8 characters` });
        return z.NEVER;
      }
      if (key.startsWith('e2b_') && !/^e2b_[0-9a-f]{32,}$/.test(key)) {
        // The E2B door answers e2b_ keys (src/api/e2b/detect.ts); the E2B SDKs expect e2b_<hex>.
        ctx.addIssue({ code: 'custom', message: `API key "e2b_…" must be e2b_ and at least 32 lowercase hex digits (E2B's key format), e.g. e2b_$(openssl rand -hex 20)` });
        return z.NEVER;
      }
      if (!/^[a-zA-Z0-9_.-]+$/.test(owner)) {
        ctx.addIssue({ code: 'custom', message: `owner "${owner}" must be letters, digits, _ . or -` });
        return z.NEVER;
      }
      keys.set(key, owner);
    }
    return keys;
  });

const jsonRecord = z
  .string()
  .transform((raw, ctx) => {
    try {
      return z.record(z.string(), z.string()).parse(JSON.parse(raw));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object of strings, e.g. {"base":"python:3.12-slim"}' });
      return z.NEVER;
    }
  });

/** A comma-separated list of IPv4 CIDRs (or single addresses), normalised as iptables writes them. */
const cidrList = z.string().transform((raw, ctx) => {
  const cidrs: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const cidr = normalizeCidr(item);
    if (!cidr) {
      ctx.addIssue({ code: 'custom', message: cidrProblem(item) });
      return z.NEVER;
    }
    cidrs.push(cidr);
  }
  return cidrs;
});

/**
 * The Docker hosts the API reaches for the data plane: `name=endpoint` pairs, comma-separated.
 * An endpoint is a Unix socket (`unix:///var/run/docker.sock` or a plain path) or TCP with TLS
 * (`tcp://10.0.0.2:2376`; certificates from BERTH_DOCKER_TLS_DIR/<name>/{ca,cert,key}.pem).
 */
const dockerHosts = z.string().transform((raw, ctx) => {
  const hosts = new Map<string, DockerEndpoint>();
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const at = entry.indexOf('=');
    const name = at > 0 ? entry.slice(0, at) : '';
    const target = entry.slice(at + 1);
    if (!HOST_NAME_PATTERN.test(name)) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" must be name=endpoint with a host name of letters, digits, _ . or -, e.g. host-a=unix:///var/run/docker.sock` });
      return z.NEVER;
    }
    const tcp = /^tcp:\/\/([^:/]+):(\d{1,5})$/.exec(target);
    if (tcp) hosts.set(name, { kind: 'tcp', host: tcp[1] as string, port: Number(tcp[2]) });
    else if (target.startsWith('unix://') || target.startsWith('/')) hosts.set(name, { kind: 'unix', socketPath: target.replace(/^unix:\/\//, '') });
    else {
      ctx.addIssue({ code: 'custom', message: `endpoint of host ${name} must be unix:///path/to/docker.sock or tcp://address:port (TLS), got "${target}"` });
      return z.NEVER;
    }
  }
  return hosts;
});

/**
 * Warm pool sizes per template: `tiny:4,base:2` (template:count, comma-separated). Empty: no pool.
 * Template names are checked against the catalog in {@link loadConfig}.
 */
const warmPoolSizes = z.string().transform((raw, ctx) => {
  const sizes: Record<string, number> = {};
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_.-]+):(\d{1,3})$/.exec(item);
    if (!m?.[1] || m[2] === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${item}" is not template:count; write e.g. BERTH_WARM_POOL=tiny:4,base:2` });
      return z.NEVER;
    }
    sizes[m[1]] = Number(m[2]);
  }
  return sizes;
});

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  BERTH_API_HOST: z.string().default('127.0.0.1'),
  BERTH_API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  BERTH_PUBLIC_URL: z.string().optional(),
  BERTH_E2B_ENVD_PORT: z.coerce.number().int().min(0).max(65535).default(49983),
  BERTH_E2B_WATCH_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(500),
  BERTH_API_KEYS: apiKeysSchema,
  BERTH_SECRET_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'BERTH_SECRET_KEY must be 64 hex characters (32 bytes); generate one with `openssl rand -hex 32`'),
  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_UI_URL: z.string().default('http://127.0.0.1:8233'),
  BERTH_TASK_QUEUE: z.string().default('berth'),
  BERTH_HOST_NAME: z.string().regex(HOST_NAME_PATTERN, 'BERTH_HOST_NAME names a task queue: letters, digits, _ . or - (at most 63)').default(hostname()),
  BERTH_DOCKER_HOSTS: dockerHosts.optional(),
  BERTH_DOCKER_TLS_DIR: z.string().optional(),
  BERTH_ADMIN_KEYS: z.string().default(''),
  BERTH_HOST_HEARTBEAT_MS: z.coerce.number().int().min(100).default(5000),
  BERTH_HOST_GRACE_MS: z.coerce.number().int().min(500).default(60_000),
  BERTH_SHARED_QUEUE_DOCKER: bool.default(true),
  DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
  BERTH_DATA_DIR: z.string().default(path.resolve('.berth')),
  BERTH_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BERTH_MAX_LIFETIME_MS: z.coerce.number().int().positive().default(HOUR_MS),
  BERTH_PAUSED_RETENTION_MS: z.coerce.number().int().positive().default(24 * HOUR_MS),
  BERTH_MAX_SANDBOXES_PER_OWNER: z.coerce.number().int().positive().default(100),
  BERTH_MAX_VOLUMES_PER_OWNER: z.coerce.number().int().positive().default(32),
  BERTH_MAX_SNAPSHOTS_PER_OWNER: z.coerce.number().int().positive().default(20),
  BERTH_SNAPSHOT_RETENTION_MS: z.coerce.number().int().min(0).default(7 * 24 * HOUR_MS),
  BERTH_SNAPSHOT_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  BERTH_MAX_CPU: z.coerce.number().positive().default(4),
  BERTH_MAX_MEMORY_MB: z.coerce.number().int().positive().default(8192),
  BERTH_MAX_CPU_PER_OWNER: z.coerce.number().positive().default(32),
  BERTH_MAX_MEMORY_MB_PER_OWNER: z.coerce.number().int().positive().default(65_536),
  BERTH_MAX_STREAMS_PER_OWNER: z.coerce.number().int().positive().default(64),
  BERTH_MAX_UPLOAD_BYTES: z.coerce.number().int().positive().default(GIB),
  BERTH_SPOOL_BUDGET_BYTES: z.coerce.number().int().positive().default(4 * GIB),
  BERTH_ALLOW_CUSTOM_IMAGES: bool.default(false),
  BERTH_TEMPLATE_IMAGES: jsonRecord.default({}),
  BERTH_TOUCH_COALESCE_MS: z.coerce.number().int().min(0).default(4000),
  BERTH_HISTORY_EVENT_LIMIT: z.coerce.number().int().min(100).default(10_000),
  BERTH_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(0).default(15_000),
  BERTH_ORPHAN_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  BERTH_DISK_LIMIT_MB: z.coerce.number().int().min(0).default(0),
  BERTH_LEASE_RENEW_MS: z.coerce.number().int().min(100).default(10_000),
  BERTH_PIDS_LIMIT: z.coerce.number().int().positive().default(512),
  BERTH_WORKER_METRICS_ADDRESS: z.string().default('127.0.0.1:9464'),
  BERTH_WORKER_METRICS_URL: z.string().default('http://127.0.0.1:9464/metrics'),
  BERTH_EXEC_OUTPUT_CAP_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  BERTH_LOG_READ_CAP_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  BERTH_FILE_EDIT_CAP_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  BERTH_LIST_ENTRIES_CAP: z.coerce.number().int().positive().default(10_000),
  BERTH_METRICS_INTERVAL_MS: z.coerce.number().int().min(0).default(5000),
  BERTH_METRICS_RETENTION: z.coerce.number().int().positive().default(720),
  BERTH_MAX_PTYS_PER_OWNER: z.coerce.number().int().positive().default(16),
  BERTH_PTY_SCROLLBACK_BYTES: z.coerce.number().int().min(0).max(64 * 1024 * 1024).default(256 * 1024),
  BERTH_PTY_EXIT_GRACE_MS: z.coerce.number().int().min(0).default(30_000),
  BERTH_NETWORK_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,14}$/, 'BERTH_NETWORK_NAME names a Linux bridge: 1-15 letters, digits, _ or -')
    .default('berth0'),
  BERTH_NETWORK_SUBNET: z
    .string()
    .refine((v) => normalizeCidr(v) === v && Number(v.split('/')[1]) <= 28, 'BERTH_NETWORK_SUBNET must be an IPv4 network such as 10.213.0.0/16 (host bits zero, /28 or larger)')
    .default('10.213.0.0/16'),
  BERTH_NETWORK_BLOCKED_CIDRS: cidrList.default([]),
  BERTH_NETWORK_DNS_SERVERS: cidrList.optional(),
  BERTH_NETWORK_ENFORCE: bool.default(true),
  BERTH_WARM_POOL: warmPoolSizes.default({}),
  BERTH_WARM_POOL_REFILL_INTERVAL_MS: z.coerce.number().int().min(100).default(5000),
  BERTH_STICKY_TIMEOUT_MS: z.coerce.number().int().min(100).default(1000),
  BERTH_E2B_DOMAIN: z
    .string()
    .regex(/^[a-zA-Z0-9.-]+(:\d{1,5})?$/, 'BERTH_E2B_DOMAIN is a host name with an optional :port, e.g. sandboxes.example.com or localhost:3000')
    .optional(),
});

/** berth's whole configuration; built only by {@link loadConfig}. */
export interface BerthConfig {
  api: { host: string; port: number; publicUrl: string | undefined };
  /** E2B's envd on its own listener (on the API host): port (0 = not served) and the folder-watch poll interval. */
  e2bEnvd: { port: number; watchIntervalMs: number };
  /** API key → owner. */
  apiKeys: Map<string, string>;
  /** 32-byte key that seals sandbox env vars before they enter workflow history. */
  secretKeyHex: string;
  temporal: { address: string; namespace: string; uiUrl: string; taskQueue: string };
  hostName: string;
  dockerSocket: string;
  /** Many Docker hosts (docs/scaling.md). */
  hosts: {
    /** API: every host's Docker endpoint, for the data plane (default: this host's DOCKER_SOCKET). */
    endpoints: Map<string, DockerEndpoint>;
    /** API: folder of per-host TLS files (`<dir>/<host>/ca.pem, cert.pem, key.pem`) for tcp endpoints. */
    tlsDir: string | undefined;
    /** Worker: how often it reports its host alive (with capacity and images). */
    heartbeatMs: number;
    /** A host silent this long is lost: its sandboxes stop with `host_lost`. */
    graceMs: number;
    /** Worker: also serve Docker activities on the shared queue (sandboxes created before per-host queues). Only one host may. */
    sharedQueueDocker: boolean;
  };
  /** API keys allowed to pin a host at create and to drain hosts. */
  adminKeys: Set<string>;
  dataDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  lifecycle: {
    maxLifetimeMs: number;
    pausedRetentionMs: number;
    touchCoalesceMs: number;
    historyEventLimit: number;
    /** An attached client renews its lease this often; each lease lasts 3 periods. */
    leaseRenewMs: number;
  };
  /** The reconciler schedule of this worker's host: sweep period (0 = off) and orphan grace. */
  reconciler: { intervalMs: number; orphanGraceMs: number; diskLimitMB: number };
  limits: {
    maxSandboxesPerOwner: number;
    /** Per sandbox. */
    maxCpu: number;
    maxMemoryMB: number;
    /** Sum over an owner's live sandboxes. */
    maxCpuPerOwner: number;
    maxMemoryMBPerOwner: number;
    pidsLimit: number;
    maxVolumesPerOwner: number;
  };
  /**
   * User snapshots (docs/snapshots.md): how many an owner may keep, how long one is kept after it
   * was taken (0 = until deleted), and how often the API sweeps expired ones (0 = never).
   */
  snapshots: { maxPerOwner: number; retentionMs: number; sweepIntervalMs: number };
  /** Worker: where it serves Temporal SDK metrics ('' = off). API: where it reads them for /metrics ('' = off). */
  workerMetrics: { bindAddress: string; scrapeUrl: string };
  /**
   * Worker: how long a workflow task waits for the worker that has the sandbox's history
   * cached before any worker takes it. When that worker died (SIGKILL, OOM), every timer and
   * message of its sandboxes waits this long: keep it short.
   */
  stickyTimeoutMs: number;
  /** Data-plane limits (commands, files, metrics). */
  dataPlane: {
    /** Per stream (stdout, stderr) cap of a buffered foreground command; the rest is dropped and flagged. */
    execOutputCapBytes: number;
    /** Largest chunk of each stream one background-logs read returns. */
    logReadCapBytes: number;
    /** Largest file `replace` loads into memory (and largest result it writes). */
    fileEditCapBytes: number;
    /** Largest file upload (413 above). */
    maxUploadBytes: number;
    /** Bytes all uploads and downloads in flight may hold in spools (memory and disk) per API process (503 above). */
    spoolBudgetBytes: number;
    /** Concurrent streams per owner per API process: streamed commands, followed logs, file transfers, proxy connections (429 above). */
    maxStreamsPerOwner: number;
    /** Most entries one list or search answers with. */
    listEntriesCap: number;
    /** Metrics sampling period; 0 disables the background sampler. */
    metricsIntervalMs: number;
    /** Samples kept per sandbox. */
    metricsRetention: number;
  };
  /** Interactive terminals (src/dataplane/pty.ts, docs/pty.md). */
  pty: {
    /** Live terminals per owner per API process (429 above). */
    maxPtysPerOwner: number;
    /** Output bytes kept per terminal, replayed to a client that (re)attaches. */
    scrollbackBytes: number;
    /** How long an exited terminal stays listed with its exit code. */
    exitGraceMs: number;
  };
  allowCustomImages: boolean;
  templates: Map<string, Template>;
  /** The network sandboxes join and how their traffic is filtered (see docs/security.md). */
  network: NetworkConfig;
  /**
   * Ready containers kept per template on this worker's host (docs/warm-pool.md): sizes (absent or 0:
   * no pool for that template) and how often the worker checks and refills them besides after each claim.
   */
  warmPool: { sizes: Record<string, number>; refillIntervalMs: number };
  /** The E2B front door (docs/e2b.md): the `domain` it tells SDKs (default `localhost:<API port>`). */
  e2b: { domain: string | undefined };
}

/**
 * Reads and validates berth's configuration from environment variables.
 * The only place in berth that reads `process.env`.
 * @throws Error listing every invalid variable.
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): BerthConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid berth configuration:\n${problems}`);
  }
  const e = parsed.data;
  if (e.BERTH_SPOOL_BUDGET_BYTES < e.BERTH_MAX_UPLOAD_BYTES) {
    throw new Error(
      `Invalid berth configuration:\n  BERTH_SPOOL_BUDGET_BYTES (${e.BERTH_SPOOL_BUDGET_BYTES}) must be at least BERTH_MAX_UPLOAD_BYTES (${e.BERTH_MAX_UPLOAD_BYTES}), or the largest upload could never fit`,
    );
  }
  const adminKeys = new Set(e.BERTH_ADMIN_KEYS.split(',').map((k) => k.trim()).filter(Boolean));
  for (const key of adminKeys) {
    if (!e.BERTH_API_KEYS.has(key)) throw new Error(`Invalid berth configuration:\n  BERTH_ADMIN_KEYS: every admin key must also be in BERTH_API_KEYS (key "${key.slice(0, 3)}…" is not)`);
  }
  if (e.BERTH_HOST_GRACE_MS < 2 * e.BERTH_HOST_HEARTBEAT_MS) {
    throw new Error(`Invalid berth configuration:\n  BERTH_HOST_GRACE_MS (${e.BERTH_HOST_GRACE_MS}) must be at least twice BERTH_HOST_HEARTBEAT_MS (${e.BERTH_HOST_HEARTBEAT_MS}), or one late heartbeat would lose a host`);
  }
  const templates = buildTemplateCatalog(e.BERTH_TEMPLATE_IMAGES);
  const unknownPools = Object.keys(e.BERTH_WARM_POOL).filter((id) => !templates.has(id));
  if (unknownPools.length > 0) {
    throw new Error(`Invalid berth configuration:\n  BERTH_WARM_POOL: no template ${unknownPools.join(', ')}; templates are ${[...templates.keys()].join(', ')}`);
  }
  return {
    api: { host: e.BERTH_API_HOST, port: e.BERTH_API_PORT, publicUrl: e.BERTH_PUBLIC_URL },
    e2bEnvd: { port: e.BERTH_E2B_ENVD_PORT, watchIntervalMs: e.BERTH_E2B_WATCH_INTERVAL_MS },
    apiKeys: e.BERTH_API_KEYS,
    secretKeyHex: e.BERTH_SECRET_KEY,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      uiUrl: e.TEMPORAL_UI_URL,
      taskQueue: e.BERTH_TASK_QUEUE,
    },
    hostName: e.BERTH_HOST_NAME,
    dockerSocket: e.DOCKER_SOCKET,
    hosts: {
      endpoints: e.BERTH_DOCKER_HOSTS?.size ? e.BERTH_DOCKER_HOSTS : new Map([[e.BERTH_HOST_NAME, { kind: 'unix' as const, socketPath: e.DOCKER_SOCKET }]]),
      tlsDir: e.BERTH_DOCKER_TLS_DIR,
      heartbeatMs: e.BERTH_HOST_HEARTBEAT_MS,
      graceMs: e.BERTH_HOST_GRACE_MS,
      sharedQueueDocker: e.BERTH_SHARED_QUEUE_DOCKER,
    },
    adminKeys,
    dataDir: e.BERTH_DATA_DIR,
    logLevel: e.BERTH_LOG_LEVEL,
    lifecycle: {
      maxLifetimeMs: e.BERTH_MAX_LIFETIME_MS,
      pausedRetentionMs: e.BERTH_PAUSED_RETENTION_MS,
      touchCoalesceMs: e.BERTH_TOUCH_COALESCE_MS,
      historyEventLimit: e.BERTH_HISTORY_EVENT_LIMIT,
      leaseRenewMs: e.BERTH_LEASE_RENEW_MS,
    },
    reconciler: { intervalMs: e.BERTH_RECONCILE_INTERVAL_MS, orphanGraceMs: e.BERTH_ORPHAN_GRACE_MS, diskLimitMB: e.BERTH_DISK_LIMIT_MB },
    limits: {
      maxSandboxesPerOwner: e.BERTH_MAX_SANDBOXES_PER_OWNER,
      maxCpu: e.BERTH_MAX_CPU,
      maxMemoryMB: e.BERTH_MAX_MEMORY_MB,
      maxCpuPerOwner: e.BERTH_MAX_CPU_PER_OWNER,
      maxMemoryMBPerOwner: e.BERTH_MAX_MEMORY_MB_PER_OWNER,
      pidsLimit: e.BERTH_PIDS_LIMIT,
      maxVolumesPerOwner: e.BERTH_MAX_VOLUMES_PER_OWNER,
    },
    snapshots: {
      maxPerOwner: e.BERTH_MAX_SNAPSHOTS_PER_OWNER,
      retentionMs: e.BERTH_SNAPSHOT_RETENTION_MS,
      sweepIntervalMs: e.BERTH_SNAPSHOT_SWEEP_INTERVAL_MS,
    },
    dataPlane: {
      execOutputCapBytes: e.BERTH_EXEC_OUTPUT_CAP_BYTES,
      logReadCapBytes: e.BERTH_LOG_READ_CAP_BYTES,
      fileEditCapBytes: e.BERTH_FILE_EDIT_CAP_BYTES,
      maxUploadBytes: e.BERTH_MAX_UPLOAD_BYTES,
      spoolBudgetBytes: e.BERTH_SPOOL_BUDGET_BYTES,
      maxStreamsPerOwner: e.BERTH_MAX_STREAMS_PER_OWNER,
      listEntriesCap: e.BERTH_LIST_ENTRIES_CAP,
      metricsIntervalMs: e.BERTH_METRICS_INTERVAL_MS,
      metricsRetention: e.BERTH_METRICS_RETENTION,
    },
    pty: { maxPtysPerOwner: e.BERTH_MAX_PTYS_PER_OWNER, scrollbackBytes: e.BERTH_PTY_SCROLLBACK_BYTES, exitGraceMs: e.BERTH_PTY_EXIT_GRACE_MS },
    workerMetrics: { bindAddress: e.BERTH_WORKER_METRICS_ADDRESS, scrapeUrl: e.BERTH_WORKER_METRICS_URL },
    stickyTimeoutMs: e.BERTH_STICKY_TIMEOUT_MS,
    allowCustomImages: e.BERTH_ALLOW_CUSTOM_IMAGES,
    templates,
    network: {
      name: e.BERTH_NETWORK_NAME,
      subnet: e.BERTH_NETWORK_SUBNET,
      blockedCidrs: e.BERTH_NETWORK_BLOCKED_CIDRS,
      enforce: e.BERTH_NETWORK_ENFORCE,
      dnsServers: e.BERTH_NETWORK_DNS_SERVERS,
    },
    e2b: { domain: e.BERTH_E2B_DOMAIN },
    warmPool: { sizes: e.BERTH_WARM_POOL, refillIntervalMs: e.BERTH_WARM_POOL_REFILL_INTERVAL_MS },
  };
}
