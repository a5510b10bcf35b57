/**
 * The berth worker: hosts the sandbox workflows and the Docker activities.
 * Run with `npm run worker` (configuration from the environment, see src/config.ts).
 */
import { fileURLToPath } from 'node:url';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { createActivities } from './activities/index.js';
import { createReconcileActivities } from './activities/reconcile.js';
import { loadConfig, type BerthConfig } from './config.js';
import { createDockerClient } from './docker/client.js';
import { createLogger } from './logger.js';
import { createSandboxNetwork } from './network/sandbox-network.js';
import { createWorkerPool } from './pool/worker-pool.js';
import { connectTemporalClient } from './temporal/client.js';
import { ensureReconcileSchedule } from './temporal/reconcile-schedule.js';

/** Path of the workflow bundle's entry point. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface CreateWorkerOptions {
  config: BerthConfig;
  docker: Docker;
  logger: Logger;
  connection: NativeConnection;
  /** A prebuilt bundle (tests build it once); otherwise bundled from {@link WORKFLOWS_PATH}. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
}

/**
 * Creates (does not run) a worker for berth's task queue: sandbox and reconciler activities.
 * First it makes sure the sandbox network exists and rebuilds the packet-filter rules of
 * every live sandbox on this host from Docker (labels and addresses), so a restart or a
 * flushed ruleset never leaves a sandbox unfiltered for longer than the start-up takes.
 * Its `run()` also keeps this host's warm pool (BERTH_WARM_POOL, docs/warm-pool.md) while it runs.
 */
export async function createBerthWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { config, docker, logger, connection } = options;
  const taskQueue = options.taskQueue ?? config.temporal.taskQueue;
  const network = createSandboxNetwork({ docker, config: config.network, logger });
  await network.restore();
  const pool = createWorkerPool({ config, docker, logger, network, taskQueue });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: {
      ...createActivities({ docker, logger, config, taskQueue, network, ...(pool.enabled ? { pool } : {}) }),
      ...createReconcileActivities({ docker, logger, hostName: config.hostName, taskQueue, network, ...(pool.enabled ? { pool } : {}) }),
    },
    // The default (10 s) delays every deadline of a killed worker's sandboxes by 10 s.
    stickyQueueScheduleToStartTimeout: config.stickyTimeoutMs,
  });
  // The warm pool lives as long as the worker runs: filled when it starts, emptied when it stops.
  const run = worker.run.bind(worker);
  worker.run = async () => {
    await pool.start().catch((err: unknown) => logger.warn({ err }, 'warm pool did not start; creates make their own containers'));
    try {
      await run();
    } finally {
      await pool.stop();
    }
  };
  return worker;
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
  await ensureReconcileSchedule(client, { hostName: config.hostName, taskQueue: config.temporal.taskQueue, ...config.reconciler });
  await client.connection.close();
  logger.info({ taskQueue: config.temporal.taskQueue, host: config.hostName, reconcileIntervalMs: config.reconciler.intervalMs }, 'worker started');
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
