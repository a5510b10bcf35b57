import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ env: { BERTH_TOUCH_COALESCE_MS: '0' } });
});
afterAll(async () => {
  await stack?.stop();
});

const create = async (body: Record<string, unknown>) => {
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', ...body } });
  expect(res.status).toBe(201);
  return res.body.sandboxID as string;
};
const endAt = async (id: string) => Date.parse((await stack.api('GET', `/sandboxes/${id}`)).body.endAt);

describe('data plane and the lifecycle', () => {
  it('moves the idle deadline with every data-plane call', async () => {
    // A fresh sandbox per call: the only touch it gets is from the call under test.
    const calls: Array<[string, (id: string) => Promise<{ status: number }>]> = [
      ['run command', (id) => stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'true' } })],
      ['write file', (id) => stack.api('PUT', `/sandboxes/${id}/files?path=/tmp/a`, { body: 'x', headers: { 'content-type': 'application/octet-stream' } })],
      ['read file', (id) => stack.api('GET', `/sandboxes/${id}/files?path=/etc/hostname`)],
      ['list', (id) => stack.api('GET', `/sandboxes/${id}/files/list?path=/tmp`)],
      ['stat', (id) => stack.api('GET', `/sandboxes/${id}/files/stat?path=/etc/hostname`)],
      ['mkdir', (id) => stack.api('POST', `/sandboxes/${id}/files/mkdir`, { body: { path: '/tmp/d' } })],
      ['list commands', (id) => stack.api('GET', `/sandboxes/${id}/commands`)],
      ['metrics', (id) => stack.api('GET', `/sandboxes/${id}/metrics`)],
      ['endpoint', (id) => stack.api('GET', `/sandboxes/${id}/endpoints/8080`)],
    ];
    for (const [name, call] of calls) {
      const id = await create({ timeout: 600 });
      const before = await endAt(id);
      const res = await call(id);
      expect(res.status, name).toBeLessThan(300);
      await eventually(async () => (await endAt(id)) > before, 30_000).catch(() => {
        throw new Error(`${name} did not move the idle deadline`);
      });
      await stack.api('DELETE', `/sandboxes/${id}`);
    }
  });

  it('answers 409 for a paused sandbox without autoResume, and resumes one with it', async () => {
    const plain = await create({ timeout: 300 });
    expect((await stack.api('POST', `/sandboxes/${plain}/pause`)).status).toBe(200);
    const refused = await stack.api('POST', `/sandboxes/${plain}/commands`, { body: { cmd: 'true' } });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/resume/);
    expect((await stack.api('GET', `/sandboxes/${plain}/files?path=/etc/hostname`)).status).toBe(409);

    const auto = await create({ timeout: 300, lifecycle: { autoResume: true } });
    expect((await stack.api('POST', `/sandboxes/${auto}/pause`)).status).toBe(200);
    const ran = await stack.api('POST', `/sandboxes/${auto}/commands`, { body: { cmd: 'echo awake' } });
    expect(ran.status).toBe(200);
    expect(ran.body.stdout).toBe('awake\n');
    expect((await stack.api('GET', `/sandboxes/${auto}`)).body.status).toBe('running');

    // An agent's parallel tool calls on a paused sandbox: one resumes it, none gets a 409.
    expect((await stack.api('POST', `/sandboxes/${auto}/pause`)).status).toBe(200);
    const parallel = await Promise.all(
      Array.from({ length: 4 }, (_, i) => stack.api('POST', `/sandboxes/${auto}/commands`, { body: { cmd: `echo ${i}` } })),
    );
    expect(parallel.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(parallel.map((r) => r.body.stdout)).toEqual(['0\n', '1\n', '2\n', '3\n']);
  });

  it('answers 404 once the sandbox stopped', async () => {
    const id = await create({ timeout: 300 });
    await stack.api('DELETE', `/sandboxes/${id}`);
    expect((await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'true' } })).status).toBe(404);
    expect((await stack.api('GET', `/sandboxes/${id}/files?path=/etc/hostname`)).status).toBe(404);
    expect((await stack.api('GET', `/sandboxes/${id}/metrics`)).status).toBe(404);
    expect((await stack.api('GET', `/sandboxes/${id}/proxy/80/`)).status).toBe(404);
  });

  it('validates command requests', async () => {
    const id = await create({ timeout: 300 });
    expect((await stack.api('POST', `/sandboxes/${id}/commands`, { body: {} })).status).toBe(400);
    expect((await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'true', cwd: 'relative' } })).status).toBe(400);
    const badCwd = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'true', cwd: '/does/not/exist' } });
    expect(badCwd.status).toBe(400);
    const badUser = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'true', user: 'nobody-here' } });
    expect(badUser.status).toBe(400);
    expect((await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'true', background: true, user: 'nobody-here' } })).status).toBe(400);
  });
});
