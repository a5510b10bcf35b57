import { describe, expect, it } from 'vitest';
import { Scrollback } from '../../src/dataplane/scrollback.js';

describe('Scrollback', () => {
  it('keeps everything under the cap, in order', () => {
    const s = new Scrollback(10);
    s.write(Buffer.from('abc'));
    s.write(Buffer.from('def'));
    expect(s.snapshot().toString()).toBe('abcdef');
    expect(s.truncated).toBe(false);
  });

  it('drops the oldest bytes beyond the cap, also inside a chunk', () => {
    const s = new Scrollback(5);
    s.write(Buffer.from('abc'));
    s.write(Buffer.from('defg'));
    expect(s.snapshot().toString()).toBe('cdefg');
    expect(s.length).toBe(5);
    expect(s.truncated).toBe(true);
    s.write(Buffer.from('0123456789'));
    expect(s.snapshot().toString()).toBe('56789');
  });

  it('keeps binary bytes exact', () => {
    const s = new Scrollback(300);
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    s.write(all.subarray(0, 100));
    s.write(all.subarray(100));
    expect(s.snapshot().equals(all)).toBe(true);
  });

  it('keeps nothing with a zero cap', () => {
    const s = new Scrollback(0);
    s.write(Buffer.from('abc'));
    expect(s.snapshot().length).toBe(0);
    expect(s.truncated).toBe(true);
  });
});
