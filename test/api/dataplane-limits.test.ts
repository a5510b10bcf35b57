import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.js';

type Body = NonNullable<RequestInit['body']>;

let stack: TestStack;
let sb: string;

beforeAll(async () => {
  stack = await startStack();
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300, resources: { memoryMB: 128 } } });
  expect(res.status).toBe(201);
  sb = res.body.sandboxID;
});
afterAll(async () => {
  await stack?.stop();
});

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
