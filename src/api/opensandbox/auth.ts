/**
 * Who calls the OpenSandbox front door. Lifecycle calls carry `OPEN-SANDBOX-API-KEY`, mapped
 * to berth's owners with the same key map as berth's REST (BERTH_API_KEYS). Calls to an
 * endpoint (execd, or a port's proxy) carry the same key (server-proxy mode: the SDK adds it)
 * or, in direct mode (where the SDK never sends the API key to execd), the
 * `X-EXECD-ACCESS-TOKEN` header that berth returned with the endpoint: an HMAC of the owner,
 * the sandbox ID and the port, good for that one port of that one sandbox only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { UnauthorizedError } from '../../errors.js';
import { constantTimeLookup as lookup } from '../auth.js';

export const API_KEY_HEADER = 'open-sandbox-api-key';
export const EXECD_TOKEN_HEADER = 'x-execd-access-token';

function sign(secretKeyHex: string, owner: string, sandboxID: string, port: number): string {
  return createHmac('sha256', Buffer.from(secretKeyHex, 'hex')).update(`opensandbox-endpoint\n${owner}\n${sandboxID}\n${port}`).digest('base64url');
}

/** The endpoint token for one port of one sandbox of one owner: `<owner, base64url>.<hmac>`. */
export function endpointToken(secretKeyHex: string, owner: string, sandboxID: string, port: number): string {
  return `${Buffer.from(owner).toString('base64url')}.${sign(secretKeyHex, owner, sandboxID, port)}`;
}

/** The owner an endpoint token was made for, when it is valid for this sandbox and port. */
export function verifyEndpointToken(secretKeyHex: string, token: string, sandboxID: string, port: number): string | undefined {
  const [ownerPart, mac] = token.split('.');
  if (!ownerPart || !mac) return undefined;
  const owner = Buffer.from(ownerPart, 'base64url').toString('utf8');
  const expected = Buffer.from(sign(secretKeyHex, owner, sandboxID, port));
  const given = Buffer.from(mac);
  return expected.length === given.length && timingSafeEqual(expected, given) ? owner : undefined;
}

const MISSING = `missing API key: send the "OPEN-SANDBOX-API-KEY" header (ConnectionConfig(api_key=...))`;

/** Lifecycle routes: the API key header, else 401. */
export function lifecycleAuth(keys: Map<string, string>) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const presented = req.header(API_KEY_HEADER)?.trim();
    if (!presented) return next(new UnauthorizedError(MISSING));
    const owner = lookup(keys, presented);
    if (!owner) return next(new UnauthorizedError('invalid API key'));
    req.caller = { owner };
    next();
  };
}

/** Endpoint routes (`:id` and `:port` in the path): the API key, or an endpoint token for this sandbox and port. */
export function endpointAuth(keys: Map<string, string>, secretKeyHex: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const key = req.header(API_KEY_HEADER)?.trim();
    if (key) {
      const owner = lookup(keys, key);
      if (!owner) return next(new UnauthorizedError('invalid API key'));
      req.caller = { owner };
      return next();
    }
    const token = req.header(EXECD_TOKEN_HEADER)?.trim();
    if (!token) return next(new UnauthorizedError(`${MISSING}, or the ${EXECD_TOKEN_HEADER} header returned with the endpoint`));
    const owner = verifyEndpointToken(secretKeyHex, token, mountParam(req, 'id'), Number(mountParam(req, 'port')));
    if (!owner) return next(new UnauthorizedError(`invalid ${EXECD_TOKEN_HEADER} for this sandbox: fetch the endpoint again`));
    req.caller = { owner };
    next();
  };
}

/** A path parameter of the mount (`:id`, `:port`), which typed sub-routers do not see. */
export function mountParam(req: Request, name: 'id' | 'port'): string {
  return String((req.params as Record<string, string | undefined>)[name] ?? '');
}
