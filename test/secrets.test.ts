import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { openJson, sealJson } from '../src/secrets.js';

describe('secrets', () => {
  it('seals env vars so history never holds them in clear text', () => {
    const key = randomBytes(32).toString('hex');
    const sealed = sealJson({ TOKEN: 'hunter2' }, key);
    expect(sealed).not.toContain('hunter2');
    expect(openJson(sealed, key)).toEqual({ TOKEN: 'hunter2' });
    expect(() => openJson(sealed, randomBytes(32).toString('hex'))).toThrow();
  });
});
