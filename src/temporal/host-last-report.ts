/**
 * The newest heartbeat a host's workflow received, read from the workflow's history (newest
 * event first). Unlike a query, this needs no worker: a query waits for a worker polling the
 * shared queue, and when the only worker is the one starting (a restart after a crash), no one
 * answers until the server gives up (about 30 s). Registration reads this instead.
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { tsToMs } from '@temporalio/common/lib/time.js';
import type { temporal } from '@temporalio/proto';
import { hostHeartbeatSignal, type HostReport, type HostWorkflowInput } from '../workflows/host-definitions.js';

/** The last report and when the workflow received it (epoch ms). */
export interface LastHostReport {
  report: HostReport;
  seenAtMs: number;
}

const PAGE_SIZE = 50;
/** A heartbeat costs about three events; the newest one is within the first page unless something else is going on. */
const MAX_PAGES = 20;
const GRPC_NOT_FOUND = 5;

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function closes(event: HistoryEvent): boolean {
  return Boolean(
    event.workflowExecutionCompletedEventAttributes ??
      event.workflowExecutionFailedEventAttributes ??
      event.workflowExecutionTimedOutEventAttributes ??
      event.workflowExecutionTerminatedEventAttributes ??
      event.workflowExecutionCanceledEventAttributes ??
      event.workflowExecutionContinuedAsNewEventAttributes,
  );
}

/**
 * The newest report of the host workflow's current run (a run continued as new starts with the
 * previous run's state). Null when the workflow does not exist, is closed, or never had one.
 */
export async function lastHostReport(client: Client, workflowId: string): Promise<LastHostReport | null> {
  const converter = client.options.loadedDataConverter;
  let nextPageToken: Uint8Array | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    let events: HistoryEvent[];
    try {
      const res = await client.workflowService.getWorkflowExecutionHistoryReverse({
        namespace: client.options.namespace,
        execution: { workflowId },
        maximumPageSize: PAGE_SIZE,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      events = res.history?.events ?? [];
      nextPageToken = res.nextPageToken?.length ? res.nextPageToken : undefined;
    } catch (err) {
      if (isGrpcServiceError(err) && err.code === GRPC_NOT_FOUND) return null;
      throw err;
    }
    for (const [i, event] of events.entries()) {
      if (page === 0 && i === 0 && closes(event)) return null;
      const signaled = event.workflowExecutionSignaledEventAttributes;
      if (signaled?.signalName === hostHeartbeatSignal.name) {
        const report = await decodeFromPayloadsAtIndex<HostReport>(converter, 0, signaled.input?.payloads);
        return { report, seenAtMs: tsToMs(event.eventTime) };
      }
      const started = event.workflowExecutionStartedEventAttributes;
      if (started) {
        const input = await decodeFromPayloadsAtIndex<HostWorkflowInput>(converter, 0, started.input?.payloads);
        const state = input.state;
        return state?.report && state.lastSeenMs !== null ? { report: state.report, seenAtMs: state.lastSeenMs } : null;
      }
    }
    if (!nextPageToken) return null;
  }
  return null;
}
