import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LeaseKeeper } from '../../src/service/lease-keeper.js';

describe('LeaseKeeper', () => {
  let sent: Array<[string, string, number]>;
  let keeper: LeaseKeeper;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    keeper = new LeaseKeeper(1000, async (id, leaseID, ms) => void sent.push([id, leaseID, ms]), () => undefined, 200);
  });
  afterEach(() => vi.useRealTimers());

  it('sends one lease per sandbox however many clients attach, renews it, and releases after the last detach', async () => {
    const a = keeper.attach('s1');
    const b = keeper.attach('s1');
    expect(sent.map(([, , ms]) => ms)).toEqual([3000]);
    await vi.advanceTimersByTimeAsync(2100);
    expect(sent.map(([, , ms]) => ms)).toEqual([3000, 3000, 3000]);
    a();
    a(); // idempotent
    await vi.advanceTimersByTimeAsync(500);
    expect(sent.filter(([, , ms]) => ms === 0)).toEqual([]); // b still attached
    b();
    await vi.advanceTimersByTimeAsync(200);
    expect(sent.at(-1)?.[2]).toBe(0);
    expect(new Set(sent.map(([, id]) => id)).size).toBe(1);
    const count = sent.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(sent.length).toBe(count); // no renewals after release
  });

  it('back-to-back short attachments keep one lease (no signal per command)', async () => {
    for (let i = 0; i < 20; i++) {
      const detach = keeper.attach('s1');
      await vi.advanceTimersByTimeAsync(50);
      detach();
      await vi.advanceTimersByTimeAsync(50);
    }
    // 2 s of commands: the first lease and two renewals, nothing released yet.
    expect(sent.map(([, , ms]) => ms)).toEqual([3000, 3000, 3000]);
    await vi.advanceTimersByTimeAsync(200);
    expect(sent.at(-1)?.[2]).toBe(0);
  });

  it('releases every lease on close', async () => {
    keeper.attach('s1');
    keeper.attach('s2');
    await keeper.close();
    expect(sent.filter(([, , ms]) => ms === 0).map(([id]) => id).sort()).toEqual(['s1', 's2']);
  });
});
