/**
 * Reaching servers inside a sandbox: the API proxies HTTP requests and WebSocket upgrades to
 * `<container IP>:<port>` on the Docker network. The API must be able to route to that
 * network (true on the Docker host; in compose, put the API on the sandboxes' network).
 */
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { InvalidArgumentError, NotFoundError, UpstreamUnavailableError } from '../errors.js';
import { dataPlaneError } from '../docker/errors.js';

/** Headers never forwarded upstream (credentials for berth and hop-by-hop headers). */
const DROP_REQUEST_HEADERS = new Set(['authorization', 'x-api-key', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);
const DROP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate']);

/** Validates a port number from a path. */
export function parsePort(raw: unknown): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`port must be 1-65535: got ${JSON.stringify(raw)}`);
  return port;
}

/** Headers to send upstream: the client's, minus berth credentials and hop-by-hop ones. */
export function upstreamHeaders(headers: http.IncomingHttpHeaders, host: string, keepUpgrade = false): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (DROP_REQUEST_HEADERS.has(name) && !(keepUpgrade && (name === 'upgrade' || name === 'connection'))) continue;
    out[name] = value;
  }
  out.host = host;
  return out;
}

/**
 * How long a container's address is reused without asking Docker again. Short, like the
 * API's live-state cache: a container removed behind berth's back must be noticed (and
 * reported), and its address may be given to another sandbox.
 */
const ADDRESS_CACHE_MS = 1000;

/** Resolves and caches sandbox container addresses. */
export class PortProxy {
  private readonly addresses = new Map<string, { ip: string; atMs: number }>();

  constructor(private readonly docker: Docker) {}

  /** The container's IP on its Docker network. */
  async address(sandboxID: string): Promise<string> {
    const cached = this.addresses.get(sandboxID);
    if (cached && Date.now() - cached.atMs < ADDRESS_CACHE_MS) return cached.ip;
    const info = await this.docker
      .getContainer(sandboxID)
      .inspect()
      .catch((err: unknown) => {
        throw dataPlaneError(err, sandboxID);
      });
    const networks = Object.values(info.NetworkSettings.Networks ?? {});
    const ip = networks.map((n) => n.IPAddress).find(Boolean);
    if (!ip) throw new NotFoundError(`sandbox ${sandboxID} has no network address (network disabled?)`);
    this.addresses.set(sandboxID, { ip, atMs: Date.now() });
    return ip;
  }

  /**
   * After a connection to the sandbox failed: forget its address and ask Docker again, so a
   * container that is gone fails with its own error (404, reported as lost), not "nothing
   * listens on the port".
   */
  private async failed(sandboxID: string): Promise<void> {
    this.addresses.delete(sandboxID);
    await this.address(sandboxID);
  }

  /**
   * Forwards one HTTP request; resolves when the response was fully sent. Redirects the
   * server makes to its own paths are rewritten under `publicPrefix` (the proxy route).
   */
  async forward(sandboxID: string, port: number, path: string, req: http.IncomingMessage, res: http.ServerResponse, publicPrefix: string): Promise<void> {
    const ip = await this.address(sandboxID);
    await new Promise<void>((resolve, reject) => {
      const upstream = http.request(
        { host: ip, port, method: req.method, path, headers: upstreamHeaders(req.headers, `${ip}:${port}`) },
        (answer) => {
          const headers: http.OutgoingHttpHeaders = {};
          for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !DROP_RESPONSE_HEADERS.has(name)) headers[name] = value;
          if (typeof headers.location === 'string') headers.location = rewriteLocation(headers.location, publicPrefix, [`${ip}:${port}`]);
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
          answer.pipe(res);
          answer.on('end', resolve);
          answer.on('error', reject);
        },
      );
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        if (res.headersSent) {
          res.destroy();
          resolve();
          return;
        }
        this.failed(sandboxID).then(() => reject(upstreamError(err, sandboxID, port)), reject);
      });
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    });
  }

  /** Tunnels a WebSocket (or any) upgrade to the sandbox port; returns when the tunnel closes. */
  async tunnel(sandboxID: string, port: number, path: string, req: http.IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    const ip = await this.address(sandboxID);
    const upstream = net.connect({ host: ip, port });
    await new Promise<void>((resolve, reject) => {
      upstream.once('connect', resolve);
      upstream.once('error', (err: NodeJS.ErrnoException) => this.failed(sandboxID).then(() => reject(upstreamError(err, sandboxID, port)), reject));
    });
    const headers = upstreamHeaders(req.headers, `${ip}:${port}`, true);
    let head1 = `${req.method ?? 'GET'} ${path} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) head1 += `${name}: ${String(v)}\r\n`;
    }
    upstream.write(`${head1}\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
    await new Promise<void>((resolve) => {
      const done = () => {
        upstream.destroy();
        client.destroy();
        resolve();
      };
      upstream.on('close', done);
      client.on('close', done);
      upstream.on('error', done);
      client.on('error', done);
    });
  }
}

/**
 * A redirect from a server inside the sandbox, seen from the client: a path on the server
 * itself (`/docs/`, or an absolute URL naming the upstream address) goes under the proxy
 * prefix; relative paths and other sites are left as they are.
 */
export function rewriteLocation(location: string, publicPrefix: string, upstreamHosts: string[]): string {
  if (location.startsWith('/') && !location.startsWith('//')) return `${publicPrefix}${location}`;
  const m = /^https?:\/\/([^/?#]+)(.*)$/i.exec(location);
  if (m && upstreamHosts.includes(m[1] ?? '')) return `${publicPrefix}${m[2]?.startsWith('/') ? m[2] : `/${m[2] ?? ''}`}`;
  return location;
}

function upstreamError(err: NodeJS.ErrnoException, sandboxID: string, port: number): Error {
  return new UpstreamUnavailableError(
    `nothing answers on port ${port} in sandbox ${sandboxID} (${err.code ?? err.message}): start a server listening on 0.0.0.0:${port}`,
  );
}
