/**
 * `envdAccessToken`: what the E2B SDKs send to envd as `X-Access-Token` for one sandbox.
 * berth derives it from its secret key, the sandbox ID and the owner, so envd can check it
 * and learn both without storing anything: `<sandboxID>.<base64url(owner)>.<hmac>`. The sandbox
 * ID is in the token because agentbox sends no `E2b-Sandbox-Id` to envd: the token alone must
 * route its calls.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const TOKEN = /^([a-z0-9]{1,64})\.([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{43})$/;

function mac(secretKeyHex: string, sandboxID: string, owner: string): Buffer {
  return createHmac('sha256', Buffer.from(secretKeyHex, 'hex')).update(`e2b-envd\n${sandboxID}\n${owner}`).digest();
}

/** The envd access token of `sandboxID` for `owner`. */
export function envdAccessToken(secretKeyHex: string, sandboxID: string, owner: string): string {
  return `${sandboxID}.${Buffer.from(owner).toString('base64url')}.${mac(secretKeyHex, sandboxID, owner).toString('base64url')}`;
}

/** The sandbox and owner a token was issued for, or null when it is not a valid berth token. */
export function verifyEnvdAccessToken(secretKeyHex: string, token: string): { sandboxID: string; owner: string } | null {
  const m = TOKEN.exec(token);
  if (!m) return null;
  const [, sandboxID = '', ownerB64 = '', sig = ''] = m;
  const owner = Buffer.from(ownerB64, 'base64url').toString('utf8');
  const expected = mac(secretKeyHex, sandboxID, owner);
  const given = Buffer.from(sig, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected) ? { sandboxID, owner } : null;
}

/** The owner a token was issued to for `sandboxID`, or null when it is not a valid token for it. */
export function ownerOfEnvdAccessToken(secretKeyHex: string, sandboxID: string, token: string): string | null {
  const verified = verifyEnvdAccessToken(secretKeyHex, token);
  return verified && verified.sandboxID === sandboxID ? verified.owner : null;
}
