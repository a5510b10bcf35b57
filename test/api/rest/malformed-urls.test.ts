/** Malformed URLs and query values are the caller's mistake: a 400 {code, message}, never a 500. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../../helpers/stack.js';

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

  it('many metadata filters with non-ASCII values (found by the fuzz run) answer 200', async () => {
    const res = await stack.api('GET', '/sandboxes?metadata=_86rWFdPQbigp%3D%C3%96%C2%B1%F0%A2%9A%9B%C2%81%F3%83%90%BFN%C2%84%C2%9C%F3%BB%81%A5%F1%9A%88%BA%C2%9718%7B&metadata=4W%3D%F3%A2%AB%BC%C3%A4b%C2%AF%C3%B5%C8%BEv%F1%BB%A7%B1%C2%A1%F0%B3%8E%AF%F2%92%80%B0d%C3%AD%F1%83%9B%B6%C4%96&metadata=wu_e1%3Db%F4%8A%93%B2%C4%94f%C2%B8%C4%89%C3%96ii&metadata=.j%3D_%F3%98%AF%BF%F0%9F%98%8D%F2%A6%9F%86%C2%BDdA&metadata=KLk0U.37S7%3D%C2%AE%F0%A2%89%9D&metadata=8uq%3D&metadata=Ov%3Dk&metadata=r%3A2D%3D%C4%85%F1%99%9B%B0%C3%94%E9%AB%8F&metadata=QBp%3D%C2%81%F1%BE%8D%A2%C2%BE%C4%8C%F1%BF%92%AF%C2%A0%7C%C3%BB%C3%89&metadata=Hf%3D%7C%3F%C2%91%C2%BE%C4%90%C3%9C5%F3%8C%89%BD%C2%9E%C3%AD&metadata=bj%3D%C3%99%F3%90%AB%96%C2%B5&metadata=5nF%3D&metadata=aQZU%3D%F1%99%9A%9F%C2%8E%C3%9A%F3%A9%BA%B5%28%C3%BE%C2%8D&metadata=YEO%3Df%F0%9F%98%8Dp%C4%8A%C3%A1%F0%AA%83%83&metadata=_G29OLK%3D&metadata=sgaUrEkwe%3D%F2%84%B8%90&metadata=Ssi5%3D&metadata=vRNFgl%3D%C2%8Bc+%F3%BE%BE%B9%C8%BAfk%C3%A4%5E%C2%B7%F0%B6%B8%94%C4%89%C2%89j%C4%80&metadata=vzOi%3D&metadata=0%3A-%3D%C3%BD%C3%A8%7C%C3%A0%C3%BE%F1%A7%B8%A2a&limit=380&status=creating');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  });

  it('a still-valid list query keeps working', async () => {
    const res = await stack.api('GET', '/sandboxes?metadata=k=v&limit=5');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sandboxes: [], nextToken: null });
  });
});
