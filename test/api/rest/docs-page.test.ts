/**
 * `/docs` in a real browser: Debian's headless Chromium loads the page from a test stack and
 * the operations of `/openapi.json` are rendered, with every request of the page going to
 * 127.0.0.1 (anything else would go to a proxy that refuses it, and is listed). A control page
 * with CDN references shows that such requests are seen.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPage, startRecordingProxy, type RecordingProxy } from '../../helpers/chromium.js';
import { startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
let proxy: RecordingProxy;

beforeAll(async () => {
  [stack, proxy] = await Promise.all([startStack({ owners: ['docs'] }), startRecordingProxy()]);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), proxy?.close()]);
});

async function documentedOperations(): Promise<Array<{ method: string; path: string; summary: string }>> {
  const doc = (await stack.api('GET', '/openapi.json', { key: null })).body as { paths: Record<string, Record<string, { summary: string }>> };
  return Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method, path, summary: op.summary })));
}

function decode(html: string): string {
  return html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

describe('/docs in headless Chromium', () => {
  it('renders every documented operation (method, path, summary), loading nothing from outside 127.0.0.1', async () => {
    const ops = await documentedOperations();
    expect(ops.length).toBeGreaterThan(20);
    const page = await loadPage(`${stack.baseUrl}/docs`, {
      proxyPort: proxy.port,
      until: `document.querySelectorAll('.opblock').length >= ${ops.length}`,
    });
    expect(page.settled, `Swagger UI rendered ${ops.length} operations before the wait ran out`).toBe(true);
    const dom = decode(page.dom);

    // Swagger UI renders one block per operation: its method, path (data-path) and summary.
    const blocks = dom.match(/<div class="opblock opblock-[a-z]+/g) ?? [];
    expect(blocks.length, 'operation blocks rendered').toBe(ops.length);
    for (const op of ops) {
      expect(dom, `${op.method} ${op.path}`).toMatch(new RegExp(`opblock-${op.method}[^]*?data-path="${op.path.replace(/[{}]/g, '\\$&')}"`));
      expect(dom, `summary of ${op.method} ${op.path}`).toContain(op.summary);
    }
    expect(dom).toContain('berth API');
    // The page, its script and style, and the document: all from berth, none from anywhere else.
    expect(page.requests).toEqual(expect.arrayContaining([`${stack.baseUrl}/docs`, `${stack.baseUrl}/docs/assets/swagger-ui-bundle.js`, `${stack.baseUrl}/openapi.json`]));
    expect(page.requests.filter((url) => !url.startsWith(`${stack.baseUrl}/`) && !url.startsWith('data:')), 'requests outside berth').toEqual([]);
  });

  it('serves only the viewer\'s own files, and /docs/ leads to /docs', async () => {
    const css = await fetch(`${stack.baseUrl}/docs/assets/swagger-ui.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    for (const path of ['/docs/assets/package.json', '/docs/assets/..%2Fpackage.json', '/docs/assets/swagger-initializer.js']) {
      const res = await fetch(`${stack.baseUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { code: string }).code).toBe('not_found');
    }
    const slash = await fetch(`${stack.baseUrl}/docs/`, { redirect: 'manual' });
    expect(slash.status).toBe(301);
    expect(new URL(slash.headers.get('location') ?? '', `${stack.baseUrl}/docs/`).pathname).toBe('/docs');
  });

  it('control: a page that loads from a CDN shows those requests, and the proxy refuses them', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><link rel="stylesheet" href="https://fonts.example/css"><script src="http://cdn.example/lib.js"></script><p id="done">control</p>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const page = await loadPage(`${base}/`, { proxyPort: proxy.port, until: `document.getElementById('done') && document.readyState === 'complete'` });
      expect(page.dom).toContain('control');
      expect(page.requests.filter((url) => !url.startsWith(`${base}/`))).toEqual(['https://fonts.example/css', 'http://cdn.example/lib.js']);
      expect(proxy.requests).toEqual(expect.arrayContaining(['CONNECT fonts.example:443', 'GET http://cdn.example/lib.js']));
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
