/** zod schemas of every request body and query; the OpenAPI document is generated from them. */
import { z } from 'zod';
import { HOST_NAME_PATTERN } from '../workflows/host-queue.js';
import { cidrProblem, normalizeCidr } from '../network/cidr.js';

/** Total size of a sandbox's metadata (it is stored in one search attribute, 2 KB at most). */
export const METADATA_MAX_BYTES = 1900;

const METADATA_KEY = /^[A-Za-z0-9_.:-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Smallest CPU share a sandbox may ask for (Docker's own minimum; less would round to "unlimited"). */
export const MIN_CPU = 0.01;
/** Smallest memory limit in MB (Docker accepts 6 MB, but no sandbox image starts reliably below this). */
export const MIN_MEMORY_MB = 32;
/** Longest idle timeout accepted (7 days); the lifetime cap still applies. */
export const MAX_TIMEOUT_S = 7 * 24 * 3600;

export const lifecycleSchema = z
  .object({
    onTimeout: z.enum(['kill', 'pause']).default('kill').describe('What expiry does: stop (kill) or pause.'),
    autoResume: z.boolean().default(false).describe('Resume a paused sandbox when something interacts with it.'),
    timeoutMode: z
      .enum(['idle', 'absolute'])
      .default('idle')
      .describe(
        'idle: endAt = last interaction + timeout. absolute: endAt = start + timeout; interactions do not move it, only timeout (may shorten), refreshes and connect with a timeout (never shorten); a resume starts a fresh now + timeout.',
      ),
  })
  .strict();

/** Most entries in one of a policy's lists (each is one packet-filter rule). */
export const NETWORK_LIST_MAX = 64;

const cidr = z
  .string()
  .transform((value, ctx) => {
    const normalized = normalizeCidr(value);
    if (!normalized) {
      ctx.addIssue({ code: 'custom', message: cidrProblem(value) });
      return z.NEVER;
    }
    return normalized;
  })
  .describe('An IPv4 address or CIDR, e.g. 203.0.113.7 or 203.0.113.0/24');

export const networkPolicySchema = z
  .object({
    allowInternet: z.boolean().default(true).describe('false denies 0.0.0.0/0: only allowOut ranges are reachable (and DNS stops working).'),
    allowOut: z.array(cidr).max(NETWORK_LIST_MAX).default([]).describe('Reachable even when allowInternet is false or a denyOut / private range covers them (allow beats deny).'),
    denyOut: z.array(cidr).max(NETWORK_LIST_MAX).default([]).describe('Unreachable unless also covered by allowOut.'),
  })
  .strict()
  .describe(
    'Egress policy. Private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, …) are denied unless in allowOut; other sandboxes, the host and link-local (169.254/16) are never reachable.',
  );

/** A volume name: what `POST /volumes` creates and a sandbox mounts. */
export const VOLUME_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;
/** Where a volume may not be mounted: the root, the kernel's file systems, berth's own folder. */
const RESERVED_MOUNT = /^\/(proc|sys|dev|tmp\/\.berth)(\/|$)/;
export const MAX_VOLUME_MOUNTS = 16;

export const volumeMountSchema = z
  .object({
    name: z.string().regex(VOLUME_NAME, 'volume names are 1-63 lowercase letters, digits, _ . or -, starting with a letter or digit').describe('A volume of yours (POST /volumes).'),
    mountPath: z
      .string()
      // eslint-disable-next-line no-control-regex -- NUL and line breaks are refused
      .regex(/^\/[^\x00\n\r]*$/, 'mountPath must be absolute (start with /)')
      .max(1024)
      .transform((p) => p.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'))
      .refine((p) => p !== '/' && !p.split('/').includes('..') && !RESERVED_MOUNT.test(p), 'mountPath may not be /, contain .., or lie under /proc, /sys, /dev or /tmp/.berth')
      .describe('Absolute path inside the sandbox, e.g. /data.'),
    readOnly: z.boolean().default(false),
  })
  .strict();

export const createVolumeSchema = z
  .object({
    name: z.string().regex(VOLUME_NAME, 'volume names are 1-63 lowercase letters, digits, _ . or -, starting with a letter or digit'),
    sizeMB: z.number().int().positive().max(1024 * 1024).optional().describe('Recorded, not enforced: the local volume driver has no size limit (see docs/volumes.md).'),
  })
  .strict();

/** A Docker host name (BERTH_HOST_NAME of its worker). */
export const hostNameSchema = z.string().regex(HOST_NAME_PATTERN, 'host is a Docker host name: letters, digits, _ . or -');

export const createSandboxSchema = z
  .object({
    templateID: z.string().min(1).optional().describe('Template to boot, or one of your snapshot IDs (snap_…); default "base".'),
    snapshotID: z
      .string()
      .regex(/^snap_[a-z0-9]{20}$/, 'snapshotID is snap_ and 20 lowercase letters or digits (from POST /sandboxes/{sandboxID}/snapshots)')
      .optional()
      .describe('Boot from one of your snapshots (same as templateID: <snapshotID>); resources and timeout default from its source template.'),
    image: z.string().min(1).optional().describe('A Docker image instead of a template (only when the server allows it).'),
    timeout: z.number().int().positive().max(MAX_TIMEOUT_S).optional().describe('Timeout in seconds (idle or absolute, see lifecycle.timeoutMode); per-template default.'),
    metadata: z
      .record(z.string().regex(METADATA_KEY, 'metadata keys are 1-64 letters, digits, _ . : or -'), z.string().max(256))
      .refine((m) => Object.keys(m).length <= 32, 'at most 32 metadata entries')
      // Metadata is also a Temporal search attribute, whose value is limited to 2 KB.
      .refine(
        (m) => Object.entries(m).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 4, 0) <= METADATA_MAX_BYTES,
        `metadata is at most ${METADATA_MAX_BYTES} bytes in total (keys and values, plus 4 per entry)`,
      )
      .default({}),
    envs: z.record(z.string().regex(ENV_NAME, 'env names are letters, digits and _, not starting with a digit'), z.string()).default({}),
    resources: z
      .object({
        cpu: z.number().positive().optional().describe(`CPUs, from ${MIN_CPU} to the server's BERTH_MAX_CPU.`),
        memoryMB: z.number().int().positive().optional().describe(`Memory limit in MB, from ${MIN_MEMORY_MB} to the server's BERTH_MAX_MEMORY_MB.`),
      })
      .strict()
      .optional(),
    lifecycle: lifecycleSchema.optional(),
    network: networkPolicySchema.optional(),
    volumes: z
      .array(volumeMountSchema)
      .max(MAX_VOLUME_MOUNTS)
      .refine((mounts) => new Set(mounts.map((m) => m.mountPath)).size === mounts.length, 'each volume needs its own mountPath')
      .optional()
      .describe('Volumes of yours to mount; they outlive the sandbox.'),
    host: hostNameSchema
      .optional()
      .describe('Admin keys only: the Docker host to place the sandbox on (default: the least loaded healthy host).'),
  })
  .strict();
export type CreateSandboxBody = z.infer<typeof createSandboxSchema>;

export const setTimeoutSchema = z.object({ timeout: z.number().positive().max(MAX_TIMEOUT_S).describe('Seconds from now.') }).strict();
export const refreshSchema = z
  .object({ duration: z.number().positive().max(MAX_TIMEOUT_S).describe('Keep alive at least this many seconds from now.') })
  .strict();
export const connectSchema = z
  .object({ timeout: z.number().positive().max(MAX_TIMEOUT_S).optional().describe('Keep alive at least this many seconds.') })
  .strict();

export const SANDBOX_STATUSES = ['creating', 'running', 'paused', 'stopped', 'failed'] as const;

/** A metadata filter value: it goes into a visibility query, so no quotes, backslashes or control characters. */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
export const METADATA_FILTER_VALUE = /^[^'"\\\u0000-\u001f\u007f]{0,256}$/;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
export const METADATA_FILTER = /^[A-Za-z0-9_.:-]{1,64}=[^'"\\\u0000-\u001f\u007f]{0,256}$/;

const csvOrList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

export const listQuerySchema = z.object({
  status: csvOrList.pipe(z.array(z.enum(SANDBOX_STATUSES))).optional().describe('One or several states (comma-separated or repeated).'),
  metadata: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .pipe(z.array(z.string().regex(METADATA_FILTER, 'metadata filters are key=value, the value without quotes, backslashes or control characters')))
    .optional()
    .describe('Metadata filter key=value; repeat for AND.'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  nextToken: z.string().optional(),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export const bulkSchema = z
  .object({
    status: z.array(z.enum(['creating', 'running', 'paused'])).optional(),
    metadata: z
      .record(
        z.string().regex(METADATA_KEY, 'metadata keys are 1-64 letters, digits, _ . : or -'),
        z.string().regex(METADATA_FILTER_VALUE, 'metadata filter values are at most 256 characters without quotes, backslashes or control characters'),
      )
      .optional(),
  })
  .strict();

export const createQuerySchema = z.object({ wait: z.enum(['true', 'false']).default('true') });

/** `POST /snapshots/{id}/restore`: a create's options, without what the snapshot decides (template, image). */
export const restoreSnapshotSchema = createSandboxSchema.omit({ templateID: true, image: true, snapshotID: true });

export const snapshotListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  nextToken: z.string().optional(),
});
