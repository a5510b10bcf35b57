import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../../src/ids.js';
import { SearchAttr, waitReadyUpdate } from '../../../src/workflows/definitions.js';
import type { sandboxWorkflow } from '../../../src/workflows/sandbox.js';
import { testSandboxSpec } from '../../helpers/spec.js';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ env: { BERTH_MAX_CPU_PER_OWNER: '1', BERTH_MAX_MEMORY_MB_PER_OWNER: '256' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('per-sandbox resource bounds', () => {
  it('refuses a CPU share below Docker minimum (it would become "unlimited") with a 400 naming the range', async () => {
    for (const cpu of [1e-10, 0.001, 0.009]) {
      const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', resources: { cpu } } });
      expect(res.status, `cpu ${cpu}`).toBe(400);
      expect(res.body.code).toBe('invalid_argument');
      expect(res.body.message).toMatch(/resources\.cpu must be between 0\.01 and 4 CPUs/);
    }
  });

  it('refuses memory below the documented minimum with a 400 naming the range', async () => {
    const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', resources: { memoryMB: 16 } } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/resources\.memoryMB must be between 32 and 8192 MB/);
  });

  it('accepts the minimum CPU share and really limits the container to it', async () => {
    const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', resources: { cpu: 0.01, memoryMB: 32 } } });
    expect(res.status).toBe(201);
    const inspect = await stack.docker.getContainer(res.body.sandboxID).inspect();
    expect(inspect.HostConfig.NanoCpus).toBe(10_000_000);
    expect(inspect.HostConfig.Memory).toBe(32 * 1024 * 1024);
    await stack.api('DELETE', `/sandboxes/${res.body.sandboxID}`);
  });
});

describe('per-owner CPU and memory totals', () => {
  const create = (cpu: number, memoryMB: number, as = 'alice') =>
    stack.api('POST', '/sandboxes', { as, body: { templateID: 'tiny', resources: { cpu, memoryMB } } });
  const kill = (id: string, as = 'alice') => stack.api('DELETE', `/sandboxes/${id}`, { as });

  it('refuses a create that would take the owner past its CPU or memory total (429 naming use and limit)', async () => {
    const a = await create(0.5, 64);
    const b = await create(0.5, 64);
    expect([a.status, b.status]).toEqual([201, 201]);
    const overCpu = await create(0.25, 32);
    expect(overCpu.status).toBe(429);
    expect(overCpu.body.code).toBe('quota_exceeded');
    expect(overCpu.body.message).toMatch(/has 1 CPUs in live sandboxes; 0\.25 more would exceed the limit of 1 \(BERTH_MAX_CPU_PER_OWNER\)/);
    // Another owner has its own totals.
    const bob = await create(1, 64, 'bob');
    expect(bob.status).toBe(201);

    // Once a sandbox stops, its share is free again; memory is counted the same way.
    await kill(b.body.sandboxID);
    const overMemory = await eventually(async () => {
      const r = await create(0.25, 200);
      return r.status === 429 && /memory/.test(r.body.message) ? r : undefined;
    });
    expect(overMemory.body.message).toMatch(/has 64 MB of memory in live sandboxes; 200 MB more would exceed the limit of 256 MB \(BERTH_MAX_MEMORY_MB_PER_OWNER\)/);
    const fits = await create(0.5, 192);
    expect(fits.status).toBe(201);
    await Promise.all([kill(a.body.sandboxID), kill(fits.body.sandboxID), kill(bob.body.sandboxID, 'bob')]);
  });

  it('counts creates in flight, so parallel creates cannot all pass on the same total', async () => {
    await eventually(async () => (await stack.api('GET', '/sandboxes')).body.sandboxes.length === 0);
    const results = await Promise.all([1, 2, 3, 4].map(() => create(0.4, 32)));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(2);
    expect(results.filter((r) => r.status === 429)).toHaveLength(2);
    await Promise.all(created.map((r) => kill(r.body.sandboxID)));
  });

  it('counts sandboxes started without the resource search attributes (older berth) by asking them', async () => {
    await eventually(async () => (await stack.api('GET', '/sandboxes')).body.sandboxes.length === 0);
    const owner = stack.owners.alice ?? '';
    const spec = testSandboxSpec(owner, { resources: { cpu: 0.5, memoryMB: 32 } });
    const handle = await stack.client.workflow.start<typeof sandboxWorkflow>('sandboxWorkflow', {
      workflowId: workflowIdFor(spec.sandboxID),
      taskQueue: stack.config.temporal.taskQueue,
      args: [{ spec }],
      typedSearchAttributes: [
        { key: SearchAttr.owner, value: owner },
        { key: SearchAttr.state, value: 'creating' },
      ],
    });
    await handle.executeUpdate(waitReadyUpdate, { args: [{ owner }] });
    const over = await create(0.75, 32);
    expect(over.status).toBe(429);
    expect(over.body.message).toMatch(/has 0\.5 CPUs in live sandboxes/);
    expect((await create(0.5, 32)).status).toBe(201);
    const list = await stack.api('GET', '/sandboxes');
    await Promise.all(list.body.sandboxes.map((sbx: { sandboxID: string }) => kill(sbx.sandboxID)));
  });
});
