/**
 * The real OpenSandbox SDK (opensandbox==1.1.1 from PyPI, in the venv scripts/setup.sh makes)
 * drives berth unchanged: pytest flows in test/api/opensandbox/pytest against a live stack
 * (real Temporal, real Docker, the API on a random port).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../../helpers/stack.js';

const here = resolve(import.meta.dirname, 'pytest');
const python =
  process.env.BERTH_OPENSANDBOX_PYTHON ?? join(process.env.BERTH_CACHE_DIR ?? join(homedir(), '.cache', 'berth'), 'opensandbox-venv', 'bin', 'python');

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ owners: ['alice', 'bob'] });
});
afterAll(async () => {
  await stack?.stop();
});

function runPytest(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(python, ['-m', 'pytest', ...args, '-q', '-rfE', '-p', 'no:cacheprovider'], {
      cwd: here,
      env: {
        ...process.env,
        OS_DOMAIN: new URL(stack.baseUrl).host,
        OS_API_KEY: stack.keys.alice ?? '',
        OS_OTHER_API_KEY: stack.keys.bob ?? '',
        OS_IMAGE: process.env.BERTH_IMAGE_PYTHON ?? 'berth/debian-python:bookworm',
        PYTHONDONTWRITEBYTECODE: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, output }));
  });
}

async function pytest(file: string): Promise<void> {
  expect(existsSync(python), `no OpenSandbox SDK venv at ${python}; run bash scripts/setup.sh`).toBe(true);
  const { code, output } = await runPytest([file]);
  const summary = output.trim().split('\n').pop() ?? '';
  console.log(`[opensandbox-sdk] ${file}: ${summary}`);
  if (code !== 0) throw new Error(`pytest ${file} failed (exit ${code}):\n${output.slice(-20_000)}`);
  expect(summary).toMatch(/\d+ passed/);
  expect(summary).not.toMatch(/failed|error|skipped/);
}

describe('OpenSandbox SDK 1.1.1 against berth', () => {
  it('sync flow: create → info → commands → files → metrics → endpoint → renew → pause/resume → manager → kill', { timeout: 600_000 }, async () => {
    await pytest('test_sync_flow.py');
  });
  it('async flow, a second tenant gets not found, NOT_SUPPORTED for what berth lacks', { timeout: 600_000 }, async () => {
    await pytest('test_async_flow.py');
  });
  it('expiry without renew stops the sandbox at the expiry it showed, never before; a real entrypoint runs', { timeout: 300_000 }, async () => {
    await pytest('test_expiry.py');
  });
  it("absolute expiry: interactions do not extend OpenSandbox's timeout; renew shortens and extends it", { timeout: 300_000 }, async () => {
    await pytest('test_absolute_expiry.py');
  });
  it("volumes: a pvc volume is the owner's berth volume (created when missing, read by a later sandbox, read-only honoured); host paths are refused", { timeout: 300_000 }, async () => {
    await pytest('test_volumes.py');
  });
  it('snapshots: create_snapshot is Ready, get/list find it, snapshot_id boots a sandbox with the file after the source is killed, another owner gets 404, delete', { timeout: 300_000 }, async () => {
    await pytest('test_snapshots.py');
  });
});
