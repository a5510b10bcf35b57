import { describe, expect, it } from 'vitest';
import { SandboxState } from '../../src/workflows/sandbox-state.js';
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

  it('ignores touches and refreshes while paused', () => {
    const s = running();
    s.markPaused(100, 'user');
    s.touch(200);
    s.refresh(200, 99_999);
    expect(s.nextDeadline()?.reason).toBe('paused_retention');
  });
});
