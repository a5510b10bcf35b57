/**
 * envd calls are interactions: they pass the gate (auto-resume of a paused sandbox, or a clear
 * error without it) and an attached stream keeps its sandbox alive past its idle timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { output, serverStream, unary } from '../../helpers/envd.js';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', ...body } });
  expect(res.status).toBe(201);
  return res.body.sandboxID as string;
}

describe('envd and the sandbox lifecycle', () => {
  it('a process stream keeps its sandbox alive past the idle timeout; idle applies once it detaches', async () => {
    const id = await create({ timeout: 2 });
    const t = { stack, sandboxID: id };
    const res = await serverStream(t, 'process.Process/Start', { process: { cmd: '/bin/sh', args: ['-c', 'sleep 8; echo survived'] }, stdin: false });
    expect(output(res.messages, 'stdout')).toBe('survived\n');
    expect((await stack.api('GET', `/sandboxes/${id}`)).body.status).toBe('running');
    await eventually(async () => (await stack.api('GET', `/sandboxes/${id}`)).status === 404, 60_000, 250);
    // The sandbox is gone: envd says so with a Connect code.
    expect(await unary(t, 'process.Process/List', {})).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('resumes a paused sandbox created with autoResume; without it answers failed_precondition', async () => {
    const auto = await create({ timeout: 300, lifecycle: { autoResume: true } });
    expect((await stack.api('POST', `/sandboxes/${auto}/pause`)).status).toBe(200);
    const stat = await unary({ stack, sandboxID: auto }, 'filesystem.Filesystem/Stat', { path: '/tmp' });
    expect(stat.status).toBe(200);
    expect((await stack.api('GET', `/sandboxes/${auto}`)).body.status).toBe('running');

    const manual = await create({ timeout: 300 });
    expect((await stack.api('POST', `/sandboxes/${manual}/pause`)).status).toBe(200);
    const refused = await unary({ stack, sandboxID: manual }, 'filesystem.Filesystem/Stat', { path: '/tmp' });
    expect(refused).toMatchObject({ status: 400, body: { code: 'failed_precondition', message: expect.stringContaining('paused') } });
    const stream = await serverStream({ stack, sandboxID: manual }, 'process.Process/Start', { process: { cmd: '/bin/true' } });
    expect(stream.trailer.error.code).toBe('failed_precondition');
  });

  it('/health of a named sandbox: 204 running, 502 "was not found" paused (not resumed) or stopped, 204 without credentials', async () => {
    const id = await create({ timeout: 300, lifecycle: { autoResume: true } });
    const health = (headers: Record<string, string>) => fetch(`${stack.envdUrl}/health`, { headers });
    const mine = { 'x-api-key': stack.keys.alice!, 'e2b-sandbox-id': id };
    expect((await health(mine)).status).toBe(204);
    expect((await health({})).status).toBe(204);
    expect((await stack.api('POST', `/sandboxes/${id}/pause`)).status).toBe(200);
    const paused = await health(mine);
    expect(paused.status).toBe(502);
    expect(((await paused.json()) as { message: string }).message).toContain('was not found');
    expect((await stack.api('GET', `/sandboxes/${id}`)).body.status).toBe('paused');
    expect((await health({ 'x-api-key': stack.keys.bob!, 'e2b-sandbox-id': id })).status).toBe(502);
    expect((await stack.api('DELETE', `/sandboxes/${id}`)).status).toBeLessThan(300);
    expect((await health(mine)).status).toBe(502);
    expect((await health({ 'x-api-key': 'wrong-key-123', 'e2b-sandbox-id': id })).status).toBe(401);
  });
});

describe('stream cap', () => {
  it('envd streams count against BERTH_MAX_STREAMS_PER_OWNER (resource_exhausted), and give their slot back', async () => {
    const capped = await startStack({ env: { BERTH_MAX_STREAMS_PER_OWNER: '1' } });
    try {
      const res = await capped.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300 } });
      const t = { stack: capped, sandboxID: res.body.sandboxID as string };
      let second: Awaited<ReturnType<typeof serverStream>> | undefined;
      const first = await serverStream(t, 'process.Process/Start', { process: { cmd: '/bin/sh', args: ['-c', 'sleep 2; echo first'] }, stdin: false }, {
        onMessage: async (m) => {
          if (m.event?.start) second = await serverStream(t, 'process.Process/Start', { process: { cmd: '/bin/true' }, stdin: false });
        },
      });
      expect(output(first.messages, 'stdout')).toBe('first\n');
      expect(second?.trailer.error).toMatchObject({ code: 'resource_exhausted', message: expect.stringContaining('BERTH_MAX_STREAMS_PER_OWNER') });
      // The first stream ended: its slot is free again.
      await eventually(async () => {
        const again = await serverStream(t, 'process.Process/Start', { process: { cmd: '/bin/sh', args: ['-c', 'echo again'] }, stdin: false });
        return output(again.messages, 'stdout') === 'again\n';
      });
    } finally {
      await capped.stop();
    }
  });
});
