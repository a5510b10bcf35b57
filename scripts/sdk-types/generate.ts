/**
 * Generates the TypeScript SDK's wire types (sdk/typescript/src/generated/wire-types.ts) from the
 * server's zod schemas: answers from src/api/rest/response-schemas.ts (as the server sends them),
 * request bodies from src/service/schemas.ts and the route modules (as a client may send them:
 * fields with a server default are optional). zod 4's `z.toJSONSchema` turns each into JSON
 * Schema, with the named parts as `$ref`s, and ./json-schema-to-ts.ts writes TypeScript.
 *
 *   npm run gen:sdk            rewrite the file
 *   npm run gen:sdk -- --check exit 1 when the committed file is stale
 *
 * test/sdk/sdk-types.test.ts fails when the committed file differs from what this generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import * as res from '../../src/api/rest/response-schemas.js';
import { runCommandSchema, signalSchema } from '../../src/api/rest/commands.js';
import { chmodSchema, mkdirSchema, moveSchema, replaceSchema, statSchema, writeBatchSchema } from '../../src/api/rest/files.js';
import { SIGNALS } from '../../src/dataplane/paths.js';
import { bulkSchema, connectSchema, createSandboxSchema, createVolumeSchema, refreshSchema, restoreSnapshotSchema, setTimeoutSchema, volumeMountSchema } from '../../src/service/schemas.js';
import { declaration, literal, type JsonSchema } from './json-schema-to-ts.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GENERATED_PATH = join(ROOT, 'sdk', 'typescript', 'src', 'generated', 'wire-types.ts');

interface Entry {
  name: string;
  schema: z.ZodType;
  doc: string;
}

const view = res.sandboxViewSchema.shape;

/** What the server answers, in the order written. Named parts of a type are written once and referenced. */
const ANSWERS: Entry[] = [
  { name: 'SandboxStatus', schema: view.status, doc: 'A sandbox\'s state.' },
  { name: 'TransitionReason', schema: view.stopReason.unwrap(), doc: 'Why a transition happened (also the stop reason of a stopped sandbox).' },
  { name: 'SandboxLifecycle', schema: view.lifecycle, doc: 'What idle expiry does (`onTimeout`) and whether an interaction resumes a paused sandbox.' },
  { name: 'SandboxResources', schema: view.resources, doc: 'CPUs and memory limit (MB) of a sandbox.' },
  { name: 'SandboxNetworkPolicy', schema: view.network.unwrap(), doc: 'Egress policy, enforced by the host\'s packet filter (docs/security.md). CIDRs or single IPv4 addresses.' },
  { name: 'SandboxInfo', schema: res.sandboxViewSchema, doc: '`GET /sandboxes/{id}` and the answer of every lifecycle call.' },
  { name: 'SandboxListItem', schema: res.sandboxListSchema.shape.sandboxes.element, doc: 'One row of `GET /sandboxes`.' },
  { name: 'SandboxPage', schema: res.sandboxListSchema, doc: '`GET /sandboxes`.' },
  { name: 'SandboxEvent', schema: res.eventsSchema.shape.events.element, doc: 'One lifecycle transition.' },
  { name: 'SandboxEvents', schema: res.eventsSchema, doc: '`GET /sandboxes/{id}/events` (also answers after the sandbox stopped).' },
  { name: 'BulkResult', schema: res.bulkResultSchema, doc: '`POST /sandboxes/bulk/{kill|pause}`.' },
  { name: 'CommandStatus', schema: res.commandStatusSchema, doc: 'A background command: `POST …/commands` with `background: true`, `GET …/commands/{cmdID}`.' },
  { name: 'CommandList', schema: res.commandListSchema, doc: '`GET /sandboxes/{id}/commands`.' },
  { name: 'CommandResultBody', schema: res.commandResultSchema, doc: 'Foreground, buffered answer of `POST /sandboxes/{id}/commands`.' },
  { name: 'CommandLogsBody', schema: res.commandLogsSchema, doc: '`GET …/commands/{cmdID}/logs`.' },
  { name: 'SignalResult', schema: res.signalResultSchema, doc: '`POST …/commands/{cmdID}/signal`.' },
  { name: 'EntryInfo', schema: res.entryInfoSchema, doc: 'A file or folder inside the sandbox.' },
  { name: 'EntryList', schema: res.entriesSchema, doc: '`GET …/files/list` and `GET …/files/search`.' },
  { name: 'StatEntries', schema: res.statEntriesSchema, doc: '`POST …/files/stat`: one entry per asked path, null when missing.' },
  { name: 'WrittenFiles', schema: res.writtenFilesSchema, doc: '`POST …/files/batch`.' },
  { name: 'ReplaceResult', schema: res.replaceResultSchema, doc: '`POST …/files/replace`.' },
  { name: 'MetricSample', schema: res.metricsSchema.shape.current, doc: 'One resource sample of a sandbox.' },
  { name: 'SandboxMetrics', schema: res.metricsSchema, doc: '`GET /sandboxes/{id}/metrics`.' },
  { name: 'SandboxEndpoint', schema: res.endpointSchema, doc: '`GET /sandboxes/{id}/endpoints/{port}`.' },
  { name: 'VolumeInfo', schema: res.volumeSchema, doc: 'A volume of yours (`POST /volumes`, `GET /volumes/{name}`).' },
  { name: 'VolumeList', schema: res.volumeListSchema, doc: '`GET /volumes`.' },
  { name: 'SnapshotInfo', schema: res.snapshotSchema, doc: 'A snapshot of yours (`POST /sandboxes/{id}/snapshots`, `GET /snapshots/{id}`).' },
  { name: 'SnapshotPage', schema: res.snapshotListSchema, doc: '`GET /snapshots` (one page).' },
  { name: 'SandboxSnapshots', schema: res.sandboxSnapshotsSchema, doc: '`GET /sandboxes/{id}/snapshots`.' },
  { name: 'ErrorBody', schema: res.errorSchema, doc: 'Every error answer: a stable code and a message that says what to do.' },
];

/** What a client sends (request bodies, as the server parses them). */
const REQUESTS: Entry[] = [
  { name: 'VolumeMount', schema: volumeMountSchema, doc: 'A volume to mount at create (`volumes` of `POST /sandboxes`).' },
  { name: 'CreateSandboxBody', schema: createSandboxSchema, doc: 'Body of `POST /sandboxes`.' },
  { name: 'CreateVolumeBody', schema: createVolumeSchema, doc: 'Body of `POST /volumes`.' },
  { name: 'RestoreSnapshotBody', schema: restoreSnapshotSchema, doc: 'Body of `POST /snapshots/{id}/restore` (a create without template or image).' },
  { name: 'SetTimeoutBody', schema: setTimeoutSchema, doc: 'Body of `POST /sandboxes/{id}/timeout`.' },
  { name: 'RefreshBody', schema: refreshSchema, doc: 'Body of `POST /sandboxes/{id}/refreshes`.' },
  { name: 'ConnectBody', schema: connectSchema, doc: 'Body of `POST /sandboxes/{id}/connect`.' },
  { name: 'BulkFilter', schema: bulkSchema, doc: 'Body of `POST /sandboxes/bulk/{kill|pause}`.' },
  { name: 'RunCommandBody', schema: runCommandSchema, doc: 'Body of `POST /sandboxes/{id}/commands`.' },
  { name: 'SignalBody', schema: signalSchema, doc: 'Body of `POST …/commands/{cmdID}/signal`.' },
  { name: 'WriteFilesBody', schema: writeBatchSchema, doc: 'Body of `POST …/files/batch`.' },
  { name: 'MkdirBody', schema: mkdirSchema, doc: 'Body of `POST …/files/mkdir`.' },
  { name: 'MoveBody', schema: moveSchema, doc: 'Body of `POST …/files/move`.' },
  { name: 'ChmodBody', schema: chmodSchema, doc: 'Body of `POST …/files/chmod`.' },
  { name: 'ReplaceBody', schema: replaceSchema, doc: 'Body of `POST …/files/replace`.' },
  { name: 'StatBody', schema: statSchema, doc: 'Body of `POST …/files/stat`.' },
];

/** JSON Schema of each entry, the other entries of the same list appearing as `$ref`s. */
function jsonSchemas(entries: Entry[], io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const { name, schema } of entries) registry.add(schema, { id: name });
  const { schemas } = z.toJSONSchema(registry, { io, unrepresentable: 'throw', uri: (id) => `#/$defs/${id}` }) as { schemas: Record<string, JsonSchema> };
  return schemas;
}

function section(title: string, entries: Entry[], io: 'input' | 'output'): string {
  const schemas = jsonSchemas(entries, io);
  const out = entries.map(({ name, doc }) => {
    const schema = schemas[name];
    if (!schema) throw new Error(`zod wrote no JSON Schema for ${name}`);
    return declaration(name, schema, doc);
  });
  return `// ---- ${title} ----\n\n${out.join('\n')}`;
}

/** The whole generated file. */
export function generateSdkTypes(): string {
  const source = relative(ROOT, fileURLToPath(import.meta.url));
  const header = [
    '/**',
    ` * berth's wire types, generated by ${source} (\`npm run gen:sdk\`) from the server's zod schemas:`,
    ' * src/api/rest/response-schemas.ts (answers), src/service/schemas.ts and the route modules (request bodies).',
    ' * Do not edit: change the schemas and regenerate. test/sdk/sdk-types.test.ts fails when this file is stale.',
    ' */',
    '',
  ].join('\n');
  const signals = `/** Signals \`POST …/commands/{cmdID}/signal\` accepts (src/dataplane/paths.ts). */\nexport type SignalName = ${SIGNALS.map((s) => literal(s)).join(' | ')};\n`;
  return `${header}\n${section('answers', ANSWERS, 'output')}\n${section('request bodies', REQUESTS, 'input')}\n${signals}`;
}

function main(): void {
  const wanted = generateSdkTypes();
  let current = '';
  try {
    current = readFileSync(GENERATED_PATH, 'utf8');
  } catch {
    // first run: no file yet
  }
  const path = relative(ROOT, GENERATED_PATH);
  if (process.argv.includes('--check')) {
    if (current !== wanted) {
      console.error(`${path} is stale: run npm run gen:sdk`);
      process.exit(1);
    }
    console.log(`${path} is up to date`);
    return;
  }
  if (current === wanted) {
    console.log(`${path} unchanged`);
    return;
  }
  writeFileSync(GENERATED_PATH, wanted);
  console.log(`wrote ${path}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
