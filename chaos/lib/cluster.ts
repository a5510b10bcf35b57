/**
 * The control plane under test: a Temporal dev server on a SQLite file (so a SIGKILL loses
 * nothing it had committed), a worker and an API, each a separate process that the chaos run
 * can SIGKILL and start again on the same ports and files, as an operator's supervisor would.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { isAlive, killProcess, startNodeProcess, stopProcess } from '../../src/dev/node-process.js';
import { freePort, startTemporalDevServer, type DevServer } from '../../src/dev/temporal-dev-server.js';

export type Component = 'temporal' | 'worker' | 'api';
export const COMPONENTS: Component[] = ['temporal', 'worker', 'api'];

export interface ApiResult {
  status: number;
  body: unknown;
}

/** Every port the cluster's processes listen on: each one free, none a default a concurrent stack may hold. */
export interface ClusterPorts {
  temporal: number;
  ui: number;
  api: number;
  envd: number;
  workerMetrics: number;
}

/**
 * The worker's and API's environment. Every listener gets its own free port: with a default
 * (envd's 49983, the worker's metrics on 9464) the API or worker could not start while another
 * stack in the same `npm test` run (`npm run up` in test/e2e/up.test.ts) held it.
 */
export function clusterEnv(o: { dir: string; runId: string; ports: ClusterPorts; apiKey: string }): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    BERTH_API_HOST: '127.0.0.1',
    BERTH_API_PORT: String(o.ports.api),
    BERTH_E2B_ENVD_PORT: String(o.ports.envd),
    BERTH_WORKER_METRICS_ADDRESS: `127.0.0.1:${o.ports.workerMetrics}`,
    BERTH_WORKER_METRICS_URL: `http://127.0.0.1:${o.ports.workerMetrics}/metrics`,
    BERTH_API_KEYS: `${o.apiKey}:chaos-${o.runId}`,
    BERTH_SECRET_KEY: randomBytes(32).toString('hex'),
    TEMPORAL_ADDRESS: `127.0.0.1:${o.ports.temporal}`,
    TEMPORAL_UI_URL: `http://127.0.0.1:${o.ports.ui}`,
    BERTH_TASK_QUEUE: `berth-chaos-${o.runId}`,
    BERTH_HOST_NAME: `chaos-${o.runId}`,
    BERTH_DATA_DIR: o.dir,
    BERTH_LOG_LEVEL: 'info',
    BERTH_MAX_SANDBOXES_PER_OWNER: '100000',
    ...(process.env.DOCKER_SOCKET ? { DOCKER_SOCKET: process.env.DOCKER_SOCKET } : {}),
  };
}

export class Cluster {
  readonly owner: string;
  readonly apiUrl: string;
  private temporal: DevServer | undefined;
  private worker: ChildProcess | undefined;
  private api: ChildProcess | undefined;
  private client: Client | undefined;
  /** Components that exited without being asked to (a finding, reported). */
  readonly unexpectedExits: string[] = [];
  private expectedDown = new Set<Component>();
  /** Where the current worker's log lines begin (its "worker started" line means it polls). */
  private workerLogOffset = 0;

  private constructor(
    private readonly dir: string,
    private readonly ports: ClusterPorts,
    private readonly apiKey: string,
    private readonly env: Record<string, string | undefined>,
    runId: string,
  ) {
    this.owner = `chaos-${runId}`;
    this.apiUrl = `http://127.0.0.1:${ports.api}`;
  }

  static async create(dir: string, runId: string, extraEnv: Record<string, string> = {}): Promise<Cluster> {
    const ports: ClusterPorts = { temporal: await freePort(), ui: await freePort(), api: await freePort(), envd: await freePort(), workerMetrics: await freePort() };
    const apiKey = `chaos-key-${randomBytes(12).toString('hex')}`;
    const env = { ...clusterEnv({ dir, runId, ports, apiKey }), ...extraEnv };
    const cluster = new Cluster(dir, ports, apiKey, env, runId);
    await cluster.start(COMPONENTS);
    return cluster;
  }

  get temporalAddress(): string {
    return `127.0.0.1:${this.ports.temporal}`;
  }

  /** A Temporal client of the harness's own (reconnected after the server was killed). */
  async temporalClient(): Promise<Client> {
    if (!this.client) {
      const connection = await Connection.connect({ address: this.temporalAddress });
      this.client = new Client({ connection, namespace: 'default' });
    }
    return this.client;
  }

  /** Starts the given components (Temporal first: worker and API need it to start) and waits until ready. */
  async start(components: Component[]): Promise<void> {
    if (components.includes('temporal')) {
      this.temporal = await startTemporalDevServer({
        port: this.ports.temporal,
        uiPort: this.ports.ui,
        dbFile: path.join(this.dir, 'temporal.db'),
        logFile: path.join(this.dir, 'temporal.log'),
      });
      this.watch('temporal', this.temporal.process);
    }
    if (components.includes('worker')) {
      const log = path.join(this.dir, 'worker.log');
      this.workerLogOffset = existsSync(log) ? statSync(log).size : 0;
      this.worker = startNodeProcess('src/worker.ts', this.env, path.join(this.dir, 'worker.log'));
      this.watch('worker', this.worker);
    }
    if (components.includes('api')) {
      this.api = startNodeProcess('src/api/main.ts', this.env, path.join(this.dir, 'api.log'));
      this.watch('api', this.api);
    }
    for (const c of components) this.expectedDown.delete(c);
    await this.waitReady();
  }

  /** SIGKILLs the given components at once. */
  async kill(components: Component[]): Promise<void> {
    for (const c of components) this.expectedDown.add(c);
    const procs = components.map((c) => (c === 'temporal' ? this.temporal?.process : c === 'worker' ? this.worker : this.api));
    await Promise.all(procs.map((p) => (p ? killProcess(p) : undefined)));
    if (components.includes('temporal') && this.client) {
      await this.client.connection.close().catch(() => undefined);
      this.client = undefined;
    }
  }

  /** Restarts whatever died without being asked to (so one finding does not end the run). */
  async restartCrashed(): Promise<void> {
    const dead = COMPONENTS.filter((c) => !this.expectedDown.has(c) && !this.isUp(c));
    if (dead.length) await this.start(dead);
  }

  isUp(component: Component): boolean {
    const proc = component === 'temporal' ? this.temporal?.process : component === 'worker' ? this.worker : this.api;
    return proc !== undefined && isAlive(proc);
  }

  /** Ready = the current worker logged its start (it then polls) and the API answers /readyz (bounded: 180 s). */
  async waitReady(): Promise<void> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const polling = this.isUp('worker') && this.workerStarted();
      const ready = await fetch(`${this.apiUrl}/readyz`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok).catch(() => false);
      if (polling && ready) return;
      // A process that died will not become ready: say which and why at once instead of after 180 s.
      const dead = COMPONENTS.find((c) => !this.expectedDown.has(c) && !this.isUp(c));
      if (dead) throw new Error(`the cluster cannot become ready: ${dead} exited; the end of ${dead}.log:\n${this.logTail(dead)}`);
      if (Date.now() > deadline) throw new Error(`the cluster did not become ready within 180 s (worker polling: ${polling}, API ready: ${ready}); logs in ${this.dir}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Calls the API as the chaos owner; a connection error is status 0. */
  async call(method: string, urlPath: string, body?: unknown): Promise<ApiResult> {
    try {
      const res = await fetch(`${this.apiUrl}${urlPath}`, {
        method,
        headers: { authorization: `Bearer ${this.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(120_000),
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        parsed = text;
      }
      return { status: res.status, body: parsed };
    } catch {
      return { status: 0, body: null };
    }
  }

  async stop(): Promise<void> {
    for (const c of COMPONENTS) this.expectedDown.add(c);
    await Promise.all([this.api, this.worker].map((p) => (p ? stopProcess(p) : undefined)));
    await this.client?.connection.close().catch(() => undefined);
    await this.temporal?.stop();
  }

  private logTail(component: Component, lines = 15): string {
    try {
      return readFileSync(path.join(this.dir, `${component}.log`), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private workerStarted(): boolean {
    try {
      return readFileSync(path.join(this.dir, 'worker.log')).subarray(this.workerLogOffset).includes('"worker started"');
    } catch {
      return false;
    }
  }

  private watch(component: Component, proc: ChildProcess): void {
    proc.once('exit', (code, signal) => {
      if (!this.expectedDown.has(component)) this.unexpectedExits.push(`${component} exited on its own (${signal ?? code})`);
    });
  }
}
