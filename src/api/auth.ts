import type { NextFunction, Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';
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

/** Accepts `Authorization: Bearer <key>` or `X-API-Key: <key>`; 401 otherwise. */
export function apiKeyAuth(keys: Map<string, string>, adminKeys: ReadonlySet<string> = new Set()) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const header = req.header('authorization');
    const bearer = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
    const presented = bearer ?? req.header('x-api-key')?.trim();
    if (!presented) {
      next(new UnauthorizedError('missing API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>"'));
      return;
    }
    const owner = constantTimeLookup(keys, presented);
    if (!owner) {
      next(new UnauthorizedError('invalid API key'));
      return;
    }
    req.caller = { owner, ...(isAdminKey(adminKeys, presented) ? { admin: true } : {}) };
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
