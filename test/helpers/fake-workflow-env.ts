/**
 * The sandbox workflow on a real Temporal dev server, with fake Docker activities: for the
 * lifecycle rules where Docker is not the point (ordering, conflicts, deadlines). Each fake
 * records its calls per sandbox; a test can hold an activity until it says so, or make it fail.
 */
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { inject } from 'vitest';
import type { SandboxActivities } from '../../src/activities/index.js';
import { defaultTemporalCliPath } from '../../src/dev/temporal-dev-server.js';
import { workflowIdFor } from '../../src/ids.js';
import { ALL_SEARCH_ATTRIBUTES, FailureType, SearchAttr, type ContainerCheck, type SandboxSpec } from '../../src/workflows/definitions.js';
import type { sandboxWorkflow } from '../../src/workflows/sandbox.js';
import { testSandboxSpec } from './spec.js';

type Step = 'provision' | 'pause' | 'resume' | 'destroy' | 'inspect' | 'snapshot' | 'pauseToDisk' | 'resumeFromDisk';

/** What the fake engine does for one sandbox. */
export interface FakeEngine {
  /** Every activity call, in order. */
  calls: Step[];
  /** Steps that answer "container gone" (non-retryable, as the real activities do). */
  gone: Set<Step>;
  /** Steps held until {@link release} is called. */
  held: Map<Step, Promise<void>>;
  /** What inspect reports. */
  check: ContainerCheck;
}

export interface FakeWorkflowEnv {
  env: TestWorkflowEnvironment;
  owner: string;
  taskQueue: string;
  engine(sandboxID: string): FakeEngine;
  /** Holds `step` of a sandbox until the returned function is called; resolves `started` when it is reached. */
  hold(sandboxID: string, step: Step): { started: Promise<void>; release: () => void };
  /** Starts a sandbox workflow (without waiting for it to run). */
  start(spec?: Partial<SandboxSpec>): Promise<{ handle: WorkflowHandleWithFirstExecutionRunId<typeof sandboxWorkflow>; sandboxID: string; spec: SandboxSpec }>;
  stop(): Promise<void>;
}

let runtimeInstalled = false;

export async function startFakeWorkflowEnv(): Promise<FakeWorkflowEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: defaultTemporalCliPath() }, searchAttributes: ALL_SEARCH_ATTRIBUTES },
  });
  const suffix = randomBytes(4).toString('hex');
  const owner = `fake-${suffix}`;
  const taskQueue = `fake-wf-${suffix}`;
  const engines = new Map<string, FakeEngine>();
  const started = new Map<string, () => void>();
  const releases: Array<() => void> = [];
  const engine = (sandboxID: string): FakeEngine => {
    let e = engines.get(sandboxID);
    if (!e) {
      e = { calls: [], gone: new Set(), held: new Map(), check: { state: 'running', detail: 'container is running' } };
      engines.set(sandboxID, e);
    }
    return e;
  };
  const step = async (sandboxID: string, name: Step): Promise<void> => {
    const e = engine(sandboxID);
    e.calls.push(name);
    started.get(`${sandboxID}/${name}`)?.();
    await e.held.get(name);
    if (e.gone.has(name)) {
      throw ApplicationFailure.create({ type: FailureType.containerGone, message: `container of sandbox ${sandboxID} is gone (fake)`, nonRetryable: true });
    }
  };
  const activities: SandboxActivities = {
    provisionSandbox: async (req) => {
      await step(req.sandboxID, 'provision');
      return { containerID: `fake-${req.sandboxID}`, host: 'fake-host' };
    },
    pauseSandbox: (ref) => step(ref.sandboxID, 'pause'),
    resumeSandbox: (ref) => step(ref.sandboxID, 'resume'),
    pauseSandboxOnHost: (ref) => step(ref.sandboxID, 'pause'),
    resumeSandboxOnHost: (ref) => step(ref.sandboxID, 'resume'),
    destroySandbox: (ref) => step(ref.sandboxID, 'destroy'),
    pauseToDisk: async (req) => {
      await step(req.sandboxID, 'pauseToDisk');
      return { image: `fake-pause:${req.sandboxID}`, sizeBytes: 0 };
    },
    resumeFromDisk: async (req) => {
      await step(req.sandboxID, 'resumeFromDisk');
      return { containerID: `fake-${req.sandboxID}`, host: 'fake-host' };
    },
    inspectSandbox: async (ref) => {
      await step(ref.sandboxID, 'inspect');
      return engine(ref.sandboxID).check;
    },
    snapshotSandbox: async (req) => {
      await step(req.sandboxID, 'snapshot');
      return { snapshotID: req.snapshotID, sandboxID: req.sandboxID, kind: req.kind, imageID: `sha256:fake-${req.snapshotID}`, sizeBytes: 1234, createdAt: new Date().toISOString() };
    },
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities,
  });
  const running = worker.run();

  return {
    env,
    owner,
    taskQueue,
    engine,
    hold(sandboxID, name) {
      let release!: () => void;
      engine(sandboxID).held.set(name, new Promise<void>((r) => (release = r)));
      releases.push(release);
      const reached = new Promise<void>((r) => started.set(`${sandboxID}/${name}`, r));
      return { started: reached, release };
    },
    async start(overrides = {}) {
      const spec = testSandboxSpec(owner, overrides);
      const handle = await env.client.workflow.start<typeof sandboxWorkflow>('sandboxWorkflow', {
        workflowId: workflowIdFor(spec.sandboxID),
        taskQueue,
        args: [{ spec }],
        typedSearchAttributes: [
          { key: SearchAttr.owner, value: owner },
          { key: SearchAttr.state, value: 'creating' },
        ],
      });
      return { handle, sandboxID: spec.sandboxID, spec };
    },
    async stop() {
      for (const release of releases) release();
      worker.shutdown();
      await running;
      await env.teardown();
    },
  };
}
