/**
 * Finding 6: an attached client never sees its sandbox stop under it, even when the idle
 * timeout is shortened while it is attached; once it detaches, the normal idle deadline applies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('keep-alive follows the current timeout', () => {
  it('a foreground command survives POST /timeout shortening the timeout under it; idle applies after it ends', async () => {
    const created = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600 } });
    expect(created.status).toBe(201);
    const id = created.body.sandboxID as string;
    const command = stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'sleep 12; echo survived' } });
    // Let the command attach, then shorten the idle timeout far below its run time.
    await new Promise((r) => setTimeout(r, 1500));
    const shortened = await stack.api('POST', `/sandboxes/${id}/timeout`, { body: { timeout: 2 } });
    expect(shortened.status).toBe(200);
    const res = await command;
    const detachedAtMs = Date.now();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ exitCode: 0, stdout: 'survived\n' });
    const after = await stack.api('GET', `/sandboxes/${id}`);
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('running');
    // Detached: the 2 s idle timeout applies again and the sandbox stops for idleness.
    await eventually(async () => (await stack.api('GET', `/sandboxes/${id}`)).status === 404, 60_000, 250);
    const events = await stack.api('GET', `/sandboxes/${id}/events`);
    const stop = events.body.events.at(-1);
    expect(stop).toMatchObject({ status: 'stopped', reason: 'idle_timeout' });
    // The released lease no longer holds it: it stopped before that lease (30 s, renewed at 10 s) would have ended.
    expect(Date.parse(stop.at)).toBeLessThan(detachedAtMs + 20_000);
  });

  it('max lifetime still wins over an attached client', async () => {
    const lifetimeStack = await startStack({ env: { BERTH_MAX_LIFETIME_MS: '4000' } });
    try {
      const created = await lifetimeStack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600 } });
      expect(created.status).toBe(201);
      const id = created.body.sandboxID as string;
      const res = await lifetimeStack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'sleep 30; echo survived' } });
      // The container is destroyed under the command: it does not finish normally.
      expect(res.body.stdout ?? '').not.toContain('survived');
      const last = await eventually(async () => {
        const events = await lifetimeStack.api('GET', `/sandboxes/${id}/events`);
        const event = events.body.events.at(-1);
        return event.status === 'stopped' && event;
      });
      expect(last).toMatchObject({ status: 'stopped', reason: 'max_lifetime' });
    } finally {
      await lifetimeStack.stop();
    }
  });
});
