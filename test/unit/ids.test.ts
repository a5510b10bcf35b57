import { describe, expect, it } from 'vitest';
import { newSandboxID, SANDBOX_ID_PATTERN } from '../../src/ids.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

describe('sandbox IDs', () => {
  it('never contain "brd" (agentbox switches to SSH mode for such IDs) nor "-" (agentbox appends -<clientID>)', () => {
    // A random source that spells "brd" over and over until the generator gives up on it.
    const script = 'brdbrdbrdbrdbrdbrdbr' + 'brdxxxxxxxxxxxxxxxxx' + 'abcdefghijklmnopqrst';
    let at = 0;
    const pick = () => ALPHABET.indexOf(script[at++ % script.length] ?? 'a');
    const id = newSandboxID(pick);
    expect(id).toBe('abcdefghijklmnopqrst');
    expect(at).toBe(60);
  });

  it('random IDs match the pattern and avoid "brd"', () => {
    for (let i = 0; i < 2000; i++) {
      const id = newSandboxID();
      expect(id).toMatch(SANDBOX_ID_PATTERN);
      expect(id).not.toContain('brd');
      expect(id).not.toContain('-');
    }
  });
});
