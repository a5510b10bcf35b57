import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';
import { createTinyAndBase } from '../../helpers/sandboxes.js';

let stack: TestStack;
let base: string;
let tiny: string;

beforeAll(async () => {
  stack = await startStack({ env: { BERTH_METRICS_INTERVAL_MS: '300' } });
  ({ tiny, base } = await createTinyAndBase(stack));
});
afterAll(async () => {
  await stack?.stop();
});

const WS_SERVER = `
import base64, hashlib, socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 8765)); s.listen(5)
while True:
    c, _ = s.accept()
    req = b""
    while b"\\r\\n\\r\\n" not in req: req += c.recv(4096)
    headers = dict(l.split(": ", 1) for l in req.decode().split("\\r\\n")[1:] if ": " in l)
    key = {k.lower(): v for k, v in headers.items()}["sec-websocket-key"]
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    c.sendall(("HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Accept: " + accept + "\\r\\n\\r\\n").encode())
    hdr = c.recv(2); n = hdr[1] & 127; mask = c.recv(4); data = bytes(b ^ mask[i % 4] for i, b in enumerate(c.recv(n)))
    reply = b"echo:" + data
    c.sendall(bytes([0x81, len(reply)]) + reply); c.close()
`;

describe('ports', () => {
  it('reaches an HTTP server inside the sandbox through the proxy, without leaking the API key', async () => {
    await stack.api('POST', `/sandboxes/${base}/files/batch`, {
      body: {
        files: [
          { path: '/srv/www/hello.txt', content: 'hello from inside' },
          {
            path: '/srv/echo.py',
            content:
              'import http.server, json\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_POST(self):\n        body = self.rfile.read(int(self.headers["content-length"]))\n        out = json.dumps({"path": self.path, "body": body.decode(), "auth": self.headers.get("authorization")}).encode()\n        self.send_response(200); self.send_header("content-type", "application/json"); self.send_header("content-length", str(len(out))); self.end_headers(); self.wfile.write(out)\nhttp.server.HTTPServer(("0.0.0.0", 8081), H).serve_forever()\n',
          },
        ],
      },
    });
    await stack.api('POST', `/sandboxes/${base}/commands`, { body: { cmd: 'python3 -m http.server 8080 --directory /srv/www', background: true } });
    await stack.api('POST', `/sandboxes/${base}/commands`, { body: { cmd: ['python3', '/srv/echo.py'], background: true } });

    const endpoint = await stack.api('GET', `/sandboxes/${base}/endpoints/8080`);
    expect(endpoint.status).toBe(200);
    expect(endpoint.body.url).toBe(`${stack.baseUrl}/sandboxes/${base}/proxy/8080/`);
    const got = await eventually(async () => {
      const r = await stack.api('GET', `/sandboxes/${base}/proxy/8080/hello.txt`);
      return r.status === 200 ? r : null;
    });
    expect(got.body).toBe('hello from inside');
    // The server's own redirects stay under the proxy (http.server adds a folder's trailing slash).
    await stack.api('POST', `/sandboxes/${base}/commands`, { body: { cmd: 'mkdir -p /srv/www/sub' } });
    const redirect = await fetch(`${stack.baseUrl}/sandboxes/${base}/proxy/8080/sub`, { headers: { authorization: `Bearer ${stack.keys.alice}` }, redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe(`/sandboxes/${base}/proxy/8080/sub/`);

    const posted = await eventually(async () => {
      const r = await stack.api('POST', `/sandboxes/${base}/proxy/8081/api/x?q=1`, { body: { a: 1 } });
      return r.status === 200 ? r : null;
    });
    expect(posted.body).toEqual({ path: '/api/x?q=1', body: '{"a":1}', auth: null });

    expect((await stack.api('GET', `/sandboxes/${base}/proxy/8080/hello.txt`, { key: null })).status).toBe(401);
    expect((await stack.api('GET', `/sandboxes/${base}/proxy/8080/hello.txt`, { as: 'bob' })).status).toBe(404);
    const closed = await stack.api('GET', `/sandboxes/${base}/proxy/9999/`);
    expect(closed.status).toBe(502);
    expect(closed.body.code).toBe('upstream_unavailable');
    expect((await stack.api('GET', `/sandboxes/${base}/endpoints/70000`)).status).toBe(400);
  });

  it('carries a WebSocket upgrade through the proxy', async () => {
    await stack.api('POST', `/sandboxes/${base}/files/batch`, { body: { files: [{ path: '/srv/ws.py', content: WS_SERVER }] } });
    await stack.api('POST', `/sandboxes/${base}/commands`, { body: { cmd: ['python3', '/srv/ws.py'], background: true } });
    const url = new URL(stack.baseUrl);
    const reply = await eventually(async () => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port) });
      const key = Buffer.from('0123456789abcdef').toString('base64');
      socket.write(
        `GET /sandboxes/${base}/proxy/8765/chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer ${stack.keys.alice}\r\n\r\n`,
      );
      let buf = Buffer.alloc(0);
      let sent = false;
      return new Promise<string | null>((resolve) => {
        socket.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          const end = buf.indexOf('\r\n\r\n');
          if (!sent && end >= 0) {
            if (!buf.subarray(0, end).toString().startsWith('HTTP/1.1 101')) return resolve(null);
            const expected = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
            if (!buf.subarray(0, end).toString().includes(expected)) return resolve(null);
            buf = buf.subarray(end + 4);
            sent = true;
            const payload = Buffer.from('ping');
            const mask = Buffer.from([1, 2, 3, 4]);
            socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))]));
          }
          if (sent && buf.length >= 2 && buf.length >= 2 + (buf[1]! & 127)) {
            resolve(buf.subarray(2, 2 + (buf[1]! & 127)).toString());
            socket.destroy();
          }
        });
        socket.on('error', () => resolve(null));
        socket.on('close', () => resolve(null));
      });
    });
    expect(reply).toBe('echo:ping');
  });
});

describe('metrics', () => {
  it('reports current CPU, memory and disk with a time series and time filters', async () => {
    await stack.api('PUT', `/sandboxes/${tiny}/files?path=/tmp/blob`, { body: 'x'.repeat(100_000), headers: { 'content-type': 'application/octet-stream' } });
    // The disk figure may be a few seconds old (measuring it walks the writable layer).
    const m = await eventually(async () => {
      const r = await stack.api('GET', `/sandboxes/${tiny}/metrics`);
      return r.body.series?.length >= 3 && r.body.current.diskUsedBytes >= 100_000 ? r : null;
    });
    expect(m.status).toBe(200);
    expect(m.body.current.memoryLimitBytes).toBe(64 * 1024 * 1024);
    expect(m.body.current.memoryUsedBytes).toBeGreaterThan(0);
    expect(m.body.current.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(m.body.current.cpuLimit).toBe(0.5);
    expect(m.body.current.diskUsedBytes).toBeGreaterThanOrEqual(100_000);
    const times = m.body.series.map((s: { at: string }) => Date.parse(s.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const cut = times[1];
    const later = await stack.api('GET', `/sandboxes/${tiny}/metrics?start=${new Date(cut).toISOString()}`);
    expect(later.body.series.length).toBeGreaterThanOrEqual(times.length - 1);
    expect(later.body.series.every((s: { at: string }) => Date.parse(s.at) >= cut)).toBe(true);
    const none = await stack.api('GET', `/sandboxes/${tiny}/metrics?end=${times[0] - 1}`);
    expect(none.body.series).toEqual([]);
    expect((await stack.api('GET', `/sandboxes/${tiny}/metrics?start=yesterday`)).status).toBe(400);
  });
});
