/**
 * The Python SDK parses the API's answers by hand (snake_case views). This checks its parsers
 * against the server's zod response schemas: fed an example answer built from each schema, a
 * parser reads only fields the schema has (a renamed or removed field fails here), and every
 * field it leaves unread is one listed below as deliberately unused (a new field fails here
 * until someone decides whether the Python SDK shows it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as res from '../../src/api/rest/response-schemas.js';

const root = resolve(import.meta.dirname, '../..');
const python =
  process.env.BERTH_PY_SDK_PYTHON ?? join(process.env.BERTH_CACHE_DIR ?? join(homedir(), '.cache', 'berth'), 'py-sdk-venv', 'bin', 'python');

type Schema = Record<string, unknown>;

/** Each Python parser, the schema of the answer it parses, and the fields it deliberately leaves unread. */
const HOST = 'host'; // the Docker host a sandbox runs on: an operator's detail, not shown by the Python SDK
const CASES: Record<string, { schema: z.ZodType; unread: string[] }> = {
  'SandboxInfo.from_api': { schema: res.sandboxViewSchema, unread: [HOST] },
  listed_sandbox: { schema: res.sandboxListSchema.shape.sandboxes.element, unread: [HOST] },
  list_sandboxes: { schema: res.sandboxListSchema, unread: [`sandboxes[].${HOST}`] },
  // get_events() returns the list of transitions (seed shape); the envelope repeats what the caller knows.
  events: { schema: res.eventsSchema, unread: ['sandboxID', 'status', 'historyURL'] },
  // get_metrics() returns the samples; the caller knows the sandbox, the interval is the server's.
  get_metrics: { schema: res.metricsSchema, unread: ['sandboxID', 'intervalMs'] },
  // `internal` is the sandbox's address on berth's bridge, unreachable for clients.
  endpoint: { schema: res.endpointSchema, unread: ['sandboxID', 'internal', 'internal.host', 'internal.port'] },
  'ProcessInfo.from_api': { schema: res.commandStatusSchema, unread: [] },
  'EntryInfo.from_api': { schema: res.entryInfoSchema, unread: [] },
  'SnapshotInfo.from_api': { schema: res.snapshotSchema, unread: [] },
  list_snapshots: { schema: res.snapshotListSchema, unread: [] },
  list_of_sandbox: { schema: res.sandboxSnapshotsSchema, unread: [] },
  'VolumeInfo.from_api': { schema: res.volumeSchema, unread: [] },
};

function jsonSchema(schema: z.ZodType): Schema {
  return z.toJSONSchema(schema, { io: 'output', unrepresentable: 'throw' }) as Schema;
}

/** The non-null member of a nullable schema, the first of other unions. */
function pick(schema: Schema): Schema {
  const members = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (!members) return schema;
  return pick(members.find((m) => m.type !== 'null') ?? (members[0] as Schema));
}

/** An answer with every field present (records empty, arrays of one), values the parsers accept. */
function example(schema: Schema, description = ''): unknown {
  const s = pick(schema);
  const text = `${description} ${String(s.description ?? '')}`;
  if (Array.isArray(s.enum)) return s.enum[0];
  const type = Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'string':
      return text.includes('ISO 8601') ? '2026-01-01T00:00:00Z' : text.includes('octal') ? '644' : 'x';
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [example(s.items as Schema)];
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, example(v, String(v.description ?? ''))]));
    }
    default:
      throw new Error(`no example for ${JSON.stringify(s)}`);
  }
}

/** Every field path of a schema: `a`, `a.b`, `a[].b`. */
function paths(schema: Schema, prefix = ''): string[] {
  const s = pick(schema);
  if (s.type === 'array') return paths(s.items as Schema, `${prefix}[]`);
  const props = (s.properties ?? {}) as Record<string, Schema>;
  return Object.entries(props).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    return [path, ...paths(v, path)];
  });
}

function runPython(input: string): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(python, [join(root, 'test/sdk/helpers/python_fields.py')], {
      cwd: root,
      env: { ...process.env, PYTHONPATH: join(root, 'sdk', 'python', 'src'), PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`python exited ${code}: ${err}`))));
    child.stdin.end(input);
  });
}

describe('Python SDK parsers against the zod response schemas', () => {
  it('read only fields the schema has, and leave unread only the listed ones', async () => {
    expect(existsSync(python), `no Python SDK venv at ${python}; run bash scripts/setup.sh`).toBe(true);
    const bodies = Object.fromEntries(Object.entries(CASES).map(([name, c]) => [name, example(jsonSchema(c.schema))]));
    const read = JSON.parse(await runPython(JSON.stringify(bodies))) as Record<string, string[]>;
    const missing: Record<string, string[]> = {};
    const unread: Record<string, string[]> = {};
    for (const [name, c] of Object.entries(CASES)) {
      const seen = read[name] ?? [];
      missing[name] = seen.filter((p) => p.startsWith('?')).map((p) => p.slice(1));
      unread[name] = paths(jsonSchema(c.schema)).filter((p) => !seen.includes(p)).sort();
    }
    const none = Object.fromEntries(Object.keys(CASES).map((name) => [name, []]));
    expect(missing, 'fields a parser reads that the answer does not have').toEqual(none);
    expect(unread, 'fields a parser leaves unread').toEqual(Object.fromEntries(Object.entries(CASES).map(([name, c]) => [name, [...c.unread].sort()])));
  });
});
