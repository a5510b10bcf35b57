/**
 * One workflow per Docker host, on the shared queue: its worker's heartbeats (signals) keep it
 * alive; silent past the grace period, the host is lost and an activity (any worker: it only
 * talks to Temporal) tells each of its live sandboxes to stop with `host_lost`. A heartbeat
 * after that makes the host usable again (its old containers are orphans the host's
 * reconciler removes). Deterministic: workflow time, one durable timer re-armed per heartbeat.
 */
import { condition, continueAsNew, log, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { HostActivities } from '../activities/host-lost.js';
import { hostDrainUpdate, hostHeartbeatSignal, hostInfoQuery, type HostInfo, type HostWorkflowInput } from './host-definitions.js';

const { stopSandboxesOfLostHost } = proxyActivities<HostActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumInterval: '30s' },
});

/** continueAsNew past this many events (a heartbeat costs about three). */
const HISTORY_LIMIT = 3000;

function now(): number {
  // eslint-disable-next-line no-restricted-properties
  return Date.now();
}

export async function hostWorkflow(input: HostWorkflowInput): Promise<void> {
  const info: HostInfo = input.state ?? { host: input.host, report: null, lastSeenMs: null, drained: false, lost: false, lostAtMs: null, graceMs: input.graceMs };
  info.graceMs = input.graceMs;
  let beats = 0;
  setHandler(hostHeartbeatSignal, (report) => {
    info.report = report;
    info.lastSeenMs = now();
    if (info.lost) log.info('lost host is back', { host: info.host });
    info.lost = false;
    info.lostAtMs = null;
    beats++;
  });
  setHandler(hostDrainUpdate, ({ drained }) => {
    info.drained = drained;
    return { ...info };
  });
  setHandler(hostInfoQuery, () => ({ ...info }));

  for (;;) {
    setCurrentDetails(`**${info.lost ? 'lost' : info.drained ? 'drained' : 'up'}** · engine ${info.report?.engineID ?? '?'} · last seen ${info.lastSeenMs ? new Date(info.lastSeenMs).toISOString() : 'never'}`);
    if (workflowInfo().historyLength > HISTORY_LIMIT) {
      return continueAsNew<typeof hostWorkflow>({ host: input.host, graceMs: input.graceMs, state: info });
    }
    const seen = beats;
    if (info.lost || info.lastSeenMs === null) {
      await condition(() => beats !== seen || workflowInfo().historyLength > HISTORY_LIMIT);
      continue;
    }
    const silentForMs = now() - info.lastSeenMs;
    const heard = await condition(() => beats !== seen, Math.max(1, info.graceMs - silentForMs), { summary: `host ${info.host} lost unless it reports` });
    if (heard || now() - info.lastSeenMs < info.graceMs) continue;
    info.lost = true;
    info.lostAtMs = now();
    const detail = `host ${info.host} silent for ${Math.round((now() - info.lastSeenMs) / 1000)} s (grace ${Math.round(info.graceMs / 1000)} s)`;
    log.warn('host lost', { host: info.host, detail });
    await stopSandboxesOfLostHost({ host: info.host, sharedQueue: workflowInfo().taskQueue, detail });
  }
}
