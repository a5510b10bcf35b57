/**
 * Runs the Python SDK's pytest suite (sdk/python/tests) against a real berth stack: real
 * Temporal, real Docker, the API on a random port. Fails with pytest's output when pytest fails.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.js';

const root = resolve(import.meta.dirname, '../..');
const python =
  process.env.BERTH_PY_SDK_PYTHON ?? join(process.env.BERTH_CACHE_DIR ?? join(homedir(), '.cache', 'berth'), 'py-sdk-venv', 'bin', 'python');

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ owners: ['alice', 'bob'] });
});
afterAll(async () => {
  await stack?.stop();
});

function runPytest(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(python, ['-m', 'pytest', 'sdk/python/tests', '-q', '-rfE', '-p', 'no:cacheprovider'], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, output }));
  });
}

describe('Python SDK (pytest against a live stack)', () => {
  it('passes sdk/python/tests', { timeout: 900_000 }, async () => {
    expect(existsSync(python), `no Python SDK venv at ${python}; run bash scripts/setup.sh`).toBe(true);
    const { code, output } = await runPytest({
      BERTH_API_URL: stack.baseUrl,
      BERTH_API_KEY: stack.keys.alice ?? '',
      BERTH_TEST_OTHER_API_KEY: stack.keys.bob ?? '',
      // This checkout's SDK first, whatever checkout the shared venv was installed from.
      PYTHONPATH: join(root, 'sdk', 'python', 'src'),
      PYTHONDONTWRITEBYTECODE: '1',
    });
    const summary = output.trim().split('\n').pop() ?? '';
    console.log(`[python-sdk] pytest: ${summary}`);
    if (code !== 0) throw new Error(`pytest failed (exit ${code}):\n${output.slice(-20_000)}`);
    expect(summary).toMatch(/\d+ passed/);
    expect(summary).not.toMatch(/failed|error|skipped/);
  });
});
