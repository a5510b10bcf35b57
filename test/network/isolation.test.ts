/**
 * Issue 9, finding 1: a sandbox reached a server in another owner's sandbox and the host.
 * Only hosts this test creates are contacted: another sandbox, and a listener on the host
 * reached through the sandbox's own bridge gateway.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type TestStack } from '../helpers/stack.js';
import { addressOf, fetchFrom, sh } from './helpers.js';

let stack: TestStack;
let a: string;
let b: string;

beforeAll(async () => {
  stack = await startStack({ owners: ['alice', 'bob'] });
  const [ra, rb] = await Promise.all([
    stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300 }, as: 'alice' }),
    stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300 }, as: 'bob' }),
  ]);
  expect(ra.status).toBe(201);
  expect(rb.status).toBe(201);
  a = ra.body.sandboxID;
  b = rb.body.sandboxID;
  await sh(stack, a, 'mkdir -p /tmp/www && echo hello-from-a > /tmp/www/index.html', 'alice');
  const started = await stack.api('POST', `/sandboxes/${a}/commands`, { body: { cmd: 'httpd -f -p 8000 -h /tmp/www', background: true }, as: 'alice' });
  expect(started.status).toBe(201);
});
afterAll(async () => {
  await stack?.stop();
});

describe('network isolation', () => {
  it("the port proxy reaches a server in A, and A reaches it from inside (it is up)", async () => {
    const viaProxy = await eventually(async () => {
      const r = await stack.api('GET', `/sandboxes/${a}/proxy/8000/index.html`, { as: 'alice' });
      return r.status === 200 ? r : null;
    });
    expect(viaProxy.body).toBe('hello-from-a\n');
    expect(await fetchFrom(stack, a, '127.0.0.1', 8000, '/index.html', 'alice')).toBe('hello-from-a\n');
  });

  it("another owner's sandbox cannot reach that server at A's address", async () => {
    await eventually(async () => (await stack.api('GET', `/sandboxes/${a}/proxy/8000/index.html`, { as: 'alice' })).status === 200);
    const { ip } = await addressOf(stack, a);
    expect(await fetchFrom(stack, b, ip, 8000, '/index.html', 'bob')).toBeNull();
  });

  it("a sandbox cannot reach the host: a listener on all the host's addresses is not reachable through the bridge gateway", async () => {
    let connections = 0;
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.end('HTTP/1.0 200 OK\r\ncontent-length: 4\r\n\r\nhost');
    });
    await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const { gateway } = await addressOf(stack, b);
      expect(await fetchFrom(stack, b, gateway, port, '/', 'bob')).toBeNull();
      expect(connections).toBe(0);
      // The listener itself works: the host reaches it on the same address.
      const local = await fetch(`http://${gateway}:${port}/`).then((r) => r.text());
      expect(local).toBe('host');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('shows the egress policy in the sandbox info', async () => {
    const info = await stack.api('GET', `/sandboxes/${b}`, { as: 'bob' });
    expect(info.body.network).toEqual({ allowInternet: true, allowOut: [], denyOut: [] });
  });
});
