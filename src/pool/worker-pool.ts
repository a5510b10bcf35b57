/**
 * Builds a worker's warm pool from its configuration, with its metrics on the worker's Temporal
 * SDK metrics endpoint (re-served by the API's /metrics): claims, misses, refills, removals and
 * the number of ready containers, by template and task queue.
 */
import { Runtime } from '@temporalio/worker';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config.js';
import type { SandboxNetwork } from '../network/sandbox-network.js';
import { prepareAgentDir, removeAgentDir } from '../activities/agent-dir.js';
import { WarmPool, type PoolEvent } from './warm-pool.js';

export function createWorkerPool(options: { config: BerthConfig; docker: Docker; logger: Logger; network: SandboxNetwork; taskQueue: string }): WarmPool {
  const { config, docker, logger, network, taskQueue } = options;
  const meter = Runtime.instance().metricMeter;
  const counters: Record<PoolEvent, ReturnType<typeof meter.createCounter>> = {
    claim: meter.createCounter('berth_warm_pool_claims', '', 'Creates served from the warm pool'),
    miss: meter.createCounter('berth_warm_pool_misses', '', 'Creates of a pooled template that found no ready container or could not use one (volumes, network policy)'),
    refill: meter.createCounter('berth_warm_pool_refills', '', 'Pool containers made and started'),
    refill_failed: meter.createCounter('berth_warm_pool_refill_failures', '', 'Pool containers that could not be made'),
    removed: meter.createCounter('berth_warm_pool_removed', '', 'Unclaimed pool containers removed (stale, extra, shutdown)'),
  };
  const ready = meter.createGauge('berth_warm_pool_ready', 'int', '', 'Ready (unclaimed) pool containers');
  const pool: WarmPool = new WarmPool({
    docker,
    logger: logger.child({ component: 'warm-pool' }),
    sizes: config.warmPool.sizes,
    templates: config.templates,
    refillIntervalMs: config.warmPool.refillIntervalMs,
    spec: {
      pidsLimit: config.limits.pidsLimit,
      networkName: network.name,
      blockedCidrs: config.network.blockedCidrs,
      dnsServers: config.network.dnsServers,
      host: config.hostName,
      taskQueue,
    },
    prepareNetwork: () => network.prepare(),
    agent: {
      prepare: (name) => prepareAgentDir(config, name, false),
      remove: (name) => removeAgentDir(config, name),
    },
    onEvent(event, templateID) {
      if (event === 'removed') counters.removed.add(1, { task_queue: taskQueue });
      else counters[event].add(1, { template: templateID, task_queue: taskQueue });
      for (const [template, n] of Object.entries(pool.stats().ready)) ready.set(n, { template, task_queue: taskQueue });
    },
  });
  return pool;
}
