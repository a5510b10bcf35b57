/**
 * Finding 5: a worker killed mid-provision. A worker process whose Docker engine never answers
 * a container create (a socket that passes every other call to the real engine, so the worker
 * can start and restore its network rules) takes the provisioning activity; it is SIGKILLed;
 * another worker with the real engine must get the activity once heartbeats stop (heartbeat
 * timeout, 15 s), not after the activity's whole 2-minute start-to-close timeout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createDockerClient } from '../../src/docker/client.js';
import { workflowIdFor } from '../../src/ids.js';
import { createLogger } from '../../src/logger.js';
import { createBerthWorker, type BerthWorker } from '../../src/worker.js';
import { infoQuery, SearchAttr } from '../../src/workflows/definitions.js';
import type { sandboxWorkflow } from '../../src/workflows/sandbox.js';
import { testSandboxSpec } from '../helpers/spec.js';
import { eventually } from '../helpers/stack.js';

const suffix = randomBytes(4).toString('hex');
const owner = `test-${inject('runTag')}-killed-${suffix}`;
const taskQueue = `killed-test-${suffix}`;
const stallSocket = path.join(os.tmpdir(), `berth-stalled-docker-${suffix}.sock`);
const env = {
  BERTH_API_KEYS: `unused-key-${suffix}:${owner}`,
  BERTH_SECRET_KEY: randomBytes(32).toString('hex'),
  TEMPORAL_ADDRESS: inject('temporalAddress'),
  BERTH_TASK_QUEUE: taskQueue,
  BERTH_HOST_NAME: 'killed-test-host',
};
const realSocket = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const docker = createDockerClient(realSocket);
let stalled: Server | undefined;
const held: ServerResponse[] = [];
let child: ChildProcess | undefined;
let worker: BerthWorker | undefined;
let running: Promise<void> | undefined;
let client: Client | undefined;
let connection: NativeConnection | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  worker?.shutdown();
  await running;
  await connection?.close();
  for (const r of held) r.destroy();
  stalled?.close();
  rmSync(stallSocket, { force: true });
  await client?.connection.close();
  const containers = await docker.listContainers({ all: true, filters: { label: [`berth.owner=${owner}`] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
});

it('a sandbox whose provisioning worker was killed becomes running once another worker starts', async () => {
  // An engine that never answers a container create (the provisioning hangs there) and passes
  // everything else through, so the worker starts normally.
  stalled = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && /\/containers\/create/.test(req.url ?? '')) {
      held.push(res);
      return;
    }
    const upstream = request({ socketPath: realSocket, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => stalled?.listen(stallSocket, resolve));

  let output = '';
  child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    env: { ...process.env, ...env, DOCKER_SOCKET: stallSocket, BERTH_WORKER_METRICS_ADDRESS: '', BERTH_RECONCILE_INTERVAL_MS: '0', BERTH_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(async () => output.includes('worker started'), 120_000, 200).catch((err: unknown) => {
    throw new Error(`the child worker did not start: ${String(err)}\n${output}`);
  });

  client = new Client({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }) });
  const spec = testSandboxSpec(owner);
  const handle = await client.workflow.start<typeof sandboxWorkflow>('sandboxWorkflow', {
    workflowId: workflowIdFor(spec.sandboxID),
    taskQueue,
    args: [{ spec }],
    typedSearchAttributes: [{ key: SearchAttr.owner, value: owner }, { key: SearchAttr.state, value: 'creating' }],
  });
  // The child took the provisioning activity and is stuck in Docker.
  await eventually(async () => {
    const description = await handle.describe();
    const pending = description.raw.pendingActivities?.[0];
    return pending?.activityType?.name === 'provisionSandbox' && pending.lastStartedTime ? pending : false;
  }, 60_000, 200);
  child.kill('SIGKILL');
  const killedAtMs = Date.now();

  // Another worker (the real engine) on the same queue.
  const config = loadConfig(env);
  connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  worker = await createBerthWorker({
    config,
    docker,
    logger: createLogger('silent', 'killed-test'),
    connection,
    workflowBundle: { codePath: inject('workflowBundlePath') },
  });
  running = worker.run();

  // With only a start-to-close timeout this would wait 2 minutes (and fail here). A query
  // answers at once, so the wait really is bounded.
  const info = await eventually(async () => {
    const current = await handle.query(infoQuery);
    return current.status !== 'creating' && current;
  }, 100_000, 500);
  expect(info.status).toBe('running');
  expect((await docker.getContainer(spec.sandboxID).inspect()).State.Running).toBe(true);
  console.log(`sandbox running ${Math.round((Date.now() - killedAtMs) / 1000)} s after the provisioning worker was killed`);
}, 300_000);
