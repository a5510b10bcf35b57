/**
 * Who is calling envd and for which sandbox. E2B's SDKs send the sandbox in `E2b-Sandbox-Id`
 * (or, without `E2B_SANDBOX_URL`, in the host name `<port>-<sandboxID>[-<clientID>].<domain>`),
 * the envd access token the control plane handed out in `X-Access-Token`, and the sandbox user
 * as `Authorization: Basic base64(<user>:)`. berth's envd access token is stateless: the
 * sandbox ID, the owner, and an HMAC over both with `BERTH_SECRET_KEY` (src/api/e2b/access-token.ts,
 * shared with the control plane that hands it out), so any API process can check it and agentbox
 * (which sends no sandbox header) is routed by it.
 * A berth/E2B API key in `X-API-Key` with `E2b-Sandbox-Id` is accepted too.
 */
import type { Request } from 'express';
import { verifyEnvdAccessToken } from '../access-token.js';
import { ConnectError } from './connect.js';

const SANDBOX_ID = /^[a-z0-9]{1,64}$/;
const HOST = /^\d{1,5}-([a-z0-9]{1,64})(?:-[a-z0-9]+)?\./i;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/** A resolved envd caller. */
export interface EnvdCaller {
  owner: string;
  sandboxID: string;
  /** The sandbox user the call acts as (default `user`, like envd). */
  user: string;
}

export interface AccessDeps {
  secretKeyHex: string;
  /** Looks an API key up (constant time); its owner or undefined. */
  ownerOfKey(key: string): string | undefined;
}

function firstHeader(req: Request, name: string): string | undefined {
  const v = req.get(name);
  if (v === undefined) return undefined;
  return v.split(',')[0]?.trim() || undefined;
}

/** The sandbox named by the request (header, then host name), if any. */
export function namedSandbox(req: Request): string | undefined {
  const header = firstHeader(req, 'e2b-sandbox-id');
  if (header !== undefined) {
    // agentbox and older SDKs may send `<sandboxID>-<clientID>`.
    const id = header.split('-')[0] ?? '';
    if (!SANDBOX_ID.test(id)) throw new ConnectError('invalid_argument', `E2b-Sandbox-Id "${header.slice(0, 80)}" is not a sandbox ID`);
    return id;
  }
  const host = HOST.exec(req.hostname ?? '');
  return host?.[1]?.toLowerCase();
}

/** The sandbox user from `Authorization: Basic base64(<user>:)`; `user` when absent. */
export function sandboxUser(req: Request): string {
  const auth = req.get('authorization');
  const basic = auth?.match(/^Basic\s+(\S+)$/i)?.[1];
  if (!basic) return 'user';
  const name = Buffer.from(basic, 'base64').toString('utf8').split(':')[0] ?? '';
  if (!name) return 'user';
  if (!USER.test(name)) throw new ConnectError('invalid_argument', `user "${name.slice(0, 40)}" is not a valid user name`);
  return name;
}

/** Authenticates an envd request and finds its sandbox. @throws ConnectError unauthenticated / invalid_argument */
export function resolveCaller(req: Request, deps: AccessDeps, userOverride?: string): EnvdCaller {
  const named = namedSandbox(req);
  if (userOverride !== undefined && !USER.test(userOverride)) throw new ConnectError('invalid_argument', `username "${userOverride.slice(0, 40)}" is not a valid user name`);
  const user = userOverride ?? sandboxUser(req);
  const token = firstHeader(req, 'x-access-token');
  if (token) {
    const verified = verifyEnvdAccessToken(deps.secretKeyHex, token);
    if (!verified) throw new ConnectError('unauthenticated', 'invalid X-Access-Token: use the envdAccessToken the create or connect call returned for this sandbox');
    if (named && named !== verified.sandboxID) throw new ConnectError('unauthenticated', `X-Access-Token was issued for another sandbox than ${named}`);
    return { owner: verified.owner, sandboxID: verified.sandboxID, user };
  }
  const key = firstHeader(req, 'x-api-key');
  if (key) {
    const owner = deps.ownerOfKey(key);
    if (!owner) throw new ConnectError('unauthenticated', 'invalid API key in X-API-Key');
    if (!named) throw new ConnectError('invalid_argument', 'name the sandbox: send E2b-Sandbox-Id: <sandboxID>');
    return { owner, sandboxID: named, user };
  }
  throw new ConnectError('unauthenticated', 'missing credentials: send X-Access-Token (the envdAccessToken of the sandbox) or X-API-Key with E2b-Sandbox-Id');
}
