/**
 * E2B's get_host(port): the real SDK builds `<port>-<sandboxID>.<domain>` from the domain berth
 * returns, and berth routes that Host header to the port inside the sandbox.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type TestStack } from '../../helpers/stack.js';
import { runE2BPython, startE2BStack } from './harness.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startE2BStack();
});
afterAll(async () => {
  await stack?.stop();
});

/** GET through berth's listener with a given Host header (no DNS: this machine does not resolve *.localhost). */
function getVia(host: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const { port } = new URL(stack.baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, headers: { ...headers, host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('get_host(port)', () => {
  it('gives <port>-<id>.localhost:<api port>, which berth proxies to the sandbox port for the owner\'s key', async () => {
    const run = await runE2BPython(stack, 'e2b_get_host.py', ['8080']);
    expect(run.code, run.stderr).toBe(0);
    const { sandbox_id: id, host } = run.result as { sandbox_id: string; host: string };
    const { port } = new URL(stack.baseUrl);
    expect(host).toBe(`8080-${id}.localhost:${port}`);

    await stack.api('POST', `/sandboxes/${id}/files/batch`, { body: { files: [{ path: '/srv/www/hello.txt', content: 'hello via host name' }] } });
    await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'busybox httpd -f -p 8080 -h /srv/www', background: true } });
    const key = { 'x-api-key': stack.e2bKeys.alice ?? '' };
    const got = await eventually(async () => {
      const r = await getVia(host, '/hello.txt', key);
      return r.status === 200 ? r : null;
    });
    expect(got.body).toBe('hello via host name');
    // berth's own key works too; no key is a 401, another owner's a 404 (E2B error shape).
    expect((await getVia(host, '/hello.txt', { authorization: `Bearer ${stack.keys.alice}` })).status).toBe(200);
    const noKey = await getVia(host, '/hello.txt');
    expect(noKey.status).toBe(401);
    expect(JSON.parse(noKey.body).code).toBe(401);
    expect((await getVia(host, '/hello.txt', { 'x-api-key': stack.e2bKeys.bob ?? '' })).status).toBe(404);
    // A closed port: 502 from the proxy.
    expect((await getVia(`9999-${id}.localhost:${port}`, '/', key)).status).toBe(502);
    // Paths that are berth's own routes on other hosts go to the sandbox here.
    expect((await getVia(host, '/healthz', key)).status).toBe(404);
    // Other host names are berth's API as before.
    expect((await getVia(`localhost:${port}`, '/healthz')).status).toBe(200);
    await stack.api('DELETE', `/sandboxes/${id}`);
  });
});
