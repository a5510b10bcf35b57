/**
 * The reconciler's sweep removes warm-pool leftovers of its host and queue (a dead process's
 * containers, a crashed refill's created-but-never-started one) and keeps the pool's ready
 * containers (real Docker engine and Temporal dev server).
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, expect, it, inject } from 'vitest';
import { createReconcileActivities } from '../../src/activities/reconcile.js';
import { loadConfig } from '../../src/config.js';
import { createDockerClient } from '../../src/docker/client.js';
import { isUnclaimedPoolContainer, POOL_LABELS } from '../../src/docker/pool-labels.js';
import { createLogger } from '../../src/logger.js';
import { createSandboxNetwork } from '../../src/network/sandbox-network.js';
import { poolContainerSpec } from '../../src/pool/pool-spec.js';
import { WarmPool } from '../../src/pool/warm-pool.js';
import { eventually } from '../helpers/stack.js';

const docker = createDockerClient('/var/run/docker.sock');
const logger = createLogger('silent', 'pool-sweep-test');
const config = loadConfig({ BERTH_API_KEYS: 'pool-sweep-key:t', BERTH_SECRET_KEY: '0'.repeat(64) });
const network = createSandboxNetwork({ docker, config: config.network, logger });
const taskQueue = `pool-sweep-${randomBytes(4).toString('hex')}`;
const spec = { pidsLimit: 64, networkName: network.name, blockedCidrs: [], host: 'pool-sweep-host', taskQueue };
const pool = new WarmPool({ docker, logger, sizes: { tiny: 1 }, templates: config.templates, refillIntervalMs: 60_000, spec, prepareNetwork: () => network.prepare() });

afterAll(async () => {
  await pool.stop();
  const left = await docker.listContainers({ all: true, filters: { label: [`berth.queue=${taskQueue}`] } });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
});

it("the reconciler's sweep removes pool leftovers of its queue and keeps the ready ones", async () => {
  await pool.start();
  await eventually(async () => pool.stats().ready.tiny === 1);
  await pool.idle();
  const template = config.templates.get('tiny');
  if (!template) throw new Error('no tiny template');
  const dead = { ...spec, instanceID: 'deadbeef0001' };
  const startedLeftover = await docker.createContainer(poolContainerSpec(`berth-pool-leftover${randomBytes(4).toString('hex')}`, template, dead));
  await startedLeftover.start();
  const createdLeftover = await docker.createContainer(poolContainerSpec(`berth-pool-leftover${randomBytes(4).toString('hex')}`, template, dead));

  const connection = await Connection.connect({ address: inject('temporalAddress') });
  try {
    const reconcile = createReconcileActivities({ docker, logger, hostName: spec.host, taskQueue, pool, client: () => new Client({ connection }) });
    const result = await reconcile.sweepContainers({ orphanGraceMs: 60_000 });
    expect(result.poolRemoved?.length).toBe(2);
    expect(result.orphansRemoved).toEqual([]);
  } finally {
    await connection.close();
  }
  for (const c of [startedLeftover, createdLeftover]) await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
  const left = (await docker.listContainers({ all: true, filters: { label: [POOL_LABELS.pool, `berth.queue=${taskQueue}`] } })).filter((c) => isUnclaimedPoolContainer(c));
  expect(left).toHaveLength(1);
  expect(left[0]?.State).toBe('running');
  expect(pool.stats().ready.tiny).toBe(1);
});
