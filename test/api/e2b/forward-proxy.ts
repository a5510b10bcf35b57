/**
 * A test-only HTTP forward proxy for clients with hard-coded addresses: agentbox in debug mode
 * talks to `http://localhost:3000` (control plane) and `http://localhost:49983` (envd). The
 * client is given this proxy (its own `proxy=` option and HTTP_PROXY), and the proxy sends
 * each `host:port` it knows to the test's listener instead. Anything else gets 403: no test
 * traffic reaches whatever really listens on those ports of this machine.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForwardProxy {
  url: string;
  /** `host:port` → base URL (e.g. `localhost:3000` → `http://127.0.0.1:41234`). */
  routes: Map<string, string>;
  /** Requests seen, as `METHOD host:port/path`. */
  seen: string[];
  close(): Promise<void>;
}

export async function startForwardProxy(routes: Record<string, string>): Promise<ForwardProxy> {
  const table = new Map(Object.entries(routes));
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form request target expected (this is a forward proxy)');
      return;
    }
    seen.push(`${req.method ?? ''} ${target.host}${target.pathname}`);
    const base = table.get(target.host);
    if (!base) {
      res.writeHead(403).end(`the test proxy forwards only ${[...table.keys()].join(', ')}`);
      return;
    }
    const upstream = new URL(target.pathname + target.search, base);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const out = http.request(upstream, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502).end(String(err));
      else res.destroy();
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    routes: table,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
