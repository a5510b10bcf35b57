import { describe, expect, it } from 'vitest';
import { decodePageToken, encodePageToken } from '../../src/service/page-token.js';

const key = 'ab'.repeat(32);
const query = "WorkflowType = 'sandboxWorkflow' AND BerthOwner = 'alice'";

describe('list page tokens', () => {
  it('round-trips the Temporal token for the same query and key', () => {
    const inner = Buffer.from('{"CloseTime":"2026-01-01T00:00:00Z","RunID":"r"}');
    const token = encodePageToken(key, query, inner);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(key, query, token)).toEqual(inner);
  });

  it('refuses tokens it did not issue, for another query, or under another key', () => {
    const token = encodePageToken(key, query, Buffer.from('page-2'));
    expect(decodePageToken(key, `${query} AND BerthMetadata = 'k=v'`, token)).toBeUndefined();
    expect(decodePageToken('cd'.repeat(32), query, token)).toBeUndefined();
    for (const forged of ['AAAA', 'AQID', 'not-a-token', '', '!!', `${token.slice(0, -2)}xx`]) {
      expect(decodePageToken(key, query, forged)).toBeUndefined();
    }
  });
});
