/**
 * `lifecycle.timeoutMode: 'absolute'` on the real Temporal dev server and the real Docker
 * engine, with millisecond-scale durations: interactions and leases never move the deadline,
 * setTimeout may shorten it, refresh and connect only extend it, onTimeout pause applies.
 * Assertions are about order and exactness (never stopped early, right reason), never speed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectUpdate,
  eventsQuery,
  infoQuery,
  leaseSignal,
  refreshUpdate,
  resumeUpdate,
  setTimeoutUpdate,
  touchSignal,
  type LifecyclePolicy,
  type SandboxResult,
} from '../../src/workflows/definitions.js';
import { sleep, startWorkflowTestEnv, type WorkflowTestEnv } from '../helpers/workflow-env.js';

let t: WorkflowTestEnv;
beforeAll(async () => {
  t = await startWorkflowTestEnv();
});
afterAll(async () => {
  await t?.stop();
});

const ms = (iso: string | null) => (iso ? Date.parse(iso) : NaN);
const absolute = (over: Partial<LifecyclePolicy> = {}): LifecyclePolicy => ({ onTimeout: 'kill', autoResume: false, timeoutMode: 'absolute', ...over });

describe('absolute timeout', () => {
  it('stops at start + timeout while it is still being touched and a client holds a lease', async () => {
    const { handle, info } = await t.startSandbox({ idleTimeoutMs: 3000, lifecycle: absolute() });
    expect(info).toMatchObject({ timeoutMode: 'absolute', lifecycle: { timeoutMode: 'absolute' } });
    expect(ms(info.endAt) - ms(info.startedAt)).toBe(3000);
    await handle.signal(leaseSignal, { leaseID: 'attached', durationMs: 60_000 });
    let done = false;
    const result = handle.result().finally(() => (done = true)) as Promise<SandboxResult>;
    // Idle rules would keep this sandbox alive for as long as the loop runs (20 s).
    const giveUpAt = Date.now() + 20_000;
    while (!done && Date.now() < giveUpAt) {
      await handle.signal(touchSignal).catch(() => undefined); // the run may have just ended
      const now = await handle.query(infoQuery);
      if (now.status === 'running') expect(ms(now.endAt)).toBe(ms(info.endAt));
      await sleep(300);
    }
    expect(done).toBe(true);
    const { info: final, events } = await result;
    expect(final.stopReason).toBe('absolute_timeout');
    expect(ms(final.stoppedAt)).toBeGreaterThanOrEqual(ms(info.endAt));
    expect(events.map((e) => `${e.status}:${e.reason}`)).toEqual(['creating:created', 'running:provisioned', 'stopped:absolute_timeout']);
    await expect(t.docker.getContainer(final.sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('setTimeout may shorten the deadline; refresh and connect never shorten it', async () => {
    const { handle, info } = await t.startSandbox({ idleTimeoutMs: 60_000, lifecycle: absolute() });
    const refreshed = await handle.executeUpdate(refreshUpdate, { args: [{ owner: t.owner, durationMs: 1000 }] });
    expect(ms(refreshed.endAt)).toBe(ms(info.endAt)); // not shortened
    const connected = await handle.executeUpdate(connectUpdate, { args: [{ owner: t.owner, timeoutMs: 1000 }] });
    expect(ms(connected.endAt)).toBe(ms(info.endAt)); // not shortened either
    const before = Date.now();
    const extended = await handle.executeUpdate(connectUpdate, { args: [{ owner: t.owner, timeoutMs: 120_000 }] });
    expect(ms(extended.endAt)).toBeGreaterThanOrEqual(before + 120_000);
    const shortened = await handle.executeUpdate(setTimeoutUpdate, { args: [{ owner: t.owner, timeoutMs: 1500 }] });
    expect(shortened.timeout).toBe(2); // 1.5 s rounds to 2 in the view
    expect(ms(shortened.endAt)).toBeLessThan(ms(info.endAt)); // shortened
    await handle.signal(touchSignal);
    expect(ms((await handle.query(infoQuery)).endAt)).toBe(ms(shortened.endAt));
    const result = (await handle.result()) as SandboxResult;
    expect(result.info.stopReason).toBe('absolute_timeout');
    expect(ms(result.info.stoppedAt)).toBeGreaterThanOrEqual(ms(shortened.endAt));
  });

  it('pauses at the deadline with onTimeout=pause; a resume starts a fresh now + timeout', async () => {
    const { handle, sandboxID } = await t.startSandbox({ idleTimeoutMs: 1500, lifecycle: absolute({ onTimeout: 'pause', autoResume: true }) });
    const giveUpAt = Date.now() + 20_000;
    while ((await handle.query(infoQuery)).status !== 'paused' && Date.now() < giveUpAt) {
      await handle.signal(touchSignal);
      await sleep(200);
    }
    const paused = await handle.query(infoQuery);
    expect(paused.status).toBe('paused');
    expect((await t.docker.getContainer(sandboxID).inspect()).State.Paused).toBe(true);
    const before = Date.now();
    const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ owner: t.owner, reason: 'auto_resume' }] });
    expect(resumed.status).toBe('running');
    expect(ms(resumed.endAt)).toBeGreaterThanOrEqual(before + 1500);
    const events = await handle.query(eventsQuery);
    expect(events.slice(0, 4).map((e) => `${e.status}:${e.reason}`)).toEqual([
      'creating:created',
      'running:provisioned',
      'paused:absolute_timeout',
      'running:auto_resume',
    ]);
  });

  it('idle sandboxes show timeoutMode idle', async () => {
    const { info } = await t.startSandbox({ idleTimeoutMs: 60_000 });
    expect(info).toMatchObject({ timeoutMode: 'idle', lifecycle: { onTimeout: 'kill', autoResume: false, timeoutMode: 'idle' } });
  });
});
