/**
 * The E2B control plane driven by the real, unmodified clients (e2b Python, e2b npm,
 * agentbox) against a live stack: real Temporal, real Docker.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type TestStack } from '../../helpers/stack.js';
import { runAgentboxDebug, runE2BNode, runE2BPython, startE2BStack } from './harness.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startE2BStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('e2b Python SDK', () => {
  it('create with metadata/envs → get_info → set_timeout → pause → connect resumes → list by metadata → metrics → kill → kill again is False', async () => {
    const tag = randomBytes(4).toString('hex');
    const run = await runE2BPython(stack, 'e2b_control.py', [tag]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.sandbox_id).toMatch(/^[a-z0-9]{20}$/);
    expect(r.info).toMatchObject({ sandbox_id: r.sandbox_id, template_id: 'base', metadata: { suite: 'e2b-py', tag }, state: 'running' });
    expect(r.info.end_at - r.info.started_at).toBeGreaterThan(110);
    // set_timeout(60): endAt = now + 60 (it shortened the 120 s one).
    expect(Math.abs(r.end_at_after_set_timeout - (r.now_after_set_timeout + 60))).toBeLessThan(5);
    expect(r.pause).toBe(true);
    expect(r.state_after_pause).toBe('paused');
    expect(r.pause_again).toBe(false);
    expect(r.connect_id).toBe(r.sandbox_id);
    expect(r.state_after_connect).toBe('running');
    expect(r.listed).toEqual([r.sandbox_id]);
    expect(r.listed_paused).toEqual([]);
    expect(r.metrics.length).toBeGreaterThan(0);
    expect(r.metrics[0].mem_total).toBeGreaterThan(0);
    expect(r.kill).toBe(true);
    expect(r.kill_again).toBe(false);
    expect(r.kill_by_id).toBe(false);
    expect(r.get_after_kill).toBe('SandboxNotFoundException');
    // berth agrees: the sandbox is gone and its container removed.
    expect((await stack.api('GET', `/sandboxes/${r.sandbox_id}`)).status).toBe(404);
    await eventually(async () => (await stack.docker.listContainers({ all: true, filters: { label: [`berth.sandbox=${r.sandbox_id}`] } })).length === 0);
  });
});

describe('e2b Python SDK, async (AsyncSandbox)', () => {
  it('create → get_info → pause (True, then False) → connect resumes → list → set_timeout → kill (True, then False)', async () => {
    const tag = randomBytes(4).toString('hex');
    const run = await runE2BPython(stack, 'e2b_async.py', [tag]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.result).toEqual({
      sandbox_id: expect.stringMatching(/^[a-z0-9]{20}$/),
      state: 'running',
      pause: true,
      pause_again: false,
      state_after_connect: 'running',
      listed: [run.result.sandbox_id],
      kill: true,
      kill_again: false,
    });
  });
});

describe('e2b npm SDK', () => {
  it('create with metadata/envs → getInfo → setTimeout → pause → connect resumes → list (paged) by metadata → metrics → kill → kill again is false', async () => {
    const tag = randomBytes(4).toString('hex');
    const run = await runE2BNode(stack, 'e2b_control.ts', [tag]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.info).toMatchObject({ sandboxId: r.sandboxId, templateId: 'base', metadata: { suite: 'e2b-js', tag }, state: 'running' });
    expect(Math.abs(r.endAtAfterSetTimeout - (r.nowAfterSetTimeout + 60_000))).toBeLessThan(5000);
    expect(r.pause).toBe(true);
    expect(r.stateAfterPause).toBe('paused');
    expect(r.pauseAgain).toBe(false);
    expect(r.connectId).toBe(r.sandboxId);
    expect(r.stateAfterConnect).toBe('running');
    expect(r.listed).toEqual([r.sandboxId]);
    expect(r.listedPaused).toEqual([]);
    expect(r.metrics[0].memTotal).toBeGreaterThan(0);
    expect(r.kill).toBe(true);
    expect(r.killAgain).toBe(false);
    expect(r.killById).toBe(false);
    expect(r.getAfterKill).toMatch(/NotFound/);
    expect((await stack.api('GET', `/sandboxes/${r.sandboxId}`)).status).toBe(404);
  });
});

describe('expiry through the e2b Python SDK', () => {
  it('timeout is absolute: used all along, a timeout=6 sandbox stops at start + 6 s (absolute_timeout); on_timeout=pause pauses it', async () => {
    const run = await runE2BPython(stack, 'e2b_expiry.py');
    expect(run.code, run.stderr).toBe(0);
    const r = run.result as { killed: string; paused: string; killed_end_ats: number[]; paused_end_ats: number[]; killed_gone_seen_at?: number; paused_seen_at?: number };
    expect(r.killed_gone_seen_at).toBeDefined();
    expect(r.paused_seen_at).toBeDefined();
    // get_info / get_metrics did not move endAt (they would in berth's idle mode).
    expect(r.killed_end_ats.length).toBeGreaterThan(3);
    expect(new Set(r.killed_end_ats).size).toBe(1);
    expect(new Set(r.paused_end_ats).size).toBe(1);

    const events = (await stack.api('GET', `/sandboxes/${r.killed}/events`)).body.events as { at: string; status: string; reason: string }[];
    const stop = events.find((e) => e.status === 'stopped');
    expect(stop?.reason).toBe('absolute_timeout');
    // Not before the endAt the SDK saw (allowing for the clock's millisecond rounding in the SDK).
    expect(Date.parse(stop?.at ?? '')).toBeGreaterThanOrEqual((r.killed_end_ats[0] ?? 0) * 1000 - 1000);

    const pausedEvents = (await stack.api('GET', `/sandboxes/${r.paused}/events`)).body.events as { at: string; status: string; reason: string }[];
    const pause = pausedEvents.find((e) => e.status === 'paused');
    expect(pause?.reason).toBe('absolute_timeout');
    expect(Date.parse(pause?.at ?? '')).toBeGreaterThanOrEqual((r.paused_end_ats[0] ?? 0) * 1000 - 1000);
    const info = await stack.api('GET', `/sandboxes/${r.paused}`);
    expect(info.body).toMatchObject({ status: 'paused', timeoutMode: 'absolute', lifecycle: { onTimeout: 'pause' } });
    await stack.api('DELETE', `/sandboxes/${r.paused}`);
  });
});

describe('agentbox-python-sdk (AGENTBOX_DEBUG=true)', () => {
  it('create with metadata/envs → get_info → pause → connect resumes → pause → resume → list by metadata; kill and set_timeout are local no-ops in debug mode', async () => {
    const tag = randomBytes(4).toString('hex');
    const run = await runAgentboxDebug(stack, 'agentbox_control.py', [tag]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    // agentbox names a sandbox <sandboxID>-<clientID>.
    expect(r.sandbox_id).toMatch(/^[a-z0-9]{20}-berth$/);
    const id = String(r.sandbox_id).split('-')[0] ?? '';
    expect(r.info).toMatchObject({ sandbox_id: r.sandbox_id, template_id: 'base', metadata: { suite: 'agentbox', tag } });
    expect(r.info.end_at - r.info.started_at).toBeGreaterThan(110);
    expect(r.end_at_after_set_timeout).toBeGreaterThan(r.info.end_at - 5); // set_timeout(30) did not reach berth
    expect(r.pause).toBe(r.sandbox_id);
    expect(r.connect_id).toBe(r.sandbox_id);
    expect(r.resume_id).toBe(r.sandbox_id);
    expect(r.listed).toEqual([r.sandbox_id]);
    expect(r.kill).toBe(true);
    // Every call went to "localhost:3000" (through the test proxy), none elsewhere.
    expect(run.seen.length).toBeGreaterThan(0);
    expect(run.seen.every((s) => s.includes(' localhost:3000/'))).toBe(true);
    expect(run.seen).toContain(`POST localhost:3000/sandboxes/${r.sandbox_id}/pause`);
    expect(run.seen).toContain(`POST localhost:3000/sandboxes/${r.sandbox_id}/connect`);
    expect(run.seen).toContain(`POST localhost:3000/sandboxes/${r.sandbox_id}/resume`);
    // connect resumed it, and the local kill left it running.
    const info = await stack.api('GET', `/sandboxes/${id}`);
    expect(info.body.status).toBe('running');
    const events = (await stack.api('GET', `/sandboxes/${id}/events`)).body.events.map((e: { status: string }) => e.status);
    expect(events).toEqual(['creating', 'running', 'paused', 'running', 'paused', 'running']);
    expect((await stack.api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
  });
});
