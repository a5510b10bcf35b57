/** Field readers for envd's JSON messages (proto3 JSON: camelCase names, bytes as base64) with Connect errors for bad input. */
import { posix } from 'node:path';
import { sandboxPath } from '../../../dataplane/paths.js';
import { BerthError } from '../../../errors.js';
import { ConnectError } from './connect.js';

export function asRecord(raw: unknown, what: string): Record<string, unknown> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConnectError('invalid_argument', `${what} must be an object`);
  return raw as Record<string, unknown>;
}

export function asString(raw: unknown, what: string): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string') throw new ConnectError('invalid_argument', `${what} must be a string`);
  return raw;
}

export function asStringArray(raw: unknown, what: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((v) => typeof v !== 'string')) throw new ConnectError('invalid_argument', `${what} must be an array of strings`);
  return raw as string[];
}

export function asStringMap(raw: unknown, what: string): Record<string, string> {
  const rec = asRecord(raw, what);
  for (const [k, v] of Object.entries(rec)) {
    if (typeof v !== 'string') throw new ConnectError('invalid_argument', `${what}.${k} must be a string`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new ConnectError('invalid_argument', `${what}: "${k.slice(0, 40)}" is not a valid environment variable name`);
  }
  return rec as Record<string, string>;
}

export function asBytes(raw: unknown, what: string): Buffer {
  if (raw === undefined || raw === null) return Buffer.alloc(0);
  if (typeof raw !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw)) throw new ConnectError('invalid_argument', `${what} must be base64 bytes`);
  return Buffer.from(raw, 'base64');
}

export function asUint(raw: unknown, what: string): number {
  if (raw === undefined || raw === null) return 0;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConnectError('invalid_argument', `${what} must be a non-negative integer`);
  return n;
}

/** The home folder of a sandbox user (envd resolves relative paths against it). */
export function homeOf(user: string): string {
  return user === 'root' ? '/root' : `/home/${user}`;
}

/**
 * An absolute, normalized path inside the sandbox: relative paths (and `~`) resolve against
 * the user's home like envd does. Undefined stays undefined.
 */
export function resolvePath(raw: string | undefined, user: string): string | undefined {
  if (raw === undefined) return undefined;
  let p = raw;
  if (p === '~' || p.startsWith('~/')) p = homeOf(user) + p.slice(1);
  if (!p.startsWith('/')) p = posix.join(homeOf(user), p);
  try {
    return sandboxPath(p);
  } catch (err) {
    throw err instanceof BerthError ? new ConnectError('invalid_argument', err.message) : err;
  }
}

/** A required path field. */
export function requiredPath(raw: unknown, what: string, user: string): string {
  const s = asString(raw, what);
  if (!s) throw new ConnectError('invalid_argument', `${what} is required`);
  return resolvePath(s, user)!;
}
