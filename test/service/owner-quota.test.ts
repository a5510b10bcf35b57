/**
 * The per-owner quota's cheap path (one count per create) and its exact path (list and sum),
 * against the real Temporal visibility of a real stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuotaExceededError } from '../../src/errors.js';
import { OwnerQuota, type OwnerLimits } from '../../src/service/owner-quota.js';
import { eventually, startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
const live: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  for (const memoryMB of [64, 96]) {
    const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', resources: { cpu: 0.5, memoryMB } } });
    expect(res.status).toBe(201);
    live.push(res.body.sandboxID);
  }
  // Visibility lags the create: wait until the owner's two sandboxes are listed.
  await eventually(async () => (await stack.api('GET', '/sandboxes')).body.sandboxes.length === 2);
});
afterAll(async () => {
  await Promise.all(live.map((id) => stack.api('DELETE', `/sandboxes/${id}`)));
  await stack?.stop();
});

const quota = (limits: Partial<OwnerLimits>) =>
  new OwnerQuota(stack.client, stack.config.temporal.namespace, {
    maxSandboxesPerOwner: 100,
    maxCpuPerOwner: 1000,
    maxMemoryMBPerOwner: 1_000_000,
    maxCpu: 4,
    maxMemoryMB: 8192,
    ...limits,
  });
const small = { cpu: 0.5, memoryMB: 64 };

describe('owner quota at scale', () => {
  it('with room to spare, a create costs one count (no listing) and the count limit still holds, in-flight creates included', async () => {
    const owner = stack.owners.alice ?? '';
    const q = quota({ maxSandboxesPerOwner: 4 });
    await q.reserve(owner, 'flight-1', small); // 2 live + this one
    await q.reserve(owner, 'flight-2', small); // 2 live + 1 in flight + this one = 4
    const third = q.reserve(owner, 'flight-3', small);
    await expect(third).rejects.toBeInstanceOf(QuotaExceededError);
    await expect(third).rejects.toThrow(/already has 4 live sandboxes \(limit 4\)/);
    expect(q.checks).toEqual({ count: 2, list: 0 });
    // Once one in-flight create ends, there is room again.
    q.release(owner, 'flight-1');
    await q.reserve(owner, 'flight-3', small);
    expect(q.checks.list).toBe(0);
  });

  it('lists and sums only when the count times the per-sandbox maximum could pass a limit, and then refuses exactly', async () => {
    const owner = stack.owners.alice ?? '';
    // 2 live × 4 CPUs could exceed 2 CPUs: the exact path sums 0.5 + 0.5 = 1 CPU and 160 MB.
    const q = quota({ maxCpuPerOwner: 2, maxMemoryMBPerOwner: 300 });
    await q.reserve(owner, 'exact-1', { cpu: 1, memoryMB: 64 });
    expect(q.checks).toEqual({ count: 0, list: 1 });
    await expect(q.reserve(owner, 'exact-2', { cpu: 0.25, memoryMB: 32 })).rejects.toThrow(/has 2 CPUs in live sandboxes; 0\.25 more would exceed the limit of 2/);
    await expect(q.reserve(owner, 'exact-3', { cpu: 0, memoryMB: 100 })).rejects.toThrow(/has 224 MB of memory/);
    // Another owner (no live sandboxes) stays on the cheap path.
    const bob = quota({ maxCpuPerOwner: 2, maxMemoryMBPerOwner: 300 });
    await bob.reserve(stack.owners.bob ?? '', 'bob-1', { cpu: 1, memoryMB: 64 });
    expect(bob.checks).toEqual({ count: 1, list: 0 });
  });
});
