import { mkdirSync, mkdtempSync, readdirSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

type Body = NonNullable<RequestInit['body']>;

const MIB = 1024 * 1024;
let stack: TestStack;
let sb: string;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-limits-'));
const spoolRoot = path.join(dataDir, 'spool');
// Left behind by API processes: one that is gone (pid far above any pid_max), one still running (pid 1).
const deadLeftover = path.join(spoolRoot, 'api-999999999-dead');
const liveOther = path.join(spoolRoot, 'api-1-alive');

beforeAll(async () => {
  for (const dir of [path.join(deadLeftover, 'spool-x'), liveOther]) mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(deadLeftover, 'spool-x', 'body'), Buffer.alloc(1024));
  writeFileSync(path.join(liveOther, 'keep'), 'x');
  stack = await startStack({
    // Without berth's agent: the spool serves sandboxes that have none (with one, transfers
    // stream through it and never spool; test/dataplane/agent-exec.test.ts covers that path).
    env: { BERTH_DATA_DIR: dataDir, BERTH_MAX_UPLOAD_BYTES: String(16 * MIB), BERTH_SPOOL_BUDGET_BYTES: String(24 * MIB), BERTH_AGENT_BINARY: '' },
  });
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300, resources: { memoryMB: 128 } } });
  expect(res.status).toBe(201);
  sb = res.body.sandboxID;
});
afterAll(async () => {
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Files in this API's spool folder (not the planted ones). */
function ownSpoolFiles(): string[] {
  return readdirSync(spoolRoot)
    .filter((d) => d.startsWith(`api-${process.pid}-`))
    .flatMap((d) => readdirSync(path.join(spoolRoot, d), { recursive: true }).map(String));
}

/** A PUT whose body the test writes itself; `response` resolves as soon as the API answers. */
function rawPut(target: string, headers: Record<string, string>) {
  const req = http.request(`${stack.baseUrl}/sandboxes/${sb}/files?path=${encodeURIComponent(target)}`, {
    method: 'PUT',
    headers: { ...auth(), 'content-type': 'application/octet-stream', ...headers },
  });
  const response = new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: { code: string; message: string } }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text || '{}') }));
    });
    req.on('error', reject);
  });
  response.catch(() => undefined);
  return { req, response };
}

const auth = () => ({ authorization: `Bearer ${stack.keys.alice}` });
const put = (path: string, body: Body, headers: Record<string, string> = {}) =>
  fetch(`${stack.baseUrl}/sandboxes/${sb}/files?path=${encodeURIComponent(path)}`, {
    method: 'PUT',
    headers: { ...auth(), 'content-type': 'application/octet-stream', ...headers },
    body,
    duplex: 'half',
  } as RequestInit);
const run = async (cmd: string) => (await stack.api('POST', `/sandboxes/${sb}/commands`, { body: { cmd } })).body.stdout as string;

describe('replace output cap', () => {
  it('answers 413 (not 500) when the replaced text would outgrow the edit cap, and leaves the file as it was', async () => {
    const size = 10 * 1024 * 1024 - 100; // just under the 10 MiB edit cap
    expect((await put('/tmp/big.txt', Buffer.alloc(size, 'x'))).status).toBe(201);
    const res = await stack.api('POST', `/sandboxes/${sb}/files/replace`, { body: { path: '/tmp/big.txt', old: 'x', new: 'y'.repeat(60) } });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    expect(res.body.message).toMatch(/BERTH_FILE_EDIT_CAP_BYTES/);
    expect((await run('wc -c < /tmp/big.txt; head -c 3 /tmp/big.txt')).trim()).toBe(`${size}\nxxx`);
    // A replacement that stays within the cap still works on the same file.
    const one = await stack.api('POST', `/sandboxes/${sb}/files/replace`, { body: { path: '/tmp/big.txt', old: 'x', new: 'y'.repeat(60), all: false } });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ replacements: 1, entry: { size: size + 59 } });
  });
});

/** A chunked upload sent 1 MiB at a time until the API answers (or 64 MiB went, then the body ends). */
async function chunkedUntilAnswered(target: string) {
  const { req, response } = rawPut(target, { 'transfer-encoding': 'chunked' });
  let sent = 0;
  let answered = false;
  void response.finally(() => (answered = true));
  while (!answered && sent < 64 * MIB) {
    const ok = req.write(Buffer.alloc(MIB, 7));
    sent += MIB;
    if (!ok) await Promise.race([new Promise((r) => req.once('drain', r)), response.catch(() => undefined), new Promise((r) => setTimeout(r, 200))]);
  }
  if (!answered) req.end(); // an API without the cap waits for the end of the body
  const res = await response;
  req.destroy();
  return { res, sent };
}

describe('upload cap, spool budget and spool clean-up', () => {
  it('removed the spool files a crashed API left, and kept those of a running one', () => {
    expect(existsSync(deadLeftover)).toBe(false);
    expect(existsSync(path.join(liveOther, 'keep'))).toBe(true);
  });

  it('refuses an announced upload over BERTH_MAX_UPLOAD_BYTES at once (413 before the body is sent)', async () => {
    const { req, response } = rawPut('/tmp/huge.bin', { 'content-length': String(17 * MIB) });
    req.write(Buffer.alloc(1024)); // only a token of the announced body
    const res = await response;
    req.destroy();
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    expect(res.body.message).toMatch(/BERTH_MAX_UPLOAD_BYTES/);
    expect((await run('ls /tmp/huge.bin 2>&1 || true')).trim()).toMatch(/No such file/);
  });

  it('stops a chunked upload once it crosses the cap (413), leaving nothing behind', async () => {
    const { res, sent } = await chunkedUntilAnswered('/tmp/chunked.bin');
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/BERTH_MAX_UPLOAD_BYTES/);
    expect(sent).toBeLessThan(64 * MIB);
    expect((await run('ls -a /tmp | grep -c -e chunked -e berth-upload || true')).trim()).toBe('0');
    await eventually(async () => ownSpoolFiles().length === 0);
  });

  it('applies the cap to uploads that stream through exec (/dev/shm) too', async () => {
    const { res, sent } = await chunkedUntilAnswered('/dev/shm/chunked.bin');
    expect(sent).toBeLessThan(64 * MIB);
    expect(res.status).toBe(413);
    expect(res.body.message).toMatch(/BERTH_MAX_UPLOAD_BYTES/);
    expect((await run('ls -a /dev/shm | grep -c -e chunked -e berth-upload || true')).trim()).toBe('0');
  });

  it('answers 503 with Retry-After for uploads and downloads while the spool budget is used up, and frees it when the transfer ends', async () => {
    expect((await put('/tmp/ten.bin', Buffer.alloc(10 * MIB, 1))).status).toBe(201);
    // A stalled upload holds 16 MiB of the 24 MiB budget.
    const stalled = rawPut('/tmp/stalled.bin', { 'content-length': String(16 * MIB) });
    stalled.req.write(Buffer.alloc(MIB));
    await eventually(async () => ownSpoolFiles().length > 0);

    const upload = await put('/tmp/other.bin', Buffer.alloc(10 * MIB, 2));
    expect(upload.status).toBe(503);
    expect(upload.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await upload.json()).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/spool is full.*retry/) });

    const download = await fetch(`${stack.baseUrl}/sandboxes/${sb}/files?path=/tmp/ten.bin`, { headers: auth() });
    expect(download.status).toBe(503);
    expect(download.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await download.json()) as { code: string }).code).toBe('unavailable');

    // A small download still fits in what is left.
    await put('/tmp/small.txt', 'small');
    expect(await (await fetch(`${stack.baseUrl}/sandboxes/${sb}/files?path=/tmp/small.txt`, { headers: auth() })).text()).toBe('small');

    // The stalled client goes away: its spool is removed and the budget freed.
    stalled.req.destroy();
    await eventually(async () => ownSpoolFiles().length === 0);
    const retried = await eventually(async () => {
      const r = await put('/tmp/other.bin', Buffer.alloc(10 * MIB, 2));
      return r.status === 201 ? r : undefined;
    });
    expect(retried.status).toBe(201);
    const again = await fetch(`${stack.baseUrl}/sandboxes/${sb}/files?path=/tmp/ten.bin`, { headers: auth() });
    expect(again.status).toBe(200);
    expect((await again.arrayBuffer()).byteLength).toBe(10 * MIB);
    expect((await run('ls -a /tmp | grep -c -e stalled -e berth-upload || true')).trim()).toBe('0');
    await eventually(async () => ownSpoolFiles().length === 0);
  });
});
