/**
 * Starts one Temporal dev server (the real one, built from the Go module proxy) and builds
 * the workflow bundle once for every test file. Removes this run's leftover test
 * containers at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import Docker from 'dockerode';
import type { TestProject } from 'vitest/node';
import { startTemporalDevServer, type DevServer } from '../src/dev/temporal-dev-server.js';
import { WORKFLOWS_PATH } from '../src/worker.js';

let server: DevServer | undefined;
/** Tags this run's test owners, so teardown never removes another run's containers. */
const runTag = randomBytes(3).toString('hex');

export async function setup(project: TestProject): Promise<void> {
  const dir = path.resolve('.berth/test');
  mkdirSync(dir, { recursive: true });
  server = await startTemporalDevServer({ logFile: path.join(dir, 'temporal-dev-server.log') });
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', bundlePath);
  project.provide('runTag', runTag);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  await removeTestContainers();
}

async function removeTestContainers(): Promise<void> {
  const docker = new Docker();
  const containers = await docker.listContainers({ all: true, filters: { label: ['berth.managed=true'] } }).catch(() => []);
  await Promise.all(
    containers
      .filter((c) => (c.Labels['berth.owner'] ?? '').startsWith(`test-${runTag}-`))
      .map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)),
  );
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    /** Prefix test owners with `test-<runTag>-`. */
    runTag: string;
  }
}
