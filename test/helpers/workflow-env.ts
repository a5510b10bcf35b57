/**
 * Workflow-level test environment: a Temporal dev server started by @temporalio/testing
 * from the locally built CLI, an in-process worker with the real Docker activities.
 */
import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { defaultTemporalCliPath } from '../../src/dev/temporal-dev-server.js';
import { createDockerClient } from '../../src/docker/client.js';
import { workflowIdFor } from '../../src/ids.js';
import { testSandboxSpec } from './spec.js';
import { createLogger } from '../../src/logger.js';
import { createBerthWorker, type BerthWorker } from '../../src/worker.js';
import { ALL_SEARCH_ATTRIBUTES, SearchAttr, waitReadyUpdate, type SandboxInfo, type SandboxSpec } from '../../src/workflows/definitions.js';
import type { sandboxWorkflow } from '../../src/workflows/sandbox.js';


export interface WorkflowTestEnv {
  env: TestWorkflowEnvironment;
  owner: string;
  taskQueue: string;
  docker: ReturnType<typeof createDockerClient>;
  /** Starts a sandbox workflow with millisecond durations and waits until it runs. */
  startSandbox(spec?: Partial<SandboxSpec>): Promise<{ handle: WorkflowHandleWithFirstExecutionRunId<typeof sandboxWorkflow>; info: SandboxInfo; sandboxID: string }>;
  restartWorker(): Promise<void>;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

export async function startWorkflowTestEnv(): Promise<WorkflowTestEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: defaultTemporalCliPath() }, searchAttributes: ALL_SEARCH_ATTRIBUTES },
  });
  const suffix = randomBytes(4).toString('hex');
  const owner = `test-${inject('runTag')}-wf-${suffix}`;
  const taskQueue = `wf-test-${suffix}`;
  const config = loadConfig({
    BERTH_API_KEYS: `unused-key-${suffix}:${owner}`,
    BERTH_SECRET_KEY: randomBytes(32).toString('hex'),
    BERTH_TASK_QUEUE: taskQueue,
    BERTH_HOST_NAME: 'wf-test-host',
  });
  const docker = createDockerClient(config.dockerSocket);
  const logger = createLogger(process.env.BERTH_TEST_LOG_LEVEL ?? 'silent', 'wf-test');
  let worker: BerthWorker | undefined;
  let running: Promise<void> | undefined;
  const startWorker = async () => {
    worker = await createBerthWorker({ config, docker, logger, connection: env.nativeConnection, workflowBundle: { codePath: inject('workflowBundlePath') }, taskQueue });
    running = worker.run();
  };
  const stopWorker = async () => {
    worker?.shutdown();
    await running;
  };
  await startWorker();

  return {
    env,
    owner,
    taskQueue,
    docker,
    async startSandbox(overrides = {}) {
      const spec = testSandboxSpec(owner, overrides);
      const sandboxID = spec.sandboxID;
      const handle = await env.client.workflow.start<typeof sandboxWorkflow>('sandboxWorkflow', {
        workflowId: workflowIdFor(sandboxID),
        taskQueue,
        args: [{ spec }],
        typedSearchAttributes: [
          { key: SearchAttr.owner, value: owner },
          { key: SearchAttr.state, value: 'creating' },
        ],
      });
      const info = await handle.executeUpdate(waitReadyUpdate, { args: [{ owner }] });
      return { handle, info, sandboxID };
    },
    async restartWorker() {
      await stopWorker();
      await startWorker();
    },
    async stop() {
      await stopWorker();
      await env.teardown();
      const containers = await docker.listContainers({ all: true, filters: { label: [`berth.owner=${owner}`] } });
      await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
