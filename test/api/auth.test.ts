import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ownerOfPresentedKey, ownerOfUpgrade } from '../../src/api/auth.js';
import { UnauthorizedError } from '../../src/errors.js';

const keys = new Map([['key-a', 'alice'], ['key-b', 'bob']]);
const headers = (h: Record<string, string | string[]>) => (name: string) => {
  const value = h[name];
  return Array.isArray(value) ? value[0] : value;
};

describe('API keys', () => {
  it('accepts a Bearer key or an X-API-Key and names its owner', () => {
    expect(ownerOfPresentedKey(keys, headers({ authorization: 'Bearer key-a' }))).toBe('alice');
    expect(ownerOfPresentedKey(keys, headers({ authorization: 'bearer   key-b ' }))).toBe('bob');
    expect(ownerOfPresentedKey(keys, headers({ 'x-api-key': 'key-b' }))).toBe('bob');
  });

  it('refuses a missing or unknown key with a message that says what to send', () => {
    expect(() => ownerOfPresentedKey(keys, headers({}))).toThrow(/send "Authorization: Bearer <key>"/);
    expect(() => ownerOfPresentedKey(keys, headers({ 'x-api-key': 'key-c' }))).toThrow(UnauthorizedError);
    expect(() => ownerOfPresentedKey(keys, headers({ authorization: 'Basic a2V5LWE=' }))).toThrow(UnauthorizedError);
  });

  it('reads a raw upgrade request the same way (the WebSocket doors)', () => {
    const req = { headers: { 'x-api-key': 'key-a' } } as unknown as IncomingMessage;
    expect(ownerOfUpgrade(keys, req)).toBe('alice');
    const none = { headers: {} } as unknown as IncomingMessage;
    expect(() => ownerOfUpgrade(keys, none)).toThrow(UnauthorizedError);
  });
});
