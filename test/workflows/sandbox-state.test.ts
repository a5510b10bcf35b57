import { describe, expect, it } from 'vitest';
import { diskQuotaDetail, lostContainerDetail, SandboxState } from '../../src/workflows/sandbox-state.js';
import type { SandboxSpec } from '../../src/workflows/definitions.js';
import { testSandboxSpec } from '../helpers/spec.js';

const spec = (over: Partial<SandboxSpec> = {}): SandboxSpec =>
  testSandboxSpec('o', { sandboxID: 'abc', idleTimeoutMs: 1000, maxLifetimeMs: 10_000, pausedRetentionMs: 5000, ...over });

function running(over: Partial<SandboxSpec> = {}, at = 0): SandboxState {
  const s = SandboxState.create(spec(over), at);
  s.markRunning(at, 'h');
  return s;
}

describe('SandboxState', () => {
  it('shows the egress policy from the spec, and null for sandboxes created before policies existed', () => {
    const policy = { allowInternet: false, allowOut: ['203.0.113.0/24'], denyOut: [] };
    expect(running({ network: policy }).info(0).network).toEqual(policy);
    expect(running().info(0).network).toBeNull();
  });

  it('idles out timeout after the last touch, never earlier', () => {
    const s = running();
    expect(s.nextDeadline()).toEqual({ atMs: 1000, action: 'stop', reason: 'idle_timeout' });
    s.touch(700);
    expect(s.nextDeadline()?.atMs).toBe(1700);
    expect(s.dueDeadline(1000)).toBeNull();
    expect(s.dueDeadline(1700)?.reason).toBe('idle_timeout');
  });

  it('setTimeout may shorten; refresh never shortens', () => {
    const s = running({ idleTimeoutMs: 5000 });
    s.setIdleTimeout(100, 200);
    expect(s.nextDeadline()?.atMs).toBe(300);
    s.refresh(150, 50);
    expect(s.nextDeadline()?.atMs).toBe(300);
    s.refresh(150, 1000);
    expect(s.nextDeadline()?.atMs).toBe(1150);
    expect(s.info(150).timeout).toBe(0); // 200 ms rounds to 0 s in the API view
  });

  it('caps every deadline at the lifetime deadline', () => {
    const s = running({ idleTimeoutMs: 60_000, maxLifetimeMs: 3000 });
    s.refresh(10, 100_000);
    expect(s.nextDeadline()).toEqual({ atMs: 3000, action: 'stop', reason: 'max_lifetime' });
  });

  it('does not count paused time toward the lifetime', () => {
    const s = running({ idleTimeoutMs: 60_000, maxLifetimeMs: 3000 });
    s.markPaused(1000, 'user');
    expect(s.runningTimeMs(4000)).toBe(1000);
    expect(s.nextDeadline()).toEqual({ atMs: 6000, action: 'stop', reason: 'paused_retention' });
    s.markResumed(4000, 'user');
    expect(s.nextDeadline()).toEqual({ atMs: 6000, action: 'stop', reason: 'max_lifetime' });
  });

  it('pauses on idle when onTimeout is pause, and resume restarts the idle clock', () => {
    const s = running({ lifecycle: { onTimeout: 'pause', autoResume: true } });
    expect(s.nextDeadline()).toMatchObject({ action: 'pause', reason: 'idle_timeout' });
    s.markPaused(1000, 'idle_timeout');
    s.markResumed(2500, 'auto_resume');
    expect(s.nextDeadline()?.atMs).toBe(3500);
  });

  it('records every transition with its reason and exposes endAt', () => {
    const s = running();
    s.markPaused(10, 'user');
    s.markResumed(20, 'connect');
    s.markStopped(30, 'user');
    expect(s.events().map((e) => `${e.status}:${e.reason}`)).toEqual([
      'creating:created',
      'running:provisioned',
      'paused:user',
      'running:connect',
      'stopped:user',
    ]);
    expect(s.isFinal()).toBe(true);
    expect(s.info(30)).toMatchObject({ status: 'stopped', endAt: null, stopReason: 'user' });
    expect(s.nextDeadline()).toBeNull();
  });

  it('survives a snapshot round trip (continueAsNew)', () => {
    const s = running();
    s.touch(500);
    const restored = SandboxState.restore(s.snapshot());
    expect(restored.nextDeadline()).toEqual(s.nextDeadline());
    expect(restored.events()).toEqual(s.events());
    expect(restored.snapshot().generation).toBe(2);
  });

  it('remembers the pause mode while paused, across continueAsNew, and forgets it on resume and stop', () => {
    const s = running({ lifecycle: { onTimeout: 'pause', autoResume: false, pauseMode: 'disk' } });
    expect(s.info(0)).toMatchObject({ pausedMode: null, lifecycle: { pauseMode: 'disk' } });
    s.markPaused(100, 'idle_timeout', 'disk');
    expect(s.pausedMode).toBe('disk');
    const restored = SandboxState.restore(s.snapshot());
    expect(restored.info(200).pausedMode).toBe('disk');
    restored.markResumed(300, 'user');
    expect(restored.pausedMode).toBeNull();
    restored.markPaused(400, 'user');
    expect(restored.pausedMode).toBe('freeze');
    restored.markPaused(400, 'user', 'disk');
    restored.markStopped(500, 'user');
    expect(restored.snapshot().pausedMode).toBeUndefined();
    // Older specs and snapshots have no pause mode: freeze.
    expect(running().info(0).lifecycle.pauseMode).toBe('freeze');
  });

  it('ignores touches and refreshes while paused', () => {
    const s = running();
    s.markPaused(100, 'user');
    s.touch(200);
    s.refresh(200, 99_999);
    expect(s.nextDeadline()?.reason).toBe('paused_retention');
  });

  it('holds idleness off while a lease is active, whatever the timeout becomes', () => {
    const s = running({ idleTimeoutMs: 60_000 });
    s.lease(100, 'a', 3000);
    s.setIdleTimeout(200, 500); // shortened under the attached client
    expect(s.nextDeadline()).toEqual({ atMs: 3100, action: 'stop', reason: 'idle_timeout' });
    expect(s.dueDeadline(700)).toBeNull();
    s.lease(2000, 'a', 3000); // renewed
    expect(s.dueDeadline(3100)).toBeNull();
    expect(s.nextDeadline()?.atMs).toBe(5000);
  });

  it('a released lease touches once and lets the ordinary idle deadline apply; other leases still hold', () => {
    const s = running({ idleTimeoutMs: 500 });
    s.lease(100, 'a', 3000);
    s.lease(100, 'b', 2000);
    s.lease(1000, 'a', 0);
    expect(s.nextDeadline()?.atMs).toBe(2100); // b still holds
    s.lease(1200, 'b', 0);
    expect(s.nextDeadline()?.atMs).toBe(1700); // release touched: 1200 + 500
    expect(s.leaseUntilMs()).toBe(0);
  });

  it('never holds off the max lifetime, and leases end with the sandbox', () => {
    const s = running({ idleTimeoutMs: 500, maxLifetimeMs: 2000 });
    s.lease(100, 'a', 60_000);
    expect(s.nextDeadline()).toEqual({ atMs: 2000, action: 'stop', reason: 'max_lifetime' });
    s.markStopped(2000, 'max_lifetime');
    expect(s.leaseUntilMs()).toBe(0);
  });

  it('lets an expired lease lapse, and carries leases across continueAsNew', () => {
    const s = running({ idleTimeoutMs: 500 });
    s.lease(100, 'a', 1000);
    expect(s.dueDeadline(1100)?.reason).toBe('idle_timeout');
    s.lease(200, 'b', 5000);
    const restored = SandboxState.restore(s.snapshot());
    expect(restored.nextDeadline()?.atMs).toBe(5200);
    // A snapshot from before leases existed restores without any.
    const { leases: _leases, ...old } = s.snapshot();
    expect(SandboxState.restore(old).nextDeadline()?.atMs).toBe(500);
  });

  it('calls a container lost only when a check finds it missing or exited', () => {
    expect(lostContainerDetail({ state: 'running', detail: 'x' }, 'reconciler')).toBeNull();
    expect(lostContainerDetail({ state: 'paused', detail: 'x' }, 'dataplane')).toBeNull();
    expect(lostContainerDetail({ state: 'missing', detail: 'container no longer exists' }, 'reconciler')).toMatch(/no longer exists.*reconciler/);
    expect(lostContainerDetail({ state: 'exited', detail: 'container has exited' }, 'dataplane')).toMatch(/exited.*data-plane/);
  });

  it('calls a sandbox over its disk quota only when a measured writable layer is above the limit', () => {
    const MB = 1024 * 1024;
    expect(diskQuotaDetail({ state: 'running', detail: '', sizeRwBytes: 8 * MB }, 5 * MB)).toBe('writable layer uses 8 MB, above the limit of 5 MB');
    expect(diskQuotaDetail({ state: 'running', detail: '', sizeRwBytes: 4 * MB }, 5 * MB)).toBeNull();
    expect(diskQuotaDetail({ state: 'running', detail: '' }, 5 * MB)).toBeNull(); // not measured
    expect(diskQuotaDetail({ state: 'running', detail: '', sizeRwBytes: 8 * MB }, undefined)).toBeNull(); // no limit
  });
});

describe('SandboxState with timeoutMode absolute', () => {
  const absolute = (over: Partial<SandboxSpec> = {}, at = 0) =>
    running({ lifecycle: { onTimeout: 'kill', autoResume: false, timeoutMode: 'absolute' }, ...over }, at);

  it('expires at start + timeout whatever the touches and leases', () => {
    const s = absolute();
    s.touch(900);
    s.lease(900, 'a', 60_000);
    expect(s.nextDeadline()).toEqual({ atMs: 1000, action: 'stop', reason: 'absolute_timeout' });
    s.lease(950, 'a', 0); // a released lease touches: still nothing moves
    expect(s.dueDeadline(1000)?.reason).toBe('absolute_timeout');
    expect(s.info(0)).toMatchObject({ timeoutMode: 'absolute', lifecycle: { timeoutMode: 'absolute' }, endAt: new Date(1000).toISOString() });
  });

  it('setTimeout may shorten; refresh and connect-with-timeout only extend', () => {
    const s = absolute({ idleTimeoutMs: 5000 });
    s.setIdleTimeout(100, 200);
    expect(s.nextDeadline()?.atMs).toBe(300);
    s.refresh(150, 50);
    expect(s.nextDeadline()?.atMs).toBe(300);
    s.refresh(150, 1000);
    expect(s.nextDeadline()?.atMs).toBe(1150);
  });

  it('does not expire while paused; a resume starts a fresh now + timeout', () => {
    const s = absolute({ lifecycle: { onTimeout: 'pause', autoResume: true, timeoutMode: 'absolute' } });
    expect(s.nextDeadline()).toEqual({ atMs: 1000, action: 'pause', reason: 'absolute_timeout' });
    s.markPaused(1000, 'absolute_timeout');
    expect(s.nextDeadline()).toEqual({ atMs: 6000, action: 'stop', reason: 'paused_retention' });
    s.markResumed(4000, 'auto_resume');
    expect(s.nextDeadline()?.atMs).toBe(5000);
  });

  it('is capped by the max lifetime like idle mode', () => {
    const s = absolute({ idleTimeoutMs: 60_000 });
    s.refresh(0, 100_000);
    expect(s.nextDeadline()).toEqual({ atMs: 10_000, action: 'stop', reason: 'max_lifetime' });
  });

  it('keeps idle rules when the workflow gate says so, and shows idle for specs without the option', () => {
    const spec = testSandboxSpec('o', { idleTimeoutMs: 1000, lifecycle: { onTimeout: 'kill', autoResume: false, timeoutMode: 'absolute' } });
    const gated = SandboxState.create(spec, 0, { absoluteExpiry: false });
    gated.markRunning(0, 'h');
    gated.touch(700);
    expect(gated.nextDeadline()).toEqual({ atMs: 1700, action: 'stop', reason: 'idle_timeout' });
    expect(gated.info(0).timeoutMode).toBe('idle');
    expect(running().info(0)).toMatchObject({ timeoutMode: 'idle', lifecycle: { timeoutMode: 'idle' } });
  });

  it('keeps the mode across continueAsNew', () => {
    const s = absolute();
    const restored = SandboxState.restore(s.snapshot());
    restored.touch(900);
    expect(restored.nextDeadline()?.reason).toBe('absolute_timeout');
    expect(restored.nextDeadline()?.atMs).toBe(1000);
  });
});
