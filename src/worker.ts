/**
 * The berth worker: hosts the sandbox workflows and the Docker activities.
 * Run with `npm run worker` (configuration from the environment, see src/config.ts).
 */
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { createActivities } from './activities/index.js';
import { createHostActivities } from './activities/host-lost.js';
import { createReconcileActivities } from './activities/reconcile.js';
import { loadConfig, type BerthConfig } from './config.js';
import { createDockerClient } from './docker/client.js';
import { createLogger } from './logger.js';
import { createSandboxNetwork } from './network/sandbox-network.js';
import { createWorkerPool } from './pool/worker-pool.js';
import { connectTemporalClient } from './temporal/client.js';
import { registerHost } from './temporal/host-registration.js';
import { ensureReconcileSchedule } from './temporal/reconcile-schedule.js';
import { hostTaskQueue } from './workflows/host-queue.js';

/** Path of the workflow bundle's entry point. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface CreateWorkerOptions {
  config: BerthConfig;
  docker: Docker;
  logger: Logger;
  connection: NativeConnection;
  /** A prebuilt bundle (tests build it once); otherwise bundled from {@link WORKFLOWS_PATH}. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** The shared task queue (default config.temporal.taskQueue). */
  taskQueue?: string;
}

/** A berth worker: the shared queue's workflows and its host's own queue, run and stopped together. */
export interface BerthWorker {
  /** The host's own task queue (Docker activities of sandboxes placed on this host). */
  readonly hostTaskQueue: string;
  run(): Promise<void>;
  shutdown(): void;
}

/**
 * Creates (does not run) a worker for one Docker host. Two Temporal workers in one process:
 * - the shared queue: every workflow (sandboxes, hosts, reconciler sweeps), the activities
 *   that only talk to Temporal (stopping a lost host's sandboxes) and the local pause / resume
 *   of sandboxes placed on this host (they refuse any other host's sandbox); with
 *   BERTH_SHARED_QUEUE_DOCKER also the Docker activities of sandboxes created before per-host
 *   queues (only one host may serve those);
 * - the host's own queue (`<shared>-host-<BERTH_HOST_NAME>`): the Docker activities and the
 *   reconciler's sweep of this engine, and nothing else, so no other engine ever runs them.
 * First it makes sure the sandbox network exists and rebuilds the packet-filter rules of every
 * live sandbox on this host from Docker, then registers the host (refusing to start when another
 * live worker serves this host name with a different engine) and keeps reporting it. Its
 * `run()` also keeps this host's warm pool (BERTH_WARM_POOL, docs/warm-pool.md) while it runs.
 */
export async function createBerthWorker(options: CreateWorkerOptions): Promise<BerthWorker> {
  const { config, docker, logger, connection } = options;
  const sharedQueue = options.taskQueue ?? config.temporal.taskQueue;
  const hostQueue = hostTaskQueue(sharedQueue, config.hostName);
  const network = createSandboxNetwork({ docker, config: config.network, logger });
  await network.restore();
  const pool = createWorkerPool({ config, docker, logger, network, taskQueue: sharedQueue });
  // Containers keep the shared queue in their label: the reconciler's scope is host + shared queue.
  const dockerActivities = {
    ...createActivities({ docker, logger, config, taskQueue: sharedQueue, network, ...(pool.enabled ? { pool } : {}) }),
    ...createReconcileActivities({ docker, logger, hostName: config.hostName, taskQueue: sharedQueue, network, ...(pool.enabled ? { pool } : {}) }),
  };
  let conflict: Error | undefined;
  let shutdownOnConflict: () => void = () => undefined;
  const stopReporting = await registerHost({
    onConflict: (err) => {
      conflict = err;
      shutdownOnConflict();
    },
    client: new Client({ connection, namespace: config.temporal.namespace }),
    docker,
    logger,
    sharedQueue,
    hostName: config.hostName,
    heartbeatMs: config.hosts.heartbeatMs,
    graceMs: config.hosts.graceMs,
  });
  let shared: Worker;
  let host: Worker;
  try {
    shared = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: sharedQueue,
      ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
      activities: {
        ...createHostActivities({ logger }),
        // A placed sandbox's pause / resume as local activities of the workflow task: each refuses
        // (WrongHost, without touching Docker) unless the sandbox is on this worker's host.
        pauseSandboxOnHost: dockerActivities.pauseSandboxOnHost,
        resumeSandboxOnHost: dockerActivities.resumeSandboxOnHost,
        ...(config.hosts.sharedQueueDocker ? dockerActivities : {}),
      },
      // The default (10 s) delays every deadline of a killed worker's sandboxes by 10 s.
      stickyQueueScheduleToStartTimeout: config.stickyTimeoutMs,
    });
    host = await Worker.create({ connection, namespace: config.temporal.namespace, taskQueue: hostQueue, activities: dockerActivities });
  } catch (err) {
    stopReporting();
    throw err;
  }
  let running: Promise<void> | undefined;
  shutdownOnConflict = () => {
    for (const w of [shared, host]) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    hostTaskQueue: hostQueue,
    run() {
      // The warm pool lives as long as the worker runs: filled when it starts, emptied when it stops.
      const withPool = async () => {
        await pool.start().catch((err: unknown) => logger.warn({ err }, 'warm pool did not start; creates make their own containers'));
        try {
          await Promise.all([shared.run(), host.run()]);
        } finally {
          await pool.stop();
        }
      };
      running ??= withPool().then(
        () => {
          stopReporting();
          if (conflict) throw conflict;
        },
        (err: unknown) => {
          stopReporting();
          throw err;
        },
      );
      return running;
    },
    shutdown() {
      stopReporting();
      for (const w of [shared, host]) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}

/**
 * Routes the Temporal SDK's logs (workflow `log.*` calls such as "deadline reached", worker
 * state changes) into the worker's pino logger, so every line is JSON and carries the
 * workflow's fields (sandboxID, workflowId, ...).
 */
export function temporalLoggerFor(logger: Logger, level: string): DefaultLogger {
  const sdkLevel = ({ trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR' } as const)[level] ?? 'INFO';
  return new DefaultLogger(sdkLevel, ({ level: entryLevel, message, meta }) => {
    const method = ({ TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const)[entryLevel];
    logger[method]({ temporal: true, ...meta }, message);
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'berth-worker');
  Runtime.install({
    logger: temporalLoggerFor(logger, config.logLevel),
    // Temporal SDK metrics (activity failures, task latencies), re-served by the API's /metrics.
    ...(config.workerMetrics.bindAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: config.workerMetrics.bindAddress, countersTotalSuffix: true } } } }
      : {}),
  });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await createBerthWorker({ config, docker: createDockerClient(config.dockerSocket), logger, connection });
  // The reconciler's schedule for this host (idempotent: created, or updated to this config).
  const client = await connectTemporalClient(config);
  await ensureReconcileSchedule(client, { hostName: config.hostName, taskQueue: config.temporal.taskQueue, hostTaskQueue: worker.hostTaskQueue, ...config.reconciler });
  await client.connection.close();
  logger.info({ taskQueue: config.temporal.taskQueue, hostTaskQueue: worker.hostTaskQueue, host: config.hostName, reconcileIntervalMs: config.reconciler.intervalMs }, 'worker started');
  await worker.run();
  await connection.close();
  logger.info('worker stopped');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
