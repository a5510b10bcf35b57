/**
 * Taking a snapshot, as a step of the sandbox's workflow: the `snapshot` update runs under the
 * lifecycle lock (exclusive with pause, resume, kill and deadlines), calls the Docker activity
 * that commits the filesystem (src/activities/snapshot.ts), and records a `snapshot` event with
 * the snapshot's ID. Only IDs and sizes enter history.
 *
 * No `patched()` gate: the only new logic runs inside the new update's handler, which histories
 * of older runs never contain, so they replay unchanged (test/workflows/replay.test.ts; the
 * `snapshot` fixture keeps later versions honest about this step).
 */
import { ApplicationFailure, proxyActivities, setHandler, type ActivityOptions } from '@temporalio/workflow';
import type { SnapshotActivities } from '../activities/snapshot.js';
import { FailureType, SNAPSHOT_ID_PATTERN, snapshotUpdate, type SandboxStatus, type SnapshotRequest, type SnapshotTaken } from './definitions.js';
import { isContainerGone } from './sandbox-activities.js';
import { now, type SandboxLifecycle } from './sandbox-lifecycle.js';

/** A commit copies the whole writable layer: minutes on a big sandbox. It heartbeats meanwhile. */
const SNAPSHOT_ACTIVITY: ActivityOptions = {
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '15 seconds',
  retry: { initialInterval: '500ms', maximumInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: [FailureType.containerGone] },
};

/** The commit runs on the sandbox's host (its own queue) when it was placed on one, else on the shared queue. */
function snapshotActivities(lc: SandboxLifecycle) {
  return proxyActivities<SnapshotActivities>({ ...SNAPSHOT_ACTIVITY, ...(lc.calls.taskQueue ? { taskQueue: lc.calls.taskQueue } : {}) });
}

/** The states a snapshot is taken in: running (frozen for the commit) or paused (committed as is). */
const SNAPSHOT_STATES: readonly SandboxStatus[] = ['running', 'paused'];

function validate(lc: SandboxLifecycle, request: SnapshotRequest): void {
  lc.requireStatus(request, SNAPSHOT_STATES, 'snapshot');
  if (typeof request.snapshotID !== 'string' || !SNAPSHOT_ID_PATTERN.test(request.snapshotID)) {
    throw ApplicationFailure.create({ type: FailureType.invalid, message: 'snapshotID must be snap_ and 20 lowercase letters or digits', nonRetryable: true });
  }
}

/** Registers the `snapshot` update (after the other messages: registration order is part of replay). */
export function registerSnapshotMessages(lc: SandboxLifecycle): void {
  setHandler(
    snapshotUpdate,
    (request) =>
      lc.lock.exclusive(async (): Promise<SnapshotTaken> => {
        validate(lc, request);
        const { spec } = lc.state;
        let result: SnapshotTaken;
        try {
          result = await snapshotActivities(lc).snapshotSandbox({ sandboxID: lc.sandboxID, snapshotID: request.snapshotID, owner: spec.owner, templateID: spec.templateID, kind: 'snapshot' });
        } catch (err) {
          // A Docker failure after the retries fails the update (the API answers 503, nothing changed).
          if (!isContainerGone(err)) throw err;
          await lc.stop('host_lost', 'container disappeared while snapshotting', lc.calls.untilDone);
          throw ApplicationFailure.create({ type: FailureType.notFound, message: `sandbox ${lc.sandboxID} was lost`, nonRetryable: true });
        }
        lc.state.note(now(), 'snapshot', result.snapshotID);
        return result;
      }),
    { validator: (request) => validate(lc, request) },
  );
}
