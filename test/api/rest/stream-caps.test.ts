import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
let sb: string;
let bobSb: string;

beforeAll(async () => {
  stack = await startStack({ env: { BERTH_MAX_STREAMS_PER_OWNER: '1' } });
  const [a, b] = await Promise.all([
    stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300 } }),
    stack.api('POST', '/sandboxes', { as: 'bob', body: { templateID: 'tiny', timeout: 300 } }),
  ]);
  expect([a.status, b.status]).toEqual([201, 201]);
  sb = a.body.sandboxID;
  bobSb = b.body.sandboxID;
});
afterAll(async () => {
  await stack?.stop();
});

const auth = (as = 'alice') => ({ authorization: `Bearer ${stack.keys[as]}` });
/** Starts a streamed command and waits for its `start` event; `abort` drops the client. */
async function openCommandStream(cmd: string, as = 'alice', id = sb) {
  const controller = new AbortController();
  const res = await fetch(`${stack.baseUrl}/sandboxes/${id}/commands`, {
    method: 'POST',
    headers: { ...auth(as), 'content-type': 'application/json' },
    body: JSON.stringify({ cmd, stream: true }),
    signal: controller.signal,
  });
  return { res, controller };
}
async function streamText(cmd: string, as = 'alice', id = sb): Promise<{ status: number; text: string }> {
  const { res } = await openCommandStream(cmd, as, id);
  return { status: res.status, text: await res.text() };
}
/** The status line of a WebSocket upgrade through the proxy. */
function upgradeStatus(): Promise<string> {
  const url = new URL(stack.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => {
      socket.write(
        `GET /sandboxes/${sb}/proxy/8000/ HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${stack.keys.alice}\r\n` +
          'connection: Upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
    });
    let data = '';
    socket.on('data', (c: Buffer) => {
      data += c.toString('utf8');
      if (data.includes('\r\n')) {
        resolve(data.split('\r\n')[0] ?? '');
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
}

describe('concurrent streams per owner', () => {
  it('refuses every kind of stream with 429 while the owner holds its cap, per owner, and an aborted client releases its slot', async () => {
    await stack.api('PUT', `/sandboxes/${sb}/files?path=/tmp/f.txt`, { body: 'data', headers: { 'content-type': 'application/octet-stream' } });
    const bg = await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd: 'echo bg', background: true } });
    expect(bg.status).toBe(201);

    const held = await openCommandStream('echo started; sleep 120');
    expect(held.res.status).toBe(200);
    const reader = (held.res.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/event: start/);

    const refused = [
      await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd: 'echo no', stream: true } }),
      await stack.api('GET', `/sandboxes/${sb}/commands/${bg.body.cmdID}/logs?follow=true`),
      await stack.api('GET', `/sandboxes/${sb}/files?path=/tmp/f.txt`),
      await stack.api('PUT', `/sandboxes/${sb}/files?path=/tmp/g.txt`, { body: 'x', headers: { 'content-type': 'application/octet-stream' } }),
      await stack.api('GET', `/sandboxes/${sb}/proxy/8000/`),
    ];
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.body.code).toBe('quota_exceeded');
      expect(r.body.message).toMatch(/already has 1 streams open \(limit 1, BERTH_MAX_STREAMS_PER_OWNER/);
    }
    expect(await upgradeStatus()).toMatch(/^HTTP\/1\.1 429/);
    // Short calls are not streams; another owner has its own slots.
    expect((await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd: 'echo plain' } })).body.stdout).toBe('plain\n');
    expect(await streamText('echo bob', 'bob', bobSb)).toMatchObject({ status: 200, text: expect.stringContaining('bob') });

    // The client goes away mid-stream: its slot comes back.
    held.controller.abort();
    const after = await eventually(async () => {
      const r = await streamText('echo again');
      return r.status === 200 ? r : undefined;
    });
    expect(after.text).toContain('again');
  });

  it('releases the slot when each kind of stream ends', async () => {
    const bg = await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd: 'echo done', background: true } });
    await eventually(async () => (await stack.api('GET', `/sandboxes/${sb}/commands/${bg.body.cmdID}`)).body.running === false);
    for (let i = 0; i < 2; i++) {
      expect((await streamText('echo s')).status).toBe(200);
      expect((await stack.api('GET', `/sandboxes/${sb}/commands/${bg.body.cmdID}/logs?follow=true`)).body).toMatch(/event: end/);
      expect((await stack.api('PUT', `/sandboxes/${sb}/files?path=/tmp/h.txt`, { body: 'h', headers: { 'content-type': 'application/octet-stream' } })).status).toBe(201);
      expect((await stack.api('GET', `/sandboxes/${sb}/files?path=/tmp/h.txt`)).body).toBe('h');
      expect((await stack.api('GET', `/sandboxes/${sb}/proxy/8000/`)).status).toBe(502); // nothing listens: ends at once
      expect(await upgradeStatus()).toMatch(/^HTTP\/1\.1 502/);
    }
  });
});
