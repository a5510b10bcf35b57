/**
 * `/sandboxes/{id}/endpoints/{port}` (how to reach a port) and `/sandboxes/{id}/proxy/{port}/…`
 * (HTTP and WebSocket proxy to it, authenticated like the rest of the API, touching the sandbox).
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { Router, type Request } from 'express';
import type { Logger } from 'pino';
import { NotFoundError } from '../../errors.js';
import { parsePort, type PortProxy } from '../../dataplane/proxy.js';
import { callerOf, ownerOfUpgrade } from '../auth.js';
import { serveUpgrade } from '../upgrade.js';
import { z } from 'zod';
import { endpoint, mount, param } from './endpoint.js';
import { endpointSchema } from './response-schemas.js';
import type { InteractionGate } from '../../service/interaction-gate.js';
import type { StreamSlots } from '../../service/stream-slots.js';
import { sandboxIDOfUrl } from '../metrics.js';

const portParam = z.number().int().min(1).max(65535).describe('TCP port inside the sandbox.');
const getEndpoint = endpoint({
  method: 'get',
  path: '/sandboxes/{sandboxID}/endpoints/{port}',
  summary: 'How to reach a port of the sandbox (proxy URL through this API)',
  params: { port: portParam },
  responses: { '200': { description: 'Endpoint', json: endpointSchema } },
  errors: [404, [409, 'Sandbox paused (resume it, or create it with autoResume)']],
});
const proxyRequest = endpoint({
  method: 'get',
  anyMethod: true,
  path: '/sandboxes/{sandboxID}/proxy/{port}/{path}',
  expressPath: '/sandboxes/:sandboxID/proxy/:port{/*rest}',
  summary: 'Proxy any method (and WebSocket upgrades) to the port inside the sandbox; the API key is not forwarded',
  params: { port: portParam, path: z.string().describe('Path on the server inside the sandbox (may contain further / segments).') },
  responses: { '200': { description: 'Whatever the server in the sandbox answers (any status and media type)', other: { '*/*': {} } } },
  passThrough: true,
  errors: [404, [409, 'Sandbox paused (resume it, or create it with autoResume)'], [502, 'Nothing listens on the port (code upstream_unavailable)'], [429, 'Owner stream cap reached (BERTH_MAX_STREAMS_PER_OWNER)']],
});

const PROXY_PATH = /^\/sandboxes\/([^/?]+)\/proxy\/([^/?]+)(.*)$/;

/** The part of a proxied URL that goes upstream (`/sandboxes/x/proxy/8000/a?b` → `/a?b`). */
export function upstreamPath(originalUrl: string): string | undefined {
  const m = PROXY_PATH.exec(originalUrl);
  if (!m) return undefined;
  const rest = m[3] ?? '';
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function baseUrl(req: Request | http.IncomingMessage, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/\/$/, '');
  const proto = 'protocol' in req && typeof req.protocol === 'string' ? req.protocol : 'http';
  return `${proto}://${req.headers.host ?? 'localhost'}`;
}

/** The endpoints router; mount it before the JSON body parser so proxied bodies pass untouched. */
export function endpointRoutes(gate: InteractionGate, proxy: PortProxy, publicUrl: string | undefined, slots: StreamSlots): Router {
  const router = Router();

  mount(router, getEndpoint, async (req, res) => {
    const port = parsePort(param(req, 'port'));
    const info = await gate.beginInteraction(callerOf(req).owner, param(req, 'sandboxID'));
    const url = `${baseUrl(req, publicUrl)}/sandboxes/${info.sandboxID}/proxy/${port}/`;
    res.json({
      sandboxID: info.sandboxID,
      port,
      url,
      websocketUrl: url.replace(/^http/, 'ws'),
      auth: 'send your API key (Authorization: Bearer or X-API-Key); it is not forwarded to the sandbox',
      internal: { host: await proxy.address(info.sandboxID), port },
    });
  });

  mount(router, proxyRequest, async (req, res) => {
    const port = parsePort(param(req, 'port'));
    const path = upstreamPath(req.originalUrl) ?? '/';
    const { owner } = callerOf(req);
    const releaseSlot = slots.hold(owner, 'proxy connection', res);
    try {
      const info = await gate.beginInteraction(owner, param(req, 'sandboxID'));
      const stop = gate.keepAlive(info.sandboxID, info.timeout);
      try {
        await proxy.forward(info.sandboxID, port, path, req, res, `${req.baseUrl}/sandboxes/${info.sandboxID}/proxy/${port}`);
      } finally {
        stop();
      }
    } finally {
      releaseSlot();
    }
  });

  return router;
}

/**
 * The HTTP server `upgrade` listener: authenticates, checks the sandbox, and tunnels WebSocket
 * upgrades on `/sandboxes/{id}/proxy/{port}/…` to the sandbox. Other upgrades get 404.
 */
export function proxyUpgradeHandler(deps: { gate: InteractionGate; proxy: PortProxy; apiKeys: Map<string, string>; logger: Logger; slots: StreamSlots }) {
  return (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const context = { gate: deps.gate, logger: deps.logger, what: 'proxy upgrade', logFields: { url: req.url, sandboxID: sandboxIDOfUrl(req.url ?? '') } };
    serveUpgrade(socket, context, async () => {
      const m = PROXY_PATH.exec(req.url ?? '');
      if (!m) throw new NotFoundError(`no upgrade route ${req.url ?? ''}`);
      const owner = ownerOfUpgrade(deps.apiKeys, req);
      const port = parsePort(m[2]);
      const releaseSlot = deps.slots.hold(owner, 'proxy connection', socket);
      try {
        const info = await deps.gate.beginInteraction(owner, m[1] ?? '') /* IDs are plain alphanumerics: anything else is a 404 */;
        const stop = deps.gate.keepAlive(info.sandboxID, info.timeout);
        try {
          await deps.proxy.tunnel(info.sandboxID, port, upstreamPath(req.url ?? '') ?? '/', req, socket, head);
        } finally {
          stop();
        }
      } finally {
        releaseSlot();
      }
    });
  };
}
