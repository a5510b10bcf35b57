/**
 * End to end: the real `npm run up` (scripts/up.sh → setup.sh → scripts/up.ts), twice on
 * the same data folder. The first run creates a sandbox and is stopped with Ctrl-C; the
 * second finds the sandbox still running (Temporal's SQLite file and the container both
 * survived), kills it through the API and is stopped in turn.
 *
 * Every process is started in its own process group and the whole group is killed on the
 * way out; the sandbox's container is removed by label even when the test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../../src/docker/client.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const UP_READY = /\[berth\] up in [\d.]+s/;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `npm run up` in its own process group, with its output collected. */
class UpRun {
  readonly child: ChildProcess;
  output = '';
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;

  constructor(env: Record<string, string | undefined>) {
    this.child = spawn('bash', ['scripts/up.sh'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
  }

  /** Resolves with the first match of `pattern` in the output; fails if up exits first. */
  async waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.output);
      if (m) return m;
      if (this.exit) throw new Error(`up exited (${this.exit.signal ?? this.exit.code}) before printing ${pattern}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`up did not print ${pattern} within ${timeoutMs / 1000} s:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Ctrl-C as a terminal sends it: SIGINT to the whole foreground process group. */
  async interrupt(): Promise<Exit> {
    this.signalGroup('SIGINT');
    const timeout = new Promise<never>((_, reject) => {
      setTimeout(() => reject(new Error(`up did not stop within ${STOP_TIMEOUT_MS / 1000} s after SIGINT:\n${this.output}`)), STOP_TIMEOUT_MS).unref();
    });
    return Promise.race([this.exited, timeout]);
  }

  /** Whether any process of the group (dev server, worker, API, their helpers) is still alive. */
  groupAlive(): boolean {
    if (this.child.pid === undefined) return false;
    try {
      process.kill(-this.child.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Last resort: SIGKILL to everything up started (dev server, worker, API). */
  kill(): void {
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // the group is already gone
    }
  }
}

async function waitGroupGone(run: UpRun): Promise<void> {
  const deadline = Date.now() + 5000;
  while (run.groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(run.groupAlive(), 'a process started by up outlived it').toBe(false);
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function api(baseUrl: string, key: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text };
}

describe('npm run up', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-up-'));
  const docker = createDockerClient('/var/run/docker.sock');
  const runs: UpRun[] = [];
  let sandboxID: string | undefined;

  afterAll(async () => {
    for (const run of runs) if (!run.exit) run.kill();
    await Promise.all(runs.map((run) => Promise.race([run.exited, new Promise((r) => setTimeout(r, 5000))])));
    if (sandboxID) {
      const containers = await docker.listContainers({ all: true, filters: { label: [`berth.sandbox=${sandboxID}`] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    }
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  async function upEnv(ports: { api: number; temporal: number; ui: number; metrics: number }): Promise<Record<string, string | undefined>> {
    return {
      ...process.env,
      BERTH_DATA_DIR: dataDir,
      BERTH_API_PORT: String(ports.api),
      BERTH_TEMPORAL_PORT: String(ports.temporal),
      BERTH_TEMPORAL_UI_PORT: String(ports.ui),
      // The worker's metrics port defaults to a fixed 9464; keep this run off it.
      BERTH_WORKER_METRICS_PORT: String(ports.metrics),
      BERTH_LOG_LEVEL: 'info',
      // up generates and prints a dev key only when none is configured.
      BERTH_API_KEYS: undefined,
      BERTH_SECRET_KEY: undefined,
      TEMPORAL_ADDRESS: undefined,
    };
  }

  it('refuses to start, naming the variable, when a port it needs is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const run = new UpRun(await upEnv({ api: await freePort(), temporal: taken, ui: await freePort(), metrics: await freePort() }));
      runs.push(run);
      const exit = await Promise.race([run.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`up did not exit:\n${run.output}`)), START_TIMEOUT_MS))]);
      expect(exit.code, run.output).toBe(1);
      expect(run.output).toContain(`port already in use: :${taken} (set BERTH_TEMPORAL_PORT)`);
      expect(run.output).not.toContain('up in');
      await waitGroupGone(run);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, START_TIMEOUT_MS + 10_000);

  it(
    'starts the stack, stops on Ctrl-C, and finds the sandbox still running on the next start',
    async () => {
      const ports = { api: await freePort(), temporal: await freePort(), ui: await freePort(), metrics: await freePort() };
      const env = await upEnv(ports);
      const baseUrl = `http://127.0.0.1:${ports.api}`;

      // ---- first run: create a sandbox ----
      const first = new UpRun(env);
      runs.push(first);
      await first.waitFor(UP_READY, START_TIMEOUT_MS);
      expect(first.output).toContain(`API          ${baseUrl}`);
      expect(first.output).toContain(`Temporal UI  http://127.0.0.1:${ports.ui}`);
      const key = (await first.waitFor(/API key\s+(berth_dev_[0-9a-f]+)/, 1000))[1] ?? '';

      expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
      expect((await api(baseUrl, 'wrong-key-123', 'GET', '/sandboxes/nope')).status).toBe(401);
      const created = await api(baseUrl, key, 'POST', '/sandboxes', { templateID: 'tiny', timeout: 300, metadata: { test: 'e2e-up' } });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      sandboxID = created.body.sandboxID as string;
      expect(sandboxID).toMatch(/^[a-z0-9]+$/);
      expect(created.body.status).toBe('running');
      const before = await api(baseUrl, key, 'GET', `/sandboxes/${sandboxID}`);
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({ sandboxID, templateID: 'tiny', status: 'running', metadata: { test: 'e2e-up' } });
      // The same owner's E2B-format key, printed too, reads the sandbox through the E2B door.
      const e2bKey = (await first.waitFor(/E2B API key\s+(e2b_[0-9a-f]+)/, 1000))[1] ?? '';
      expect(e2bKey).toMatch(/^e2b_[0-9a-f]{40}$/);
      const viaE2B = await api(baseUrl, e2bKey, 'GET', `/sandboxes/${sandboxID}`);
      expect(viaE2B.body).toMatchObject({ sandboxID, clientID: 'berth', state: 'running', metadata: { test: 'e2e-up' } });

      // ---- Ctrl-C: clean exit, every port released ----
      const firstExit = await first.interrupt();
      expect(firstExit, first.output).toEqual({ code: 0, signal: null });
      expect(first.output).toContain('[berth] stopped.');
      expect(first.output).not.toMatch(/exited \(|up failed/);
      await waitGroupGone(first);
      for (const [name, port] of Object.entries(ports)) expect(await portIsFree(port), `${name} port ${port} still in use`).toBe(true);
      // Stopping berth does not stop sandboxes.
      const [container] = await docker.listContainers({ filters: { label: [`berth.sandbox=${sandboxID}`] } });
      expect(container?.State).toBe('running');

      // ---- second run, same data folder: the sandbox is still there ----
      const second = new UpRun(env);
      runs.push(second);
      await second.waitFor(UP_READY, START_TIMEOUT_MS);
      expect(second.output).toContain(`API key      ${key}`);
      expect(second.output).toMatch(/E2B API key\s+e2b_[0-9a-f]{40}/);
      const after = await api(baseUrl, key, 'GET', `/sandboxes/${sandboxID}`);
      expect(after.status, JSON.stringify(after.body)).toBe(200);
      expect(after.body).toMatchObject({ sandboxID, status: 'running', createdAt: before.body.createdAt, metadata: { test: 'e2e-up' } });
      expect(Date.parse(after.body.endAt as string)).toBeGreaterThanOrEqual(Date.parse(before.body.endAt as string));

      // ---- kill through the API: container removed, 404 afterwards ----
      expect((await api(baseUrl, key, 'DELETE', `/sandboxes/${sandboxID}`)).status).toBe(204);
      expect((await api(baseUrl, key, 'GET', `/sandboxes/${sandboxID}`)).status).toBe(404);
      expect(await docker.listContainers({ all: true, filters: { label: [`berth.sandbox=${sandboxID}`] } })).toEqual([]);

      const secondExit = await second.interrupt();
      expect(secondExit, second.output).toEqual({ code: 0, signal: null });
      await waitGroupGone(second);
      for (const [name, port] of Object.entries(ports)) expect(await portIsFree(port), `${name} port ${port} still in use`).toBe(true);
    },
    2 * START_TIMEOUT_MS + 2 * STOP_TIMEOUT_MS,
  );
});
