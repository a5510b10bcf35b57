/**
 * Profiling aid: starts the bench stack, runs a few creates and pause/resume cycles, then
 * prints each sandbox workflow's history with the milliseconds between events, so the time
 * of each step (workflow task, activity dispatch, activity run) can be read off.
 *
 *   node --import tsx bench/tools/trace-lifecycle.ts [--cycles 5] [--pool N] [--dynamic-config KEY=JSON ...] [--worker-options JSON]
 *
 * `--pool N` runs the worker with a warm pool of N `tiny` containers (BERTH_WARM_POOL) and waits a
 * moment between creates so each one claims a ready container.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import proto from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createDockerClient } from '../../src/docker/client.js';
import { sandboxVisibilityQuery } from '../../src/service/visibility-query.js';
import { workflowIdFor } from '../../src/ids.js';
import { cleanupContainers } from '../lib/raw.js';
import { startBenchStack } from '../lib/stack.js';
import { summarize, timed } from '../lib/stats.js';

const { values } = parseArgs({ options: { cycles: { type: 'string', default: '5' }, pool: { type: 'string', default: '0' }, 'dynamic-config': { type: 'string', multiple: true }, 'worker-options': { type: 'string' } } });
const cycles = Number(values.cycles);
Runtime.install({ logger: new DefaultLogger('WARN') });
const runId = randomBytes(4).toString('hex');
const docker = createDockerClient(process.env.DOCKER_SOCKET ?? '/var/run/docker.sock');
const poolSize = Number(values.pool);
const stack = await startBenchStack({
  runId,
  logDir: mkdtempSync(path.join(os.tmpdir(), 'berth-trace-')),
  ...(poolSize > 0 ? { env: { BERTH_WARM_POOL: `tiny:${poolSize}`, BERTH_WARM_POOL_REFILL_INTERVAL_MS: '500' } } : {}),
  dynamicConfig: values['dynamic-config'] ?? [], ...(values['worker-options'] ? { workerOptionsJson: values['worker-options'] } : {}) });
const EventType = proto.temporal.api.enums.v1.EventType;
try {
  const times: Record<string, number[]> = { create: [], pause: [], resume: [] };
  let id = '';
  for (let i = 0; i < 3; i++) {
    // Let the pool refill (its containers take a raw create + start each).
    if (poolSize > 0) await new Promise((r) => setTimeout(r, 3000));
    const r = await timed(() => stack.call('POST', '/sandboxes?wait=true', { templateID: 'tiny', timeout: 600 }));
    times.create!.push(r.ms);
    id = (r.value.body as { sandboxID: string }).sandboxID;
  }
  for (let i = 0; i < cycles; i++) {
    times.pause!.push((await timed(() => stack.call('POST', `/sandboxes/${id}/pause`))).ms);
    times.resume!.push((await timed(() => stack.call('POST', `/sandboxes/${id}/resume`))).ms);
  }
  // What the API's per-create quota check costs: one visibility count per create.
  for (let i = 0; i < 30; i++) {
    times.quotaCount ??= [];
    times.quotaCount.push((await timed(() => stack.client.workflow.count(sandboxVisibilityQuery({ owner: stack.owner })))).ms);
  }
  for (const [k, v] of Object.entries(times)) console.log(k, JSON.stringify(summarize(v)), 'in order:', v.map((x) => Math.round(x)).join(' '));
  const history = await stack.client.workflow.getHandle(workflowIdFor(id)).fetchHistory();
  let prev = 0;
  for (const e of history.events ?? []) {
    const t = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
    const name = EventType[e.eventType ?? 0] ?? String(e.eventType);
    const extra = e.activityTaskScheduledEventAttributes?.activityType?.name ?? e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? '';
    console.log(`${String(e.eventId).padStart(4)} +${String(prev ? t - prev : 0).padStart(5)} ms  ${name.replace('EVENT_TYPE_', '')} ${extra}`);
    prev = t;
  }
} finally {
  await stack.stop();
  await cleanupContainers(docker, runId);
}
