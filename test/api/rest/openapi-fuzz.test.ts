/**
 * Fuzzes the live API from its own /openapi.json with schemathesis (installed by
 * scripts/setup.sh into $BERTH_CACHE_DIR/venv): no 5xx, every answer's status documented and
 * its body matching the documented schema. Destructive operations get sandboxes of their own
 * so the fixture the others use stays alive.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../../helpers/stack.js';

/** Test cases per operation and phase (kept small: the whole run stays within a few minutes on 2 cores). */
const MAX_EXAMPLES = Number(process.env.BERTH_FUZZ_MAX_EXAMPLES ?? 8);
/** A fixed seed keeps `npm test` reproducible; set BERTH_FUZZ_SEED to explore other inputs. */
const SEED = Number(process.env.BERTH_FUZZ_SEED ?? 20261130);

let stack: TestStack;
let dir: string;

beforeAll(async () => {
  stack = await startStack({ owners: ['fuzz'], env: { BERTH_MAX_SANDBOXES_PER_OWNER: '8' } });
  dir = mkdtempSync(join(tmpdir(), 'berth-fuzz-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sandbox(body: Record<string, unknown> = {}): Promise<string> {
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 900, ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.sandboxID as string;
}

async function run(sandboxID: string, cmd: string, background = false): Promise<{ cmdID: string }> {
  const res = await stack.api('POST', `/sandboxes/${sandboxID}/commands`, { body: { cmd, background } });
  expect(res.status, JSON.stringify(res.body)).toBe(background ? 201 : 200);
  return res.body;
}

function st(args: string[]): Promise<{ code: number | null; output: string }> {
  const bin = process.env.BERTH_SCHEMATHESIS;
  if (!bin) throw new Error('BERTH_SCHEMATHESIS is not set: run scripts/setup.sh and source .berth/setup.env');
  return new Promise((resolve, reject) => {
    // Async on purpose: the API under test answers from this same process.
    const child = spawn(bin, args, { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('schemathesis against /openapi.json', () => {
  it('finds no server error and no answer that breaks the documented schema', async () => {
    // The fixture most operations act on: a served folder, a file, a finished background command.
    const fixture = await sandbox({ metadata: { role: 'fixture' } });
    await run(fixture, 'mkdir -p /srv/www && echo hello > /srv/www/index.html && httpd -p 8000 -h /srv/www');
    const { cmdID } = await run(fixture, 'echo out; echo err >&2', true);
    // Sandboxes of their own for what would wreck the fixture: kill, shutdown, pause/timeout, recursive delete/chmod/move.
    const [killed, shutDown, lifecycle, scratch] = await Promise.all([sandbox(), sandbox(), sandbox({ lifecycle: { onTimeout: 'pause', autoResume: true } }), sandbox()]);

    // Operations are picked by operationId: path filters also match the longer paths they prefix.
    const doc = (await stack.api('GET', '/openapi.json', { key: null })).body as { paths: Record<string, Record<string, { operationId: string }>> };
    const only = (path: string, method: string, sandboxID: string) => {
      const operationId = doc.paths[path]?.[method.toLowerCase()]?.operationId;
      expect(operationId, `${method} ${path} is documented`).toBeTruthy();
      return `[[operations]]\ninclude-operation-id = "${operationId}"\nparameters = { "path.sandboxID" = "${sandboxID}" }\n`;
    };
    const config = [
      `headers = { Authorization = "Bearer ${stack.keys.fuzz}" }`,
      'request-timeout = 60',
      '[parameters]',
      `"path.sandboxID" = "${fixture}"`,
      `"path.cmdID" = "${cmdID}"`,
      '"path.port" = 8000',
      only('/sandboxes/{sandboxID}', 'DELETE', killed),
      only('/sandboxes/{sandboxID}/shutdown', 'POST', shutDown),
      ...['pause', 'resume', 'timeout', 'refreshes', 'connect'].map((op) => only(`/sandboxes/{sandboxID}/${op}`, 'POST', lifecycle)),
      only('/sandboxes/{sandboxID}/files', 'DELETE', scratch),
      only('/sandboxes/{sandboxID}/files/move', 'POST', scratch),
      only('/sandboxes/{sandboxID}/files/chmod', 'POST', scratch),
      // The proxy passes the upstream answer through: busybox httpd answers 501 to methods it does not know (TRACE).
      '[[operations]]\ninclude-path = "/sandboxes/{sandboxID}/proxy/{port}/{path}"\nchecks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "501"]\n',
    ].join('\n');
    writeFileSync(join(dir, 'schemathesis.toml'), config);

    const started = Date.now();
    const { code, output } = await st([
      '--config-file',
      join(dir, 'schemathesis.toml'),
      'run',
      `${stack.baseUrl}/openapi.json`,
      '--checks',
      'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
      '--phases',
      'examples,coverage,fuzzing',
      '--max-examples',
      String(MAX_EXAMPLES),
      '--seed',
      String(SEED),
      // One worker: with two, hypothesis' lambda introspection trips a CPython 3.11 ast.parse race ("AST constructor recursion depth mismatch").
      '--workers',
      '1',
      // Bulk kill/pause act on every sandbox of the owner (the fixture too): covered by test/api/rest/lifecycle-api.test.ts.
      '--exclude-path',
      '/sandboxes/bulk/{action}',
      '--no-color',
    ]);
    const logFile = join(process.env.BERTH_DATA_DIR ?? '.berth', 'openapi-fuzz.log');
    writeFileSync(logFile, output);
    // Long generated values (kilobytes of escapes) are cut so the failures stay readable.
    const readable = output
      .split('\n')
      .map((line) => (line.length > 400 ? `${line.slice(0, 400)}… (${line.length} chars)` : line))
      .join('\n');
    console.log(`schemathesis ran in ${Math.round((Date.now() - started) / 1000)} s; full output in ${logFile}\n${readable.slice(readable.lastIndexOf('SUMMARY'))}`);
    const states = await Promise.all(
      Object.entries({ fixture, killed, shutDown, lifecycle, scratch }).map(async ([name, sandboxID]) => `${name}=${(await stack.api('GET', `/sandboxes/${sandboxID}`)).body.status ?? 'gone'}`),
    );
    console.log(`fixture sandboxes after the run: ${states.join(', ')}`);
    expect(code, `schemathesis failed; full output in ${logFile}\n${readable.slice(-30_000)}`).toBe(0);
  }, 900_000);
});
