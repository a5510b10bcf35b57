/**
 * Simulates N Docker hosts under one Temporal on this machine and measures what docs/scaling.md
 * reports: N in-process berth workers with their own host names (sim-1 … sim-N), all on the one
 * local engine (so engine capacity is shared: the numbers show berth's and Temporal's overhead
 * per host, not N machines' worth of Docker), one API whose BERTH_DOCKER_HOSTS lists them, a
 * Temporal dev server of its own. For each N it creates `--sandboxes` tiny sandboxes with
 * `--concurrency` creates in flight through the REST API, runs one command in each, kills them,
 * and prints create latency (p50, p95), creates per second, the spread over hosts, and the
 * host workflows' history growth per heartbeat.
 *
 *   node --import tsx bench/hosts/simulate.ts --hosts 1,2,4 --sandboxes 24 --concurrency 6
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { createApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config.js';
import { startTemporalDevServer } from '../../src/dev/temporal-dev-server.js';
import { createDockerClient } from '../../src/docker/client.js';
import { createLogger } from '../../src/logger.js';
import { connectTemporalClient } from '../../src/temporal/client.js';
import { createBerthWorker, type BerthWorker } from '../../src/worker.js';
import { hostWorkflowId } from '../../src/workflows/host-definitions.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1,2,4' },
    sandboxes: { type: 'string', default: '24' },
    concurrency: { type: 'string', default: '6' },
  },
});
const hostCounts = (values.hosts ?? '1').split(',').map(Number);
const total = Number(values.sandboxes);
const concurrency = Number(values.concurrency);

Runtime.install({ logger: new DefaultLogger('WARN') });
const server = await startTemporalDevServer({});
const docker = createDockerClient('/var/run/docker.sock');
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

async function runOnce(n: number) {
  const suffix = randomBytes(3).toString('hex');
  const key = `sim-key-${suffix}`;
  const owner = `sim-${suffix}`;
  const names = Array.from({ length: n }, (_, i) => `sim-${i + 1}`);
  const base = {
    BERTH_API_KEYS: `${key}:${owner}`,
    BERTH_SECRET_KEY: randomBytes(32).toString('hex'),
    TEMPORAL_ADDRESS: server.address,
    BERTH_TASK_QUEUE: `sim-${suffix}`,
    BERTH_LOG_LEVEL: 'silent',
    BERTH_WORKER_METRICS_ADDRESS: '',
    BERTH_RECONCILE_INTERVAL_MS: '0',
    BERTH_MAX_SANDBOXES_PER_OWNER: String(total + 10),
    BERTH_MAX_CPU_PER_OWNER: String(total),
    BERTH_HOST_HEARTBEAT_MS: '1000',
    BERTH_DOCKER_HOSTS: names.map((h) => `${h}=unix:///var/run/docker.sock`).join(','),
  };
  const logger = createLogger('silent', 'sim');
  const workers: Array<{ worker: BerthWorker; running: Promise<void>; connection: NativeConnection }> = [];
  for (const [i, host] of names.entries()) {
    const connection = await NativeConnection.connect({ address: server.address });
    // Each simulated host's worker keeps the shared-queue Docker activities off (as extra hosts do), except the first.
    const config = loadConfig({ ...base, BERTH_HOST_NAME: host, BERTH_SHARED_QUEUE_DOCKER: i === 0 ? 'true' : 'false' });
    const worker = await createBerthWorker({ config, docker, logger, connection });
    workers.push({ worker, running: worker.run(), connection });
  }
  const apiConfig = loadConfig({ ...base, BERTH_HOST_NAME: names[0] ?? 'sim-1' });
  const client = await connectTemporalClient(apiConfig);
  const berth = createApp({ config: apiConfig, client, docker, logger });
  const httpServer = await new Promise<import('node:http').Server>((resolve) => {
    const s = berth.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  const latencies: number[] = [];
  const created: Array<{ id: string; host: string }> = [];
  const failures: string[] = [];
  const startedAt = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const t0 = Date.now();
        const res = await call('POST', '/sandboxes', { templateID: 'tiny', timeout: 600, resources: { cpu: 0.5, memoryMB: 64 } });
        if (res.status !== 201) {
          failures.push(`${res.status} ${JSON.stringify(res.body)}`);
          continue;
        }
        latencies.push(Date.now() - t0);
        created.push({ id: String(res.body.sandboxID), host: String(res.body.host) });
      }
    }),
  );
  const createSeconds = (Date.now() - startedAt) / 1000;
  const execLatencies: number[] = [];
  for (const c of created) {
    const t0 = Date.now();
    const res = await call('POST', `/sandboxes/${c.id}/commands`, { cmd: 'true' });
    if (res.status === 200) execLatencies.push(Date.now() - t0);
  }
  const killStarted = Date.now();
  await Promise.all(created.map((c) => call('DELETE', `/sandboxes/${c.id}`)));
  const killSeconds = (Date.now() - killStarted) / 1000;
  const spread: Record<string, number> = {};
  for (const c of created) spread[c.host] = (spread[c.host] ?? 0) + 1;
  // History growth of one host workflow over a known number of heartbeats.
  const hostHandle = client.workflow.getHandle(hostWorkflowId(apiConfig.temporal.taskQueue, names[0] ?? 'sim-1'));
  const eventsBefore = (await hostHandle.describe()).historyLength;
  await new Promise((resolve) => setTimeout(resolve, 5000));
  const eventsPerHeartbeat = ((await hostHandle.describe()).historyLength - eventsBefore) / 5;

  await berth.close();
  await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  for (const w of workers) w.worker.shutdown();
  for (const w of workers) {
    await w.running.catch(() => undefined);
    await w.connection.close();
  }
  await client.connection.close();
  return {
    hosts: n,
    sandboxes: created.length,
    failures: failures.length,
    firstFailure: failures[0] ?? null,
    createP50Ms: percentile(latencies, 50),
    createP95Ms: percentile(latencies, 95),
    createsPerSecond: Number((created.length / createSeconds).toFixed(2)),
    execP50Ms: percentile(execLatencies, 50),
    killAllSeconds: Number(killSeconds.toFixed(2)),
    spread,
    hostWorkflowEventsPerHeartbeat: Number(eventsPerHeartbeat.toFixed(1)),
  };
}

try {
  for (const n of hostCounts) console.log(JSON.stringify(await runOnce(n)));
} finally {
  await server.stop();
}
