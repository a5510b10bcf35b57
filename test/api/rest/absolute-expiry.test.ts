/**
 * `lifecycle.timeoutMode` over berth's REST API (real Temporal, real Docker): the view shows
 * the mode and the deadline really enforced; commands do not move an absolute deadline;
 * POST /timeout may shorten it, POST /refreshes never does.
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

const ms = (iso: string | null) => (iso ? Date.parse(iso) : NaN);
const sleep = (msToWait: number) => new Promise((r) => setTimeout(r, msToWait));

describe('lifecycle.timeoutMode over REST', () => {
  it('shows timeoutMode and the enforced endAt; commands do not move it, and it stops at endAt while busy', async () => {
    const created = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 4, lifecycle: { timeoutMode: 'absolute' } } });
    expect(created.status).toBe(201);
    const sb = created.body;
    expect(sb).toMatchObject({ timeout: 4, timeoutMode: 'absolute', lifecycle: { onTimeout: 'kill', autoResume: false, timeoutMode: 'absolute' } });
    expect(ms(sb.endAt) - ms(sb.startedAt)).toBe(4000);
    // Busy the whole time: under idle rules these commands would keep it alive for the whole loop.
    const giveUpAt = Date.now() + 30_000;
    let gone = false;
    while (!gone && Date.now() < giveUpAt) {
      const ran = await stack.api('POST', `/sandboxes/${sb.sandboxID}/commands`, { body: { cmd: 'true' } });
      const got = await stack.api('GET', `/sandboxes/${sb.sandboxID}`);
      gone = ran.status === 404 || got.status === 404;
      if (!gone && got.body.status === 'running') expect(ms(got.body.endAt)).toBe(ms(sb.endAt));
      await sleep(200);
    }
    expect(gone).toBe(true);
    // A command can already answer 404 while the expiry's destroy runs (its container is being
    // removed); the stop is recorded once the destroy is done.
    const stop = await eventually(async () => {
      const events = await stack.api('GET', `/sandboxes/${sb.sandboxID}/events`);
      const last = events.body.events.at(-1);
      return last?.status === 'stopped' ? last : undefined;
    });
    expect(stop).toMatchObject({ status: 'stopped', reason: 'absolute_timeout' });
    expect(ms(stop.at)).toBeGreaterThanOrEqual(ms(sb.endAt));
  });

  it('POST /timeout sets endAt = now + timeout (may shorten); POST /refreshes never shortens', async () => {
    const { body: sb } = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600, lifecycle: { timeoutMode: 'absolute' } } });
    const refreshed = await stack.api('POST', `/sandboxes/${sb.sandboxID}/refreshes`, { body: { duration: 5 } });
    expect(refreshed.status).toBe(200);
    expect(ms(refreshed.body.endAt)).toBe(ms(sb.endAt));
    const before = Date.now();
    const shortened = await stack.api('POST', `/sandboxes/${sb.sandboxID}/timeout`, { body: { timeout: 60 } });
    expect(shortened.status).toBe(200);
    expect(shortened.body).toMatchObject({ timeout: 60, timeoutMode: 'absolute' });
    expect(ms(shortened.body.endAt)).toBeGreaterThanOrEqual(before + 60_000);
    expect(ms(shortened.body.endAt)).toBeLessThan(ms(sb.endAt));
    expect((await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`)).status).toBe(204);
  });

  it('defaults to idle, and refuses an unknown mode with a 400 that names the choices', async () => {
    const { body: sb } = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 60 } });
    expect(sb).toMatchObject({ timeoutMode: 'idle', lifecycle: { timeoutMode: 'idle' } });
    expect((await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`)).status).toBe(204);
    const bad = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', lifecycle: { timeoutMode: 'wallclock' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_argument');
    expect(bad.body.message).toMatch(/idle.*absolute/);
  });
});
