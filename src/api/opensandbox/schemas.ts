/** zod schemas of the OpenSandbox lifecycle requests berth accepts (camelCase, as the SDK sends them). */
import { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';

const stringMap = z.record(z.string(), z.string());

export const createRequestSchema = z.object({
  image: z.object({ uri: z.string().min(1), auth: z.unknown().optional() }).optional(),
  snapshotId: z.string().optional(),
  templateId: z.string().optional(),
  entrypoint: z.array(z.string()).optional(),
  env: stringMap.optional(),
  metadata: stringMap.optional(),
  /** Seconds until expiry; null = no expiry of its own (berth's lifetime cap still applies). */
  timeout: z.number().int().positive().nullable().optional(),
  resourceLimits: stringMap.optional(),
  resourceRequests: stringMap.optional(),
  platform: z.unknown().optional(),
  networkPolicy: z
    .object({
      defaultAction: z.enum(['allow', 'deny']).optional(),
      egress: z.array(z.object({ action: z.enum(['allow', 'deny']), target: z.string().min(1) })).optional(),
    })
    .optional(),
  credentialProxy: z.object({ enabled: z.boolean().optional() }).passthrough().optional(),
  extensions: stringMap.optional(),
  volumes: z
    .array(
      z.object({
        name: z.string().min(1),
        mountPath: z.string().min(1),
        readOnly: z.boolean().optional(),
        subPath: z.string().nullish(),
        host: z.object({ path: z.string() }).passthrough().nullish(),
        pvc: z
          .object({
            claimName: z.string().min(1),
            createIfNotExists: z.boolean().optional(),
            deleteOnSandboxTermination: z.boolean().optional(),
            storageClass: z.string().nullish(),
            storage: z.string().nullish(),
            accessModes: z.array(z.string()).nullish(),
          })
          .passthrough()
          .nullish(),
        ossfs: z.unknown().optional(),
      }),
    )
    .optional(),
  secureAccess: z.boolean().optional(),
  lifecycle: z.unknown().optional(),
});
export type CreateRequest = z.infer<typeof createRequestSchema>;

export const renewRequestSchema = z.object({ expiresAt: z.string().min(1) });

export const endpointQuerySchema = z.object({
  use_server_proxy: z.enum(['true', 'false', 'True', 'False']).optional(),
  expires: z.string().optional(),
});

export const listQuerySchema = z.object({
  state: z.union([z.string(), z.array(z.string())]).optional(),
  metadata: z.string().optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(1000).default(20),
});

/** CPUs from a Kubernetes-style quantity: "1", "0.5", "500m". */
export function parseCpu(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(raw.trim());
  if (!m) throw new InvalidArgumentError(`resourceLimits.cpu must be a CPU quantity such as "1", "0.5" or "500m": got "${raw}"`);
  return Number(m[1]) / (m[2] ? 1000 : 1);
}

const MEMORY_UNITS: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

/** MB (MiB, as berth counts) from a Kubernetes-style quantity: "512Mi", "2Gi", "1G", bytes. */
export function parseMemoryMB(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(raw.trim());
  const unit = m ? MEMORY_UNITS[m[2] ?? ''] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError(`resourceLimits.memory must be a quantity such as "512Mi" or "2Gi": got "${raw}"`);
  return Math.ceil((Number(m[1]) * unit) / 2 ** 20);
}
