/**
 * `nextToken` of `GET /sandboxes`: Temporal's visibility page token wrapped with an HMAC that
 * binds it to the listing's query. A token this API did not hand out (or one from a listing
 * with other filters) is refused before it reaches Temporal, whose visibility store answers
 * a forged token with an opaque server error.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const MAC_BYTES = 16;
const VERSION = 1;

function mac(keyHex: string, query: string, token: Buffer): Buffer {
  const key = createHmac('sha256', Buffer.from(keyHex, 'hex')).update('berth list page token').digest();
  return createHmac('sha256', key).update(query).update('\0').update(token).digest().subarray(0, MAC_BYTES);
}

/** Wraps Temporal's page token for the client (base64url). */
export function encodePageToken(keyHex: string, query: string, token: Uint8Array): string {
  const raw = Buffer.from(token);
  return Buffer.concat([Buffer.from([VERSION]), mac(keyHex, query, raw), raw]).toString('base64url');
}

/** Temporal's page token inside a client's `nextToken`, or undefined when it is not one this API issued for `query`. */
export function decodePageToken(keyHex: string, query: string, nextToken: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(nextToken)) return undefined;
  const data = Buffer.from(nextToken, 'base64url');
  if (data.length <= 1 + MAC_BYTES || data[0] !== VERSION) return undefined;
  const token = data.subarray(1 + MAC_BYTES);
  return timingSafeEqual(data.subarray(1, 1 + MAC_BYTES), mac(keyHex, query, token)) ? token : undefined;
}
