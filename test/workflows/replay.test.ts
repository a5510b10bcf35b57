/**
 * Sandboxes outlive deployments: a new version of the workflow must replay the histories of
 * runs an older version started (otherwise those sandboxes get stuck on a nondeterminism
 * error after an upgrade). The fixtures were recorded with an older berth by
 * test/fixtures/record-histories.ts; each covers a path whose rules changed since (and
 * leases-and-container-checks and absolute-expiry paths a later version must keep).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { expect, inject, it } from 'vitest';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/histories');
const names = readdirSync(FIXTURES).filter((f) => f.endsWith('.binpb'));

it('has recorded histories to replay', () => {
  expect(names).toEqual(
    expect.arrayContaining([
      'lifecycle-calls.binpb',
      'idle-timeout.binpb',
      'concurrent-pause-kill.binpb',
      'touches-continue-as-new.binpb',
      // recorded with the 'container-checks-and-leases' patch: later versions must keep replaying it
      'leases-and-container-checks.binpb',
      // recorded with the 'absolute-expiry' patch (lifecycle.timeoutMode 'absolute')
      'absolute-expiry.binpb',
      // recorded with the 'local-pause-resume' patch (a caller's pause / resume as local activities)
      'local-pause-resume-lifecycle-calls.binpb',
      'local-pause-resume-connect-resume-bulk.binpb',
      'local-pause-resume-concurrent-pause-kill.binpb',
      // recorded with the 'per-host-queues' patch (spec.host: Docker calls on the host's queue)
      'per-host-queues.binpb',
      'host-lost.binpb',
      // recorded with the 'snapshot' update (snapshots of a running and a paused sandbox)
      'snapshot.binpb',
      // recorded with the 'pause-to-disk' patch (pause mode disk, lifecycle.pauseMode)
      'pause-to-disk.binpb',
      // recorded with the 'warm-pool-local-claim' patch (a pooled create claims in its first workflow task)
      'warm-pool-local-claim.binpb',
      'warm-pool-local-miss.binpb',
      // recorded with the 'reconcile-on-host-queue' patch (a reconciler sweep on the host's queue)
      'reconcile-on-host-queue.binpb',
      // the per-host-queues scenario recorded with the 'local-pause-resume-on-host' patch (a placed
      // sandbox's pause / resume as local activities on its host's worker)
      'local-pause-resume-on-host.binpb',
      // the same patch on a worker of another host: local calls refused, activity tasks on the host's queue
      'local-pause-resume-wrong-host.binpb',
    ]),
  );
});

it('the per-host-queues fixture sent every Docker call to its host\'s queue; older fixtures to the shared queue', () => {
  const read = (name: string) => proto.temporal.api.history.v1.History.decode(readFileSync(path.join(FIXTURES, name)));
  const queuesOf = (name: string) =>
    read(name)
      .events.filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name ?? '');
  const started = (name: string) => read(name).events[0]?.workflowExecutionStartedEventAttributes?.taskQueue?.name ?? '';
  const routed = queuesOf('per-host-queues.binpb');
  expect(routed.length).toBeGreaterThanOrEqual(4); // provision, pause, resume, inspect, destroy
  expect(new Set(routed)).toEqual(new Set([`${started('per-host-queues.binpb')}-host-record-host`]));
  expect(new Set(queuesOf('lifecycle-calls.binpb'))).toEqual(new Set([started('lifecycle-calls.binpb')]));
  const markers = read('per-host-queues.binpb').events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
  expect(markers.length).toBeGreaterThan(0);
});

it('the warm-pool fixtures claimed inside the first workflow task, or provisioned with an activity when the pool was empty', () => {
  const read = (name: string) => proto.temporal.api.history.v1.History.decode(readFileSync(path.join(FIXTURES, name)));
  const firstTask = (name: string) => {
    const events = read(name).events;
    const end = events.findIndex((e, i) => i > 3 && e.workflowTaskScheduledEventAttributes);
    return events.slice(0, end);
  };
  const claimed = firstTask('warm-pool-local-claim.binpb');
  expect(claimed.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
  expect(claimed.some((e) => e.activityTaskScheduledEventAttributes)).toBe(false);
  expect(read('warm-pool-local-claim.binpb').events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'provisionSandbox')).toBe(false);
  const missed = firstTask('warm-pool-local-miss.binpb');
  expect(missed.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
  expect(missed.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean)).toEqual(['provisionSandbox']);
});

it("the reconcile-on-host-queue fixture swept on the host's queue, behind the patch marker, and completed", () => {
  const history = proto.temporal.api.history.v1.History.decode(readFileSync(path.join(FIXTURES, 'reconcile-on-host-queue.binpb')));
  const started = history.events[0]?.workflowExecutionStartedEventAttributes;
  expect(started?.workflowType?.name).toBe('reconcileWorkflow');
  const sweeps = history.events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sweepContainers');
  expect(sweeps.map((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name)).toEqual([`${started?.taskQueue?.name ?? ''}-host-record-host`]);
  const patches = history.events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
  expect(patches.length).toBe(1);
  expect(history.events.some((e) => e.workflowExecutionCompletedEventAttributes)).toBe(true);
});

it('the local-pause-resume-on-host fixtures: local on the host\'s worker, refused then an activity task on another host\'s; per-host-queues as activity tasks', () => {
  const read = (name: string) => proto.temporal.api.history.v1.History.decode(readFileSync(path.join(FIXTURES, name)));
  const scheduled = (name: string) => read(name).events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? ''] : []));
  const localMarkers = (name: string) => read(name).events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
  expect(scheduled('local-pause-resume-on-host.binpb')).not.toContain('pauseSandbox');
  expect(scheduled('local-pause-resume-on-host.binpb')).not.toContain('resumeSandbox');
  expect(localMarkers('local-pause-resume-on-host.binpb')).toBe(2);
  expect(scheduled('per-host-queues.binpb')).toEqual(expect.arrayContaining(['pauseSandbox', 'resumeSandbox']));
  expect(localMarkers('per-host-queues.binpb')).toBe(0);
  // Refused by a worker of another host: a marker each, then the activity task on the host's queue.
  expect(localMarkers('local-pause-resume-wrong-host.binpb')).toBe(2);
  const started = read('local-pause-resume-wrong-host.binpb').events[0]?.workflowExecutionStartedEventAttributes?.taskQueue?.name ?? '';
  const routed = read('local-pause-resume-wrong-host.binpb').events.filter((e) => ['pauseSandbox', 'resumeSandbox'].includes(e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''));
  expect(routed.map((e) => e.activityTaskScheduledEventAttributes?.taskQueue?.name)).toEqual([`${started}-host-record-other`, `${started}-host-record-other`]);
});

for (const name of names) {
  it(`replays ${name} from an older version without a nondeterminism error`, async () => {
    const history = proto.temporal.api.history.v1.History.decode(readFileSync(path.join(FIXTURES, name)));
    expect(history.events.length).toBeGreaterThan(10);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, `replay-${name}`);
  });
}
