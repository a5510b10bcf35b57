/**
 * Two Docker hosts under one Temporal for tests: a stack (API + worker on the shared engine,
 * host `test-host`) and a second worker on a second engine started by the test (host `host-b`),
 * both on the stack's shared task queue. Cleans up everything it made.
 */
import { NativeConnection } from '@temporalio/worker';
import { inject } from 'vitest';
import type { BerthConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBerthWorker, type BerthWorker } from '../../src/worker.js';
import { LOCAL_IMAGES } from '../../src/templates.js';
import { startPrivateEngine, type PrivateEngine } from './private-engine.js';
import { startStack, type StackOptions, type TestStack } from './stack.js';

export const HOST_B = 'host-b';

export interface TwoHosts {
  stack: TestStack;
  engine: PrivateEngine;
  /** host-b's worker config (the second engine, its own network and subnet). */
  configB: BerthConfig;
  startWorkerB(overrides?: Partial<BerthConfig>): Promise<void>;
  stopWorkerB(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTwoHosts(options: StackOptions = {}): Promise<TwoHosts> {
  const engine = await startPrivateEngine({ images: [LOCAL_IMAGES.busybox] });
  let stack: TestStack | undefined;
  try {
    stack = await startStack({
      ...options,
      env: { BERTH_DOCKER_HOSTS: `test-host=/var/run/docker.sock,${HOST_B}=${engine.dockerHost}`, ...options.env },
      engines: { [HOST_B]: engine.docker },
    });
  } catch (err) {
    await engine.stop();
    throw err;
  }
  const s = stack;
  const configB: BerthConfig = {
    ...s.config,
    hostName: HOST_B,
    dockerSocket: engine.socket,
    network: { ...s.config.network, name: engine.networkEnv.BERTH_NETWORK_NAME, subnet: engine.networkEnv.BERTH_NETWORK_SUBNET },
    // Only the first host serves the shared queue's Docker activities (sandboxes from before per-host queues).
    hosts: { ...s.config.hosts, sharedQueueDocker: false },
  };
  let worker: BerthWorker | undefined;
  let running: Promise<void> | undefined;
  let connection: NativeConnection | undefined;
  const logger = createLogger(s.config.logLevel, 'berth-test-host-b');

  async function startWorkerB(overrides: Partial<BerthConfig> = {}): Promise<void> {
    connection = await NativeConnection.connect({ address: s.config.temporal.address });
    worker = await createBerthWorker({ config: { ...configB, ...overrides }, docker: engine.docker, logger, connection, workflowBundle: { codePath: inject('workflowBundlePath') } });
    running = worker.run();
  }
  async function stopWorkerB(): Promise<void> {
    if (!worker) return;
    worker.shutdown();
    await running?.catch(() => undefined);
    await connection?.close();
    worker = undefined;
  }
  await startWorkerB();
  return {
    stack: s,
    engine,
    configB,
    startWorkerB,
    stopWorkerB,
    async stop() {
      await stopWorkerB().catch(() => undefined);
      await s.stop().catch(() => undefined);
      await engine.stop();
    },
  };
}
