/**
 * The stack a bench runs against, all on 127.0.0.1: its own Temporal dev server (in memory),
 * and the worker and API as separate Node processes (`src/worker.ts`, `src/api/main.ts`),
 * configured through the same environment variables as production, so each one's memory
 * can be read from /proc.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadConfig, type BerthConfig } from '../../src/config.js';
import { startNodeProcess as startNode, stopProcess as stopChild } from '../../src/dev/node-process.js';
import { freePort, startTemporalDevServer, type DevServer } from '../../src/dev/temporal-dev-server.js';
import { sleep } from './stats.js';

export interface BenchStack {
  apiUrl: string;
  apiKey: string;
  owner: string;
  taskQueue: string;
  /** berth's sandbox network (Docker bridge) the worker puts sandboxes on; the floor's containers join it too. */
  networkName: string;
  /** The configuration the worker and API load from the environment the bench gives them. */
  config: BerthConfig;
  temporal: DevServer;
  worker: ChildProcess;
  api: ChildProcess;
  /** A Temporal client of the bench's own (history lengths; never on the measured path). */
  client: Client;
  /** Calls the API as the bench owner. */
  call(method: string, urlPath: string, body?: unknown, init?: { raw?: Buffer; contentType?: string }): Promise<ApiResult>;
  stop(): Promise<void>;
}

export interface ApiResult {
  status: number;
  body: unknown;
  bytes: number;
}

export interface StackOptions {
  runId: string;
  logDir: string;
  /** Extra environment for worker and API (e.g. tuning knobs). */
  env?: Record<string, string>;
  /** Temporal dynamic config values (`KEY=JSON`) for experiments, e.g. `system.enableActivityEagerExecution=true`. */
  dynamicConfig?: string[];
  /** WorkerOptions overrides (JSON) for experiments: runs bench/tools/tuned-worker.ts instead of src/worker.ts. */
  workerOptionsJson?: string;
}


export async function startBenchStack(options: StackOptions): Promise<BenchStack> {
  const { runId, logDir } = options;
  const logFile = path.join(logDir, 'temporal.log');
  const dynamicConfig = Object.fromEntries(
    (options.dynamicConfig ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  );
  const temporal = await startTemporalDevServer({ logFile, dynamicConfig });
  const children: ChildProcess[] = [];
  let client: Client | undefined;
  let stopping = false;
  try {
    const apiPort = await freePort();
    const metricsPort = await freePort();
    const apiKey = `bench-key-${randomBytes(12).toString('hex')}`;
    const owner = `bench-${runId}`;
    const taskQueue = `berth-bench-${runId}`;
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      BERTH_API_HOST: '127.0.0.1',
      BERTH_API_PORT: String(apiPort),
      // envd's listener is not measured; its fixed port (49983) would clash with a second stack or run.
      BERTH_E2B_ENVD_PORT: '0',
      BERTH_API_KEYS: `${apiKey}:${owner}`,
      BERTH_SECRET_KEY: randomBytes(32).toString('hex'),
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_UI_URL: temporal.uiUrl,
      BERTH_TASK_QUEUE: taskQueue,
      BERTH_HOST_NAME: 'bench-host',
      BERTH_DATA_DIR: logDir,
      BERTH_LOG_LEVEL: 'info',
      // The bench owner runs 1000 live sandboxes and bursts of 200: no per-owner quota may refuse them.
      BERTH_MAX_SANDBOXES_PER_OWNER: '100000',
      BERTH_MAX_CPU_PER_OWNER: '100000',
      BERTH_MAX_MEMORY_MB_PER_OWNER: '100000000',
      BERTH_WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      BERTH_WORKER_METRICS_URL: `http://127.0.0.1:${metricsPort}/metrics`,
      ...(process.env.DOCKER_SOCKET ? { DOCKER_SOCKET: process.env.DOCKER_SOCKET } : {}),
      // berth's in-sandbox agent (docs/agent.md) as setup built it; BERTH_BENCH_AGENT=0 measures docker exec alone.
      // Its sockets live in a short folder: unix socket paths are limited to ~100 bytes.
      ...(process.env.BERTH_AGENT_BINARY && process.env.BERTH_BENCH_AGENT !== '0'
        ? { BERTH_AGENT_BINARY: process.env.BERTH_AGENT_BINARY, BERTH_AGENT_DIR: `/tmp/berth-agent-${runId}` }
        : {}),
      ...options.env,
    };
    const config = loadConfig(env);
    const networkName = config.network.name;
    const workerEntry = options.workerOptionsJson ? 'bench/tools/tuned-worker.ts' : 'src/worker.ts';
    if (options.workerOptionsJson) env.BENCH_WORKER_OPTIONS = options.workerOptionsJson;
    const worker = startNode(workerEntry, env, path.join(logDir, 'worker.log'));
    children.push(worker);
    const api = startNode('src/api/main.ts', env, path.join(logDir, 'api.log'));
    children.push(api);
    for (const child of children) {
      child.once('exit', (code, signal) => {
        if (!stopping) console.error(`[bench] a berth process exited early (${signal ?? code}); logs in ${logDir}`);
      });
    }
    const connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, namespace: 'default' });
    const c = client;
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    // Ready = the worker polls the task queue and the API answers /readyz (bounded: 120 s).
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (worker.exitCode !== null || api.exitCode !== null) throw new Error(`worker or API exited during startup; see ${logDir}`);
      const [polling, ready] = await Promise.all([
        c.workflowService
          .describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 })
          .then((r) => (r.pollers?.length ?? 0) > 0)
          .catch(() => false),
        fetch(`${apiUrl}/readyz`).then((r) => r.ok).catch(() => false),
      ]);
      if (polling && ready) break;
      if (Date.now() > deadline) throw new Error(`berth did not become ready within 120 s (worker polling: ${polling}, API ready: ${ready}); see ${logDir}`);
      await sleep(200);
    }
    return {
      apiUrl,
      apiKey,
      owner,
      taskQueue,
      networkName,
      config,
      temporal,
      worker,
      api,
      client: c,
      async call(method, urlPath, body, init) {
        const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
        let payload: string | Buffer | undefined;
        if (init?.raw) {
          headers['content-type'] = init.contentType ?? 'application/octet-stream';
          payload = init.raw;
        } else if (body !== undefined) {
          headers['content-type'] = 'application/json';
          payload = JSON.stringify(body);
        }
        const res = await fetch(`${apiUrl}${urlPath}`, { method, headers, body: payload, signal: AbortSignal.timeout(300_000) });
        const buf = Buffer.from(await res.arrayBuffer());
        const type = res.headers.get('content-type') ?? '';
        let parsed: unknown = null;
        if (type.includes('json') && buf.length > 0) parsed = JSON.parse(buf.toString('utf8'));
        return { status: res.status, body: parsed, bytes: buf.length };
      },
      async stop() {
        stopping = true;
        await Promise.all(children.map(stopChild));
        await c.connection.close().catch(() => undefined);
        await temporal.stop();
      },
    };
  } catch (err) {
    await Promise.all(children.map(stopChild));
    await client?.connection.close().catch(() => undefined);
    await temporal.stop();
    throw err;
  }
}
