/** The reconciler's schedule is created idempotently at worker start, follows config changes, and 0 turns it off. */
import { randomBytes } from 'node:crypto';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { deleteReconcileSchedule, ensureReconcileSchedule, reconcileScheduleId } from '../../src/temporal/reconcile-schedule.js';

let client: Client;
const scope = { hostName: 'schedule-test-host', taskQueue: `schedule-test-${randomBytes(4).toString('hex')}` };

beforeAll(async () => {
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(async () => {
  await deleteReconcileSchedule(client, scope);
  await client.connection.close();
});

it('creates the schedule once, updates it on a second start with a new config, and deletes it with interval 0', async () => {
  // Paused-in-effect: a long interval, so no sweep runs without a worker on this queue.
  await ensureReconcileSchedule(client, { ...scope, intervalMs: 3_600_000, orphanGraceMs: 60_000 });
  await ensureReconcileSchedule(client, { ...scope, intervalMs: 3_600_000, orphanGraceMs: 60_000 }); // a restart: no error
  const handle = client.schedule.getHandle(reconcileScheduleId(scope));
  let description = await handle.describe();
  expect(description.spec.intervals?.[0]?.every).toBe(3_600_000);
  expect(description.action).toMatchObject({ workflowType: 'reconcileWorkflow', taskQueue: scope.taskQueue, args: [{ orphanGraceMs: 60_000 }] });

  await ensureReconcileSchedule(client, { ...scope, intervalMs: 7_200_000, orphanGraceMs: 5000, diskLimitMB: 10 });
  description = await handle.describe();
  expect(description.spec.intervals?.[0]?.every).toBe(7_200_000);
  expect(description.action).toMatchObject({ args: [{ orphanGraceMs: 5000, diskLimitBytes: 10 * 1024 * 1024 }] });

  await ensureReconcileSchedule(client, { ...scope, intervalMs: 0, orphanGraceMs: 5000 });
  await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
});
