import { afterEach, describe, expect, it, vi } from 'vitest';
import { TouchCoalescer } from '../../src/service/touch-coalescer.js';

describe('TouchCoalescer', () => {
  afterEach(() => vi.useRealTimers());
  it('sends at most one touch per window and never drops the last one', () => {
    vi.useFakeTimers();
    let now = 0;
    const sent: number[] = [];
    const c = new TouchCoalescer(1000, async () => void sent.push(now), () => undefined, () => now);
    c.touch('a'); // sent at 0
    now = 100;
    c.touch('a');
    now = 900;
    c.touch('a'); // trailing: its timer was armed at 100, due when the window ends (at 1000)
    expect(sent).toEqual([0]);
    vi.advanceTimersByTime(899);
    expect(sent).toEqual([0]);
    now = 1000;
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([0, 1000]);
    now = 2500;
    c.touch('a');
    expect(sent).toEqual([0, 1000, 2500]);
    void c.close();
  });
  it('narrows the window to the per-sandbox cap', () => {
    vi.useFakeTimers();
    let now = 0;
    const sent: number[] = [];
    const c = new TouchCoalescer(4000, async () => void sent.push(now), () => undefined, () => now);
    c.touch('a', 500);
    now = 100;
    c.touch('a', 500);
    now = 500;
    vi.advanceTimersByTime(400);
    expect(sent).toEqual([0, 500]);
    void c.close();
  });
  it('delivers a pending trailing touch on close instead of dropping it', async () => {
    let now = 0;
    const sent: number[] = [];
    const c = new TouchCoalescer(4000, async () => void sent.push(now), () => undefined, () => now);
    c.touch('a'); // sent at 0
    now = 1000;
    c.touch('a'); // pending until 4000
    expect(sent).toEqual([0]);
    await c.close();
    expect(sent).toEqual([0, 1000]);
  });
});
