/**
 * `envdAccessToken`: what the E2B SDKs send to envd as `X-Access-Token` for one sandbox.
 * berth derives it from its secret key, the sandbox ID and the owner, so envd can check it
 * (and learn the owner) without storing anything: `<base64url(owner)>.<hmac>`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

function mac(secretKeyHex: string, sandboxID: string, owner: string): string {
  return createHmac('sha256', Buffer.from(secretKeyHex, 'hex')).update(`e2b-envd\n${sandboxID}\n${owner}`).digest('base64url');
}

/** The envd access token of `sandboxID` for `owner`. */
export function envdAccessToken(secretKeyHex: string, sandboxID: string, owner: string): string {
  return `${Buffer.from(owner).toString('base64url')}.${mac(secretKeyHex, sandboxID, owner)}`;
}

/** The owner a token was issued to for `sandboxID`, or null when it is not a valid token for it. */
export function ownerOfEnvdAccessToken(secretKeyHex: string, sandboxID: string, token: string): string | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const owner = Buffer.from(token.slice(0, dot), 'base64url').toString();
  const expected = Buffer.from(mac(secretKeyHex, sandboxID, owner));
  const given = Buffer.from(token.slice(dot + 1));
  return expected.length === given.length && timingSafeEqual(expected, given) ? owner : null;
}
