/** zod schemas of every request body and query; the OpenAPI document is generated from them. */
import { z } from 'zod';

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
    onTimeout: z.enum(['kill', 'pause']).default('kill').describe('What idle expiry does: stop (kill) or pause.'),
    autoResume: z.boolean().default(false).describe('Resume a paused sandbox when something interacts with it.'),
  })
  .strict();

export const createSandboxSchema = z
  .object({
    templateID: z.string().min(1).optional().describe('Template to boot; default "base".'),
    image: z.string().min(1).optional().describe('A Docker image instead of a template (only when the server allows it).'),
    timeout: z.number().int().positive().max(MAX_TIMEOUT_S).optional().describe('Idle timeout in seconds; per-template default.'),
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

const csvOrList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean));

export const listQuerySchema = z.object({
  status: csvOrList.pipe(z.array(z.enum(SANDBOX_STATUSES))).optional().describe('One or several states (comma-separated or repeated).'),
  metadata: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}=[^'"\\]{0,256}$/, 'metadata filters are key=value without quotes or backslashes')))
    .optional()
    .describe('Metadata filter key=value; repeat for AND.'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  nextToken: z.string().optional(),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

export const bulkSchema = z
  .object({
    status: z.array(z.enum(['creating', 'running', 'paused'])).optional(),
    metadata: z.record(z.string().regex(METADATA_KEY), z.string().regex(/^[^'"\\]{0,256}$/)).optional(),
  })
  .strict();

export const createQuerySchema = z.object({ wait: z.enum(['true', 'false']).default('true') });
