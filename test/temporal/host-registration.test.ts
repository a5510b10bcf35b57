/**
 * A worker's host registration when it restarts after a crash: with no worker polling the shared
 * queue (the restarted one is the only worker and does not poll yet), it must still register at
 * once when the host's last live report came from the same engine, and still refuse when it came
 * from another engine. Real Temporal (the suite's dev server) and the real Docker engine.
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type Docker from 'dockerode';
import pino from 'pino';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createDockerClient } from '../../src/docker/client.js';
import { HostConflictError, registerHost } from '../../src/temporal/host-registration.js';
import { hostWorkflowId } from '../../src/workflows/host-definitions.js';

let connection: NativeConnection;
let clientConnection: Connection;
let client: Client;
const docker = createDockerClient('/var/run/docker.sock');
const sharedQueue = `hostreg-${randomBytes(4).toString('hex')}`;
const hostName = 'restarting-host';
const stops: (() => void)[] = [];

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  clientConnection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection: clientConnection });
});

afterAll(async () => {
  for (const stop of stops) stop();
  await client.workflow.getHandle(hostWorkflowId(sharedQueue, hostName)).terminate('test over').catch(() => undefined);
  await clientConnection.close();
  await connection.close();
});

function capturingLogger(lines: { msg: string }[]) {
  return pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
}

async function register(engine: Docker, lines: { msg: string }[]): Promise<void> {
  const stop = await registerHost({ client, docker: engine, logger: capturingLogger(lines), sharedQueue, hostName, heartbeatMs: 600_000, graceMs: 600_000 });
  stops.push(stop);
}

it('a restarted worker of the same engine takes over at once; another engine is still refused', { timeout: 120_000 }, async () => {
  // The first worker: runs the host workflow and registers the host.
  const worker = await Worker.create({ connection, taskQueue: sharedQueue, workflowBundle: { codePath: inject('workflowBundlePath') } });
  const first: { msg: string }[] = [];
  await worker.runUntil(async () => {
    await register(docker, first);
    // The workflow has taken the report in (a worker answers the query while it runs).
    await expect.poll(async () => (await client.workflow.getHandle(hostWorkflowId(sharedQueue, hostName)).query<{ report: unknown }>('hostInfo')).report).not.toBeNull();
  });
  expect(first.map((l) => l.msg)).toContain('host registered');
  stops.pop()?.();

  // The worker is gone (nothing polls the shared queue), its report still within the grace period.
  const restarted: { msg: string }[] = [];
  await register(docker, restarted);
  const msgs = restarted.map((l) => l.msg);
  expect(msgs).not.toContain('host not registered yet (engine or Temporal did not answer); retrying every heartbeat');
  expect(msgs).toContain('same engine as the last live worker of this host: taking over at once');
  expect(msgs).toContain('host registered');

  // Another engine under the same host name is refused, even with no worker polling. A stand-in
  // for a second engine: the real engine with another data root (two-hosts.test.ts refuses a real second engine).
  const otherEngine = new Proxy(docker, {
    get(target, prop, receiver) {
      if (prop === 'info') return async () => ({ ...((await target.info()) as object), DockerRootDir: '/var/lib/another-engine' });
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  await expect(register(otherEngine, [])).rejects.toBeInstanceOf(HostConflictError);
});
