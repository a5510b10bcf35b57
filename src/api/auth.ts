import type { NextFunction, Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { UnauthorizedError } from '../errors.js';

/** The authenticated caller, set by {@link apiKeyAuth}. */
export interface Caller {
  owner: string;
  /** The key is in BERTH_ADMIN_KEYS: it may pin hosts and drain them. */
  admin?: boolean;
}

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

/** The owner of an API key (constant-time comparison), or undefined. */
export function constantTimeLookup(keys: Map<string, string>, presented: string): string | undefined {
  const candidate = Buffer.from(presented);
  let owner: string | undefined;
  for (const [key, keyOwner] of keys) {
    const expected = Buffer.from(key);
    if (expected.length === candidate.length && timingSafeEqual(expected, candidate)) owner = keyOwner;
  }
  return owner;
}

/**
 * The owner of the API key a request presents (`Authorization: Bearer <key>` or
 * `X-API-Key: <key>`); an UnauthorizedError otherwise. `header` reads a header by lower-case name.
 */
export function ownerOfPresentedKey(keys: Map<string, string>, header: (name: string) => string | undefined): string {
  const presented = presentedKey(header);
  if (!presented) throw new UnauthorizedError('missing API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"');
  const owner = constantTimeLookup(keys, presented);
  if (!owner) throw new UnauthorizedError('invalid API key');
  return owner;
}

/** The key a request presents (`Authorization: Bearer <key>` or `X-API-Key: <key>`), if any. */
function presentedKey(header: (name: string) => string | undefined): string | undefined {
  const bearer = header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
  return bearer ?? header('x-api-key')?.trim();
}

/** The owner of the key on a raw request (WebSocket upgrades, which do not pass through Express). */
export function ownerOfUpgrade(keys: Map<string, string>, req: IncomingMessage): string {
  return ownerOfPresentedKey(keys, (name) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  });
}

/** Express middleware: sets `req.caller` from the presented key (admin when it is in `adminKeys`); 401 otherwise. */
export function apiKeyAuth(keys: Map<string, string>, adminKeys: ReadonlySet<string> = new Set()) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    try {
      const owner = ownerOfPresentedKey(keys, (name) => req.header(name));
      req.caller = { owner, ...(isAdminKey(adminKeys, presentedKey((name) => req.header(name)) ?? '') ? { admin: true } : {}) };
    } catch (err) {
      next(err);
      return;
    }
    next();
  };
}

/** The caller of an authenticated route. */
export function callerOf(req: Request): Caller {
  if (!req.caller) throw new UnauthorizedError('not authenticated');
  return req.caller;
}

/** Whether the presented key is an admin key (constant-time comparison). */
function isAdminKey(adminKeys: ReadonlySet<string>, presented: string): boolean {
  if (adminKeys.size === 0) return false;
  return constantTimeLookup(new Map([...adminKeys].map((k) => [k, 'admin'])), presented) !== undefined;
}
