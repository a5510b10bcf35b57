/**
 * Durability across a Temporal server restart: the dev server (SQLite file) is stopped and
 * started again in the middle of a sandbox's life; its idle deadline still fires, and
 * state set before the restart is kept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { freePort, startTemporalDevServer, type DevServer } from '../../src/dev/temporal-dev-server.js';
import { createDockerClient } from '../../src/docker/client.js';
import { newSandboxID, workflowIdFor } from '../../src/ids.js';
import { createLogger } from '../../src/logger.js';
import { testSandboxSpec } from '../helpers/spec.js';
import { createBerthWorker } from '../../src/worker.js';
import { infoQuery, SearchAttr, setTimeoutUpdate, waitReadyUpdate, type SandboxResult } from '../../src/workflows/definitions.js';
import type { sandboxWorkflow } from '../../src/workflows/sandbox.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-restart-'));
let server: DevServer | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

it('keeps timers and state across a Temporal server restart', async () => {
  const port = await freePort();
  const uiPort = await freePort();
  const dbFile = path.join(dir, 'temporal.db');
  server = await startTemporalDevServer({ port, uiPort, dbFile, logFile: path.join(dir, 'server.log') });
  const owner = `test-restart-${randomBytes(3).toString('hex')}`;
  const config = loadConfig({
    BERTH_API_KEYS: `unused-key-1234:${owner}`,
    BERTH_SECRET_KEY: randomBytes(32).toString('hex'),
    TEMPORAL_ADDRESS: server.address,
    BERTH_TASK_QUEUE: `restart-${owner}`,
  });
  const docker = createDockerClient(config.dockerSocket);
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const worker = await createBerthWorker({
    config,
    docker,
    logger: createLogger('silent', 'restart-test'),
    connection: nativeConnection,
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const sandboxID = newSandboxID();
  try {
    const handle = await client.workflow.start<typeof sandboxWorkflow>('sandboxWorkflow', {
      workflowId: workflowIdFor(sandboxID),
      taskQueue: config.temporal.taskQueue,
      args: [{ spec: testSandboxSpec(owner, { sandboxID }) }],
      typedSearchAttributes: [{ key: SearchAttr.owner, value: owner }],
    });
    await handle.executeUpdate(waitReadyUpdate, { args: [{ owner }] });
    // Long enough that the restart (a few seconds on a loaded machine) ends before the deadline.
    const set = await handle.executeUpdate(setTimeoutUpdate, { args: [{ owner, timeoutMs: 15_000 }] });

    await server.stop();
    server = await startTemporalDevServer({ port, uiPort, dbFile, logFile: path.join(dir, 'server.log') });

    const afterRestart = await handle.query(infoQuery);
    expect(afterRestart).toMatchObject({ timeout: 15, endAt: set.endAt });
    if (Date.now() < Date.parse(set.endAt ?? '')) expect(afterRestart.status).toBe('running');
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('idle_timeout');
    expect(Date.parse(result.info.stoppedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(set.endAt ?? ''));
    await expect(docker.getContainer(sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
  } finally {
    await docker.getContainer(sandboxID).remove({ force: true }).catch(() => undefined);
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
    await nativeConnection.close();
  }
});
