/**
 * `get_host(port)` of the E2B SDKs: `<port>-<sandboxID>.<domain>`. Requests whose Host header
 * has that shape (agentbox adds `-<clientID>` after the ID) are proxied to the port inside the
 * sandbox, HTTP and WebSocket, through the interaction gate like berth's own port proxy. They
 * need an API key of the sandbox's owner (`X-API-Key` or `Authorization: Bearer`), which is
 * not forwarded. See docs/e2b.md.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { PortProxy } from '../../dataplane/proxy.js';
import type { InteractionGate } from '../../service/interaction-gate.js';
import type { StreamSlots } from '../../service/stream-slots.js';
import { ownerOfUpgrade } from '../auth.js';
import { serveUpgrade } from '../upgrade.js';
import { e2bErrorMiddleware } from './errors.js';

const HOST_ROUTE = /^(\d{1,5})-([a-z0-9]{20})(?:-[a-z0-9]+)?\./;

/** The sandbox port a Host header names, or null when it is not a sandbox host name. */
export function hostRoute(host: string | undefined): { port: number; sandboxID: string } | null {
  const m = HOST_ROUTE.exec((host ?? '').toLowerCase());
  if (!m) return null;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return null;
  return { port, sandboxID: m[2] ?? '' };
}

export interface HostProxyDeps {
  gate: InteractionGate;
  proxy: PortProxy;
  apiKeys: Map<string, string>;
  slots: StreamSlots;
  logger: Logger;
}

/** Express middleware: proxies sandbox host names, passes every other request on. Mount it first. */
export function e2bHostProxy(deps: HostProxyDeps) {
  const onError = e2bErrorMiddleware(deps.logger, (id) => deps.gate.reportContainerMissing(id));
  return (req: Request, res: Response, next: NextFunction): void => {
    const route = hostRoute(req.headers.host);
    if (!route) {
      next();
      return;
    }
    void (async () => {
      const owner = ownerOfUpgrade(deps.apiKeys, req);
      const releaseSlot = deps.slots.hold(owner, 'proxy connection', res);
      try {
        const info = await deps.gate.beginInteraction(owner, route.sandboxID);
        const stop = deps.gate.keepAlive(info.sandboxID, info.timeout);
        try {
          await deps.proxy.forward(info.sandboxID, route.port, req.originalUrl, req, res, '');
        } finally {
          stop();
        }
      } finally {
        releaseSlot();
      }
    })().catch((err: unknown) => onError(err, req, res, next));
  };
}

/** The `upgrade` listener part for sandbox host names; returns false for other requests. */
export function e2bHostProxyUpgrade(deps: HostProxyDeps) {
  return (req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const route = hostRoute(req.headers.host);
    if (!route) return false;
    const context = { gate: deps.gate, logger: deps.logger, what: 'E2B host proxy upgrade', logFields: { host: req.headers.host }, errorBody: e2bUpgradeErrorBody };
    serveUpgrade(socket, context, async () => {
      const owner = ownerOfUpgrade(deps.apiKeys, req);
      const releaseSlot = deps.slots.hold(owner, 'proxy connection', socket);
      try {
        const info = await deps.gate.beginInteraction(owner, route.sandboxID);
        const stop = deps.gate.keepAlive(info.sandboxID, info.timeout);
        try {
          await deps.proxy.tunnel(info.sandboxID, route.port, req.url ?? '/', req, socket, head);
        } finally {
          stop();
        }
      } finally {
        releaseSlot();
      }
    });
    return true;
  };
}

/** E2B's error shape: `{code: <HTTP status>, message}`. */
const e2bUpgradeErrorBody = (status: number, _code: string, message: string) => ({ code: status, message });
