/**
 * Harness for the E2B SDK tests: a berth stack whose `base` template is the tiny busybox
 * image, and runners for scripts written against the real, unmodified clients that
 * scripts/lib/ensure-e2b-clients.sh installs (paths come from .berth/setup.env).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { LOCAL_IMAGES } from '../../../src/templates.js';
import { startStack, type StackOptions, type TestStack } from '../../helpers/stack.js';
import { startForwardProxy } from './forward-proxy.js';

export const CLIENTS_DIR = path.resolve('test/api/e2b/clients');

/** A stack for E2B tests: `base` boots the busybox image (fast), as `tiny` does. */
export function startE2BStack(options: StackOptions = {}): Promise<TestStack> {
  return startStack({
    ...options,
    env: { BERTH_TEMPLATE_IMAGES: JSON.stringify({ base: LOCAL_IMAGES.busybox }), ...options.env },
  });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run \`bash scripts/setup.sh\` and \`set -a; source .berth/setup.env; set +a\``);
  return value;
}

/** The interpreters/folders of the real clients. */
export const clients = {
  e2bPython: () => required('BERTH_E2B_PYTHON'),
  agentboxPython: () => required('BERTH_AGENTBOX_PYTHON'),
  /** Folder whose node_modules holds the `e2b` npm package. */
  e2bJsDir: () => required('BERTH_E2B_JS_DIR'),
};

export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON (the scripts print their findings there). */
  result: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs a client program; resolves with its output (never rejects on a non-zero exit). */
export function runClient(command: string, args: string[], env: Record<string, string>, cwd = CLIENTS_DIR): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    // Only what the client needs: no proxy variables or E2B_* settings from the caller's shell.
    const base: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
    const child = spawn(command, args, { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      let result: unknown = null;
      try {
        result = JSON.parse(last);
      } catch {
        result = null;
      }
      resolve({ code, stdout, stderr, result });
    });
  });
}

/** Environment for the e2b SDKs (Python and JS) pointed at a stack, as docs/e2b.md tells users. */
export function e2bEnv(stack: TestStack, owner = 'alice'): Record<string, string> {
  return { E2B_API_URL: stack.baseUrl, E2B_API_KEY: stack.e2bKeys[owner] ?? '' };
}

/** Runs a Python script from test/api/e2b/clients with the e2b SDK's interpreter. */
export function runE2BPython(stack: TestStack, script: string, args: string[] = [], env: Record<string, string> = {}): Promise<ClientRun> {
  return runClient(clients.e2bPython(), [path.join(CLIENTS_DIR, script), ...args], { ...e2bEnv(stack), ...env });
}

/** Runs a TypeScript script from test/api/e2b/clients with Node (tsx) and the `e2b` npm package. */
export function runE2BNode(stack: TestStack, script: string, args: string[] = [], env: Record<string, string> = {}): Promise<ClientRun> {
  return runClient(process.execPath, ['--import', 'tsx', path.join(CLIENTS_DIR, script), ...args], { ...e2bEnv(stack), BERTH_E2B_JS_DIR: clients.e2bJsDir(), ...env });
}

/**
 * Runs a Python script with agentbox in debug mode: its hard-coded `localhost:3000` (and
 * `localhost:49983`, envd) reach this stack through a test forward proxy.
 */
export async function runAgentboxDebug(stack: TestStack, script: string, args: string[] = [], envdUrl?: string): Promise<ClientRun & { seen: string[] }> {
  const routes: Record<string, string> = { 'localhost:3000': stack.baseUrl };
  if (envdUrl) routes['localhost:49983'] = envdUrl;
  const proxy = await startForwardProxy(routes);
  try {
    const run = await runClient(clients.agentboxPython(), [path.join(CLIENTS_DIR, script), ...args], {
      AGENTBOX_DEBUG: 'true',
      AGENTBOX_API_KEY: stack.e2bKeys.alice ?? '',
      BERTH_TEST_PROXY: proxy.url,
      HTTP_PROXY: proxy.url,
      http_proxy: proxy.url,
    });
    return { ...run, seen: proxy.seen };
  } finally {
    await proxy.close();
  }
}
