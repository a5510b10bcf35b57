/**
 * zod schemas of what the API answers, used only to document responses in the OpenAPI
 * document (src/api/rest/openapi.ts). The type assertions at the end make `tsc` fail when one of
 * them drifts from the TypeScript type the service really returns.
 */
import type { VolumeInfo } from '../../dataplane/volumes.js';
import type { SnapshotRecord } from '../../dataplane/snapshots.js';
import { z } from 'zod';
import type { CommandStatus } from '../../dataplane/commands.js';
import type { EntryInfo } from '../../dataplane/files.js';
import type { MetricSample } from '../../dataplane/metrics.js';
import type { SandboxEventView, SandboxListItem, SandboxView } from '../../service/sandbox-service.js';

const statusSchema = z.enum(['creating', 'running', 'paused', 'stopped', 'failed']);
const reasonSchema = z.enum([
  'created',
  'provisioned',
  'user',
  'connect',
  'auto_resume',
  'idle_timeout',
  'absolute_timeout',
  'max_lifetime',
  'paused_retention',
  'host_lost',
  'container_lost',
  'disk_quota',
  'provision_failed',
  'snapshot',
]);
const isoTime = z.string().describe('ISO 8601 time');
const timeoutModeSchema = z.enum(['idle', 'absolute']);

/** Every error: a stable code and a message that says what to do. */
export const errorSchema = z.object({ code: z.string(), message: z.string() }).strict();

/** A sandbox (`GET /sandboxes/{id}`, create, pause, resume, connect, timeout, refreshes). */
export const sandboxViewSchema = z
  .object({
    sandboxID: z.string(),
    templateID: z.string(),
    status: statusSchema,
    createdAt: isoTime,
    startedAt: isoTime.nullable(),
    endAt: isoTime
      .nullable()
      .describe('The deadline berth enforces: when the sandbox stops (or pauses) if nothing extends it; null while creating or after stop.'),
    timeout: z.number().describe('Timeout in seconds (idle or absolute, see timeoutMode).'),
    timeoutMode: timeoutModeSchema.describe('idle: interactions move endAt to now + timeout; absolute: only timeout, refreshes and connect with a timeout move it.'),
    metadata: z.record(z.string(), z.string()),
    lifecycle: z
      .object({
        onTimeout: z.enum(['kill', 'pause']).describe('What idle expiry does: stop (kill) or pause.'),
        autoResume: z.boolean().describe('Resume a paused sandbox when something interacts with it.'),
        timeoutMode: timeoutModeSchema,
      })
      .strict(),
    resources: z.object({ cpu: z.number(), memoryMB: z.number() }).strict(),
    network: z
      .object({
        allowInternet: z.boolean().describe('false denies everything not in allowOut.'),
        allowOut: z.array(z.string()).describe('Always reachable (allow beats deny; private ranges only when listed here).'),
        denyOut: z.array(z.string()).describe('Never reachable unless also in allowOut.'),
      })
      .strict()
      .nullable()
      .describe('Egress policy enforced by the host packet filter (docs/security.md); null for sandboxes created before policies existed.'),
    host: z.string().nullable(),
    runningTimeMs: z.number(),
    stoppedAt: isoTime.nullable(),
    stopReason: reasonSchema.nullable(),
    stopDetail: z.string().nullable(),
    historyURL: z.string().describe('The sandbox\'s workflow in the Temporal UI.'),
  })
  .strict();

const sandboxListItemSchema = z
  .object({
    sandboxID: z.string(),
    templateID: z.string().nullable(),
    status: statusSchema,
    createdAt: isoTime,
    stoppedAt: isoTime.nullable(),
    stopReason: reasonSchema.nullable(),
    metadata: z.record(z.string(), z.string()),
    host: z.string().nullable(),
    historyURL: z.string(),
  })
  .strict();

/** `GET /sandboxes`. */
export const sandboxListSchema = z
  .object({ sandboxes: z.array(sandboxListItemSchema), nextToken: z.string().nullable().describe('Pass as ?nextToken= for the next page; null on the last.') })
  .strict();

const eventSchema = z.object({ at: isoTime, status: statusSchema, reason: reasonSchema, detail: z.string().optional() }).strict();

/** `GET /sandboxes/{id}/events`. */
export const eventsSchema = z.object({ sandboxID: z.string(), status: statusSchema, events: z.array(eventSchema), historyURL: z.string() }).strict();

/** `POST /sandboxes/bulk/{action}`. */
export const bulkResultSchema = z.object({ affected: z.number().int(), jobId: z.string().nullable() }).strict();

/** A background command. */
export const commandStatusSchema = z
  .object({
    cmdID: z.string(),
    cmd: z.union([z.string(), z.array(z.string())]),
    user: z.string().nullable(),
    cwd: z.string().nullable(),
    startedAt: isoTime.nullable(),
    pid: z.number().int().nullable(),
    state: z.enum(['running', 'exited', 'lost']),
    running: z.boolean(),
    exitCode: z.number().int().nullable(),
    timedOut: z.boolean(),
  })
  .strict();

/** `GET /sandboxes/{id}/commands`. */
export const commandListSchema = z.object({ commands: z.array(commandStatusSchema) }).strict();

const encodingSchema = z.enum(['utf8', 'base64']);
const perStream = <T extends z.ZodType>(t: T) => z.object({ stdout: t, stderr: t }).strict();

/** A foreground command's answer. */
export const commandResultSchema = z
  .object({
    cmdID: z.string(),
    pid: z.number().int(),
    exitCode: z.number().int(),
    stdout: z.string(),
    stderr: z.string(),
    encoding: encodingSchema,
    truncated: perStream(z.boolean()),
    outputBytes: perStream(z.number().int()),
    timedOut: z.boolean(),
  })
  .strict();

/** `GET /sandboxes/{id}/commands/{cmdID}/logs`. */
export const commandLogsSchema = z
  .object({ stdout: z.string(), stderr: z.string(), encoding: encodingSchema, cursor: z.string(), more: z.boolean(), status: commandStatusSchema })
  .strict();

/** `POST /sandboxes/{id}/commands/{cmdID}/signal`. */
export const signalResultSchema = z.object({ signalled: z.number().int(), status: commandStatusSchema }).strict();

/** One file system entry. */
export const entryInfoSchema = z
  .object({
    path: z.string(),
    name: z.string(),
    type: z.enum(['file', 'dir', 'symlink', 'other']),
    size: z.number().int(),
    mode: z.string().describe('Permission bits as octal text, e.g. "644".'),
    uid: z.number().int(),
    gid: z.number().int(),
    owner: z.string(),
    group: z.string(),
    modifiedAt: isoTime,
  })
  .strict();

/** `GET /files/list` and `/files/search`. */
export const entriesSchema = z.object({ entries: z.array(entryInfoSchema), truncated: z.boolean() }).strict();
/** `POST /files/stat`: one entry per asked path, null when missing. */
export const statEntriesSchema = z.object({ entries: z.record(z.string(), entryInfoSchema.nullable()) }).strict();
/** `POST /files/batch`. */
export const writtenFilesSchema = z.object({ files: z.array(entryInfoSchema) }).strict();
/** `POST /files/replace`. */
export const replaceResultSchema = z.object({ replacements: z.number().int(), entry: entryInfoSchema }).strict();

const sampleSchema = z
  .object({
    at: isoTime,
    cpuPercent: z.number().nullable().describe('Percent of one CPU (200 = two busy CPUs); null on the very first sample.'),
    cpuLimit: z.number().nullable(),
    memoryUsedBytes: z.number(),
    memoryLimitBytes: z.number(),
    diskUsedBytes: z.number().nullable(),
  })
  .strict();

/** `GET /sandboxes/{id}/metrics`. */
export const metricsSchema = z.object({ sandboxID: z.string(), current: sampleSchema, series: z.array(sampleSchema), intervalMs: z.number() }).strict();

/** `GET /sandboxes/{id}/endpoints/{port}`. */
export const endpointSchema = z
  .object({
    sandboxID: z.string(),
    port: z.number().int(),
    url: z.string(),
    websocketUrl: z.string(),
    auth: z.string(),
    internal: z.object({ host: z.string(), port: z.number().int() }).strict(),
  })
  .strict();

// ---- compile-time checks: each schema describes exactly the type the code returns ----
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function same<A, B>(ok: Same<A, B>): Same<A, B> {
  return ok;
}
same<z.infer<typeof sandboxViewSchema>, SandboxView>(true);
same<z.infer<typeof sandboxListItemSchema>, SandboxListItem>(true);
same<z.infer<typeof eventSchema>, SandboxEventView>(true);
same<z.infer<typeof commandStatusSchema>, CommandStatus>(true);
same<z.infer<typeof entryInfoSchema>, EntryInfo>(true);
same<z.infer<typeof sampleSchema>, MetricSample>(true);

/** One volume (`/volumes`). */
export const volumeSchema = z
  .object({
    name: z.string(),
    sizeMB: z.number().nullable().describe('The size asked for at create; recorded, not enforced.'),
    createdAt: isoTime,
    mountedBy: z.number().int().describe('How many sandboxes mount it now.'),
  })
  .strict();
export const volumeListSchema = z.object({ volumes: z.array(volumeSchema) }).strict();
same<z.infer<typeof volumeSchema>, VolumeInfo>(true);

/** One snapshot (`/snapshots`, `/sandboxes/{id}/snapshots`). */
export const snapshotSchema = z
  .object({
    snapshotID: z.string().describe('snap_ and 20 lowercase letters or digits; boot it with POST /sandboxes {"templateID": snapshotID}.'),
    sandboxID: z.string().describe('The sandbox it was taken from (it may be stopped since).'),
    templateID: z.string().describe("The source sandbox's template: a boot from the snapshot takes its default resources and timeout."),
    kind: z.enum(['snapshot', 'pause']).describe('snapshot: taken by a user (pause: a disk pause\'s own image, not listed here).'),
    createdAt: isoTime,
    sizeBytes: z.number().int().describe("The image's size (its layers, including the template's base image)."),
    expiresAt: isoTime.nullable().describe('When the retention sweep removes it (BERTH_SNAPSHOT_RETENTION_MS); null: kept until deleted.'),
  })
  .strict();
export const snapshotListSchema = z.object({ snapshots: z.array(snapshotSchema), nextToken: z.string().nullable() }).strict();
export const sandboxSnapshotsSchema = z.object({ snapshots: z.array(snapshotSchema) }).strict();
same<z.infer<typeof snapshotSchema>, SnapshotRecord>(true);
