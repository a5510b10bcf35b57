/** Malformed URLs and query values are the caller's mistake: a 400 {code, message}, never a 500. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ owners: ['alice'] });
});
afterAll(async () => {
  await stack?.stop();
});

function expectInvalid(res: { status: number; body: { code?: string; message?: string } }, mentions: RegExp): void {
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('invalid_argument');
  expect(res.body.message).toMatch(mentions);
}

describe('malformed URLs answer 400 invalid_argument', () => {
  it('a broken percent-escape in a path parameter', async () => {
    expectInvalid(await stack.api('GET', '/sandboxes/%ZZ'), /percent/);
    expectInvalid(await stack.api('POST', '/sandboxes/abc%E0%A4%A/pause'), /percent/);
  });

  it('a broken percent-escape in a proxied path', async () => {
    expectInvalid(await stack.api('GET', '/sandboxes/abcdefghij0123456789/proxy/8000/a/%ZZ/b'), /percent/);
  });

  it('a nextToken this API never returned', async () => {
    for (const token of ['AAAA', 'AQID', 'not-a-token']) {
      expectInvalid(await stack.api('GET', `/sandboxes?nextToken=${token}`), /nextToken/);
    }
  });

  it('a metadata filter with a control character', async () => {
    expectInvalid(await stack.api('GET', '/sandboxes?metadata=k=%00'), /metadata/);
    expectInvalid(await stack.api('GET', '/sandboxes?metadata=k=a%0Ab'), /metadata/);
    expectInvalid(await stack.api('POST', '/sandboxes/bulk/kill', { body: { metadata: { k: 'a\u0000' } } }), /metadata/);
  });

  it('a still-valid list query keeps working', async () => {
    const res = await stack.api('GET', '/sandboxes?metadata=k=v&limit=5');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sandboxes: [], nextToken: null });
  });
});
