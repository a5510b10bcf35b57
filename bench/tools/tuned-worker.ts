/**
 * Experiments only: berth's worker (same workflows, same activities, same config) with
 * WorkerOptions overrides from BENCH_WORKER_OPTIONS (JSON), e.g. '{"maxCachedWorkflows":200}'.
 * Lets the bench measure a tuning before anyone changes src/worker.ts.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../../src/activities/index.js';
import { loadConfig } from '../../src/config.js';
import { createDockerClient } from '../../src/docker/client.js';
import { createLogger } from '../../src/logger.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';

const overrides = JSON.parse(process.env.BENCH_WORKER_OPTIONS ?? '{}') as Partial<WorkerOptions>;
const config = loadConfig();
const logger = createLogger(config.logLevel, 'berth-worker');
Runtime.install({ logger: new DefaultLogger('WARN') });
const connection = await NativeConnection.connect({ address: config.temporal.address });
const worker = await Worker.create({
  connection,
  namespace: config.temporal.namespace,
  taskQueue: config.temporal.taskQueue,
  workflowsPath: WORKFLOWS_PATH,
  activities: createActivities({ docker: createDockerClient(config.dockerSocket), logger, config }),
  ...overrides,
});
logger.info({ overrides }, 'tuned worker started');
process.once('SIGTERM', () => worker.shutdown());
process.once('SIGINT', () => worker.shutdown());
await worker.run();
await connection.close();
