import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
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
