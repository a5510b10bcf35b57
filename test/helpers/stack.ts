/**
 * A real berth stack for tests: the shared Temporal dev server, an in-process worker on a
 * unique task queue, the real Docker engine, and the API listening on a random port.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import { inject } from 'vitest';
import { createApp, type BerthApp } from '../../src/api/app.js';
import { loadConfig, type BerthConfig } from '../../src/config.js';
import { createDockerClient } from '../../src/docker/client.js';
import { createLogger } from '../../src/logger.js';
import { createSandboxNetwork } from '../../src/network/sandbox-network.js';
import { sandboxIdOfContainer } from '../../src/docker/pool-labels.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { freePort } from '../../src/dev/temporal-dev-server.js';
import { createBerthWorker, type BerthWorker } from '../../src/worker.js';
import { hostTaskQueue } from '../../src/workflows/host-queue.js';
import { deleteReconcileSchedule, ensureReconcileSchedule } from '../../src/temporal/reconcile-schedule.js';

let runtimeInstalled = false;
let workerMetricsUrl = '';

export interface TestStack {
  config: BerthConfig;
  client: Client;
  docker: Docker;
  berth: BerthApp;
  baseUrl: string;
  /** E2B's envd listener of this stack (its own port, like envd's 49983). */
  envdUrl: string;
  /** API keys by owner name given to {@link startStack}. */
  keys: Record<string, string>;
  /** The same owners' E2B-format keys (`e2b_<hex>`: they select the E2B door). */
  e2bKeys: Record<string, string>;
  /** Owner names actually used (prefixed with test-). */
  owners: Record<string, string>;
  /** Calls the API; `as` picks the owner's key (default the first owner). */
  api(method: string, path: string, options?: { body?: unknown; as?: string; key?: string | null; headers?: Record<string, string> }): Promise<ApiResponse>;
  restartWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

export interface StackOptions {
  owners?: string[];
  env?: Record<string, string>;
  temporalAddress?: string;
  /** Create this stack's reconciler schedule (BERTH_RECONCILE_INTERVAL_MS in `env`); deleted by stop(). */
  reconcile?: boolean;
  /** Owners whose keys are admin keys (BERTH_ADMIN_KEYS). */
  adminOwners?: string[];
  /** Other hosts' Docker clients for the API's data plane (host name → client). */
  engines?: Record<string, Docker>;
}

export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  if (!runtimeInstalled) {
    const metricsPort = await freePort();
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${metricsPort}`, countersTotalSuffix: true } } },
    });
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    runtimeInstalled = true;
  }
  const suffix = randomBytes(4).toString('hex');
  const ownerNames = options.owners ?? ['alice', 'bob'];
  const keys: Record<string, string> = {};
  const e2bKeys: Record<string, string> = {};
  const owners: Record<string, string> = {};
  for (const name of ownerNames) {
    keys[name] = `key-${name}-${suffix}`;
    e2bKeys[name] = `e2b_${randomBytes(20).toString('hex')}`;
    owners[name] = `test-${inject('runTag')}-${name}-${suffix}`;
  }
  const config = loadConfig({
    BERTH_API_KEYS: ownerNames.flatMap((n) => [`${keys[n]}:${owners[n]}`, `${e2bKeys[n]}:${owners[n]}`]).join(','),
    BERTH_SECRET_KEY: randomBytes(32).toString('hex'),
    TEMPORAL_ADDRESS: options.temporalAddress ?? inject('temporalAddress'),
    BERTH_TASK_QUEUE: `berth-test-${suffix}`,
    BERTH_LOG_LEVEL: process.env.BERTH_TEST_LOG_LEVEL ?? 'silent',
    BERTH_HOST_NAME: 'test-host',
    BERTH_WORKER_METRICS_URL: workerMetricsUrl,
    BERTH_ADMIN_KEYS: (options.adminOwners ?? []).map((n) => keys[n]).join(','),
    ...options.env,
  });
  const logger = createLogger(config.logLevel, 'berth-test');
  const docker = createDockerClient(config.dockerSocket);
  let connection = await NativeConnection.connect({ address: config.temporal.address });
  let worker: BerthWorker | undefined;
  let running: Promise<void> | undefined;

  async function startWorker(): Promise<void> {
    connection = await NativeConnection.connect({ address: config.temporal.address });
    worker = await createBerthWorker({ config, docker, logger, connection, workflowBundle: { codePath: inject('workflowBundlePath') } });
    running = worker.run();
  }
  async function stopWorker(): Promise<void> {
    if (!worker) return;
    worker.shutdown();
    await running;
    await connection.close();
    worker = undefined;
  }
  await connection.close();
  await startWorker();

  const client = await connectTemporalClient(config);
  const scheduleScope = { hostName: config.hostName, taskQueue: config.temporal.taskQueue };
  if (options.reconcile) await ensureReconcileSchedule(client, { ...scheduleScope, hostTaskQueue: hostTaskQueue(config.temporal.taskQueue, config.hostName), ...config.reconciler });
  const berth = createApp({ config, client, docker, logger, engines: new Map(Object.entries(options.engines ?? {})) });
  const server: Server = await new Promise((resolve) => {
    const s = berth.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const envdServer: Server = await new Promise((resolve) => {
    const s = berth.envd.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const envdUrl = `http://127.0.0.1:${(envdServer.address() as AddressInfo).port}`;
  const firstOwner = ownerNames[0] ?? 'alice';

  return {
    config,
    client,
    docker,
    berth,
    baseUrl,
    envdUrl,
    keys,
    e2bKeys,
    owners,
    async api(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const key = opts.key === undefined ? keys[opts.as ?? firstOwner] : opts.key;
      if (key) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (opts.body !== undefined) {
        headers['content-type'] ??= 'application/json';
        body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      }
      const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async restartWorker() {
      await stopWorker();
      await startWorker();
    },
    stopWorker,
    startWorker,
    async stop() {
      await berth.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      envdServer.closeAllConnections();
      await new Promise<void>((resolve) => envdServer.close(() => resolve()));
      if (options.reconcile) await deleteReconcileSchedule(client, scheduleScope);
      await stopWorker();
      await client.connection.close();
      const containers = await docker.listContainers({ all: true, filters: { label: ['berth.managed=true'] } });
      const mine = new Set(Object.values(owners));
      const network = createSandboxNetwork({ docker, config: config.network, logger });
      await Promise.all(
        containers
          // The owners' sandboxes, and this stack's warm-pool containers (claimed ones have no owner label).
          .filter((c) => mine.has(c.Labels['berth.owner'] ?? '') || c.Labels['berth.queue'] === config.temporal.taskQueue)
          .map(async (c) => {
            await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
            await network.detach(sandboxIdOfContainer(c) ?? '').catch(() => undefined);
          }),
      );
      // Volumes outlive sandboxes by design: remove the ones this stack's owners made.
      const { Volumes } = await docker.listVolumes({ filters: JSON.stringify({ label: ['berth.managed=true'] }) });
      await Promise.all(
        (Volumes ?? []).filter((v) => mine.has(v.Labels?.['berth.owner'] ?? '')).map((v) => docker.getVolume(v.Name).remove({ force: true }).catch(() => undefined)),
      );
      // So do snapshots (images): remove the ones this stack's owners took.
      const images = await docker.listImages({ filters: JSON.stringify({ label: ['berth.snapshot'] }) });
      await Promise.all(
        images
          .filter((i) => mine.has(i.Labels?.['berth.snapshot.owner'] ?? ''))
          // By tag: a snapshot of a sandbox booted from another is its child image (untag, then it goes with the child).
          .flatMap((i) => i.RepoTags ?? [])
          .map((tag) => docker.getImage(tag).remove({ force: true }).catch(() => undefined)),
      );
    },
  };
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
