/**
 * The OpenSandbox front door over plain HTTP: the protocol's error shape and codes, 4xx for bad
 * input (never a 500), the key header and the per-sandbox endpoint token, and that berth's
 * credentials never reach a server inside the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ owners: ['alice', 'bob'], env: { BERTH_MAX_STREAMS_PER_OWNER: '1' } });
});
afterAll(async () => {
  await stack?.stop();
});

async function call(method: string, path: string, opts: { body?: unknown; key?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  const key = opts.key === undefined ? stack.keys.alice : opts.key;
  if (key) headers['OPEN-SANDBOX-API-KEY'] = key;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(`${stack.baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: any = text; // eslint-disable-line @typescript-eslint/no-explicit-any
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, headers: res.headers };
}

function expectError(res: { status: number; body: unknown }, status: number, code: string, message?: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body).toMatchObject({ code, message: expect.any(String) });
  if (message) expect((res.body as { message: string }).message).toMatch(message);
}

const image = process.env.BERTH_IMAGE_BUSYBOX ?? 'berth/busybox:1';

describe('OpenSandbox front door over HTTP', () => {
  it('answers 401 in the protocol shape without or with a wrong key, and does not take berth REST keys headers', async () => {
    expectError(await call('GET', '/v1/sandboxes', { key: null }), 401, 'UNAUTHORIZED', /OPEN-SANDBOX-API-KEY/);
    expectError(await call('GET', '/v1/sandboxes', { key: 'nope' }), 401, 'UNAUTHORIZED', /invalid API key/);
    expectError(await call('GET', '/v1/sandboxes', { key: null, headers: { authorization: `Bearer ${stack.keys.alice}` } }), 401, 'UNAUTHORIZED');
    // berth's own REST is unchanged beside it
    expect((await stack.api('GET', '/sandboxes')).status).toBe(200);
  });

  it('refuses bad create input with 400 INVALID_ARGUMENT naming the field, and unsupported features with 501 NOT_SUPPORTED', async () => {
    expectError(await call('POST', '/v1/sandboxes', { body: '{not json' }), 400, 'INVALID_JSON');
    expectError(await call('POST', '/v1/sandboxes', { body: { timeout: 60 } }), 400, 'INVALID_ARGUMENT', /image is required/);
    expectError(await call('POST', '/v1/sandboxes', { body: { image: { uri: image }, timeout: 'soon' } }), 400, 'INVALID_ARGUMENT', /timeout/);
    expectError(await call('POST', '/v1/sandboxes', { body: { image: { uri: image }, resourceLimits: { cpu: 'lots' } } }), 400, 'INVALID_ARGUMENT', /resourceLimits.cpu/);
    expectError(await call('POST', '/v1/sandboxes', { body: { image: { uri: image }, resourceLimits: { memory: '12 parsecs' } } }), 400, 'INVALID_ARGUMENT', /resourceLimits.memory/);
    expectError(await call('POST', '/v1/sandboxes', { body: { image: { uri: image }, resourceLimits: { cpu: '64' } } }), 400, 'INVALID_ARGUMENT', /resources.cpu must be between/);
    expectError(await call('POST', '/v1/sandboxes', { body: { image: { uri: image }, env: { '1BAD': 'x' } } }), 400, 'INVALID_ARGUMENT', /env name "1BAD"/);
    expectError(
      await call('POST', '/v1/sandboxes', { body: { image: { uri: image }, networkPolicy: { defaultAction: 'deny', egress: [{ action: 'allow', target: 'pypi.org' }] } } }),
      400,
      'INVALID_ARGUMENT',
      /network.allowOut/,
    );
    expectError(await call('POST', '/v1/sandboxes', { body: { image: { uri: 'registry.example/app:1' } } }), 400, 'INVALID_ARGUMENT', /custom images are disabled/);
    expectError(await call('POST', '/v1/sandboxes', { body: { snapshotId: 'snap-1' } }), 400, 'INVALID_ARGUMENT', /snapshotID is snap_/);
    expectError(await call('POST', '/v1/sandboxes', { body: { snapshotId: `snap_${'a'.repeat(20)}` } }), 404, 'NOT_FOUND', /snapshot snap_a+ not found/);
    expectError(await call('POST', '/v1/sandboxes', { body: { snapshotId: 'snap-1', image: { uri: image } } }), 400, 'INVALID_ARGUMENT', /either image or snapshotId/);
    const vol = (v: Record<string, unknown>) => ({ body: { image: { uri: image }, volumes: [{ name: 'v', mountPath: '/v', ...v }] } });
    expectError(await call('POST', '/v1/sandboxes', vol({})), 400, 'INVALID_ARGUMENT', /exactly one backend: pvc/);
    expectError(await call('POST', '/v1/sandboxes', vol({ host: { path: '/var/run' } })), 400, 'INVALID_ARGUMENT', /host-path volumes are refused/);
    expectError(await call('POST', '/v1/sandboxes', vol({ ossfs: { bucket: 'b', endpoint: 'e' } })), 501, 'NOT_SUPPORTED', /ossfs/);
    expectError(await call('POST', '/v1/sandboxes', vol({ pvc: { claimName: 'data' }, subPath: 'a' })), 501, 'NOT_SUPPORTED', /subPath/);
    expectError(await call('POST', '/v1/sandboxes', vol({ pvc: { claimName: 'data', deleteOnSandboxTermination: true } })), 501, 'NOT_SUPPORTED', /deleteOnSandboxTermination/);
    expectError(await call('POST', '/v1/sandboxes', vol({ pvc: { claimName: 'Bad Name' } })), 400, 'INVALID_ARGUMENT', /claimName "Bad Name"/);
    expectError(await call('POST', '/v1/sandboxes', vol({ pvc: { claimName: 'data', storage: 'huge' } })), 400, 'INVALID_ARGUMENT', /pvc.storage/);
    expectError(await call('POST', '/v1/sandboxes', vol({ mountPath: '/proc/x', pvc: { claimName: 'data', createIfNotExists: false } })), 400, 'INVALID_ARGUMENT', /mountPath/);
    expectError(await call('POST', '/v1/sandboxes', { body: { image: { uri: image, auth: { username: 'u', password: 'p' } } } }), 501, 'NOT_SUPPORTED', /credentials/);
    expectError(await call('POST', '/v1/sandboxes', { body: { image: { uri: image }, resourceLimits: { gpu: '1' } } }), 501, 'NOT_SUPPORTED', /gpu/);
  });

  it('answers 404 NOT_FOUND for unknown sandboxes and routes, 400 for bad list, renew and endpoint input', async () => {
    expectError(await call('GET', '/v1/sandboxes/nosuchsandboxatall000'), 404, 'NOT_FOUND');
    expectError(await call('DELETE', '/v1/sandboxes/nosuchsandboxatall000'), 404, 'NOT_FOUND');
    expectError(await call('POST', '/v1/sandboxes/nosuchsandboxatall000/renew-expiration', { body: { expiresAt: new Date(Date.now() + 60_000).toISOString() } }), 404, 'NOT_FOUND');
    expectError(await call('GET', '/v1/nothing-here'), 404, 'NOT_FOUND', /no OpenSandbox route/);
    expectError(await call('GET', '/v1/sandboxes?page=0'), 400, 'INVALID_ARGUMENT', /page/);
    expectError(await call('GET', '/v1/sandboxes?pageSize=abc'), 400, 'INVALID_ARGUMENT', /pageSize/);
    expectError(await call('POST', '/v1/sandboxes/nosuchsandboxatall000/renew-expiration', { body: { expiresAt: 'tomorrow' } }), 400, 'INVALID_ARGUMENT', /ISO 8601/);
    expectError(await call('POST', '/v1/sandboxes/nosuchsandboxatall000/renew-expiration', { body: {} }), 400, 'INVALID_ARGUMENT', /expiresAt/);
    expectError(await call('GET', '/v1/sandboxes/nosuchsandboxatall000/endpoints/99999'), 400, 'INVALID_ARGUMENT', /port/);
    expectError(await call('GET', '/v1/snapshots/snap-1'), 404, 'NOT_FOUND');
    expectError(await call('DELETE', '/v1/snapshots/snap-1'), 404, 'NOT_FOUND');
    expectError(await call('POST', '/v1/sandboxes/nosuchsandboxatall000/snapshots', { body: {} }), 404, 'NOT_FOUND');
    expectError(await call('GET', '/v1/snapshots?pageSize=0'), 400, 'INVALID_ARGUMENT', /pageSize/);
  });

  it('create answers 202 in the protocol shape; execd and endpoints take the key or a token for that sandbox and port only; credentials stay out of the sandbox', async () => {
    const created = await call('POST', '/v1/sandboxes', { body: { image: { uri: image }, timeout: 120, metadata: { suite: 'os-http' }, entrypoint: ['tail', '-f', '/dev/null'] } });
    expect(created.status, JSON.stringify(created.body)).toBe(202);
    expect(created.body).toMatchObject({ status: { state: 'Running' }, metadata: { suite: 'os-http' }, entrypoint: ['tail', '-f', '/dev/null'] });
    const id = created.body.id as string;
    try {
      // direct mode: endpoint without scheme plus a token header; server-proxy mode: no header
      const direct = await call('GET', `/v1/sandboxes/${id}/endpoints/44772`);
      expect(direct.status).toBe(200);
      const host = new URL(stack.baseUrl).host;
      expect(direct.body.endpoint).toBe(`${host}/v1/sandboxes/${id}/proxy/44772`);
      const token = direct.body.headers['x-execd-access-token'] as string;
      expect(token).toBeTruthy();
      const proxied = await call('GET', `/v1/sandboxes/${id}/endpoints/44772?use_server_proxy=true`);
      expect(proxied.body).toEqual({ endpoint: `${host}/v1/sandboxes/${id}/proxy/44772` });

      expect((await call('GET', `/v1/sandboxes/${id}/proxy/44772/ping`, { key: null, headers: { 'x-execd-access-token': token } })).status).toBe(200);
      expect((await call('GET', `/v1/sandboxes/${id}/proxy/44772/ping`)).status).toBe(200);
      expectError(await call('GET', `/v1/sandboxes/${id}/proxy/44772/ping`, { key: null }), 401, 'UNAUTHORIZED');
      expectError(await call('GET', `/v1/sandboxes/${id}/proxy/44772/ping`, { key: null, headers: { 'x-execd-access-token': `${token}x` } }), 401, 'UNAUTHORIZED');
      // the token is for this port only
      expectError(await call('GET', `/v1/sandboxes/${id}/proxy/8000/`, { key: null, headers: { 'x-execd-access-token': token } }), 401, 'UNAUTHORIZED');
      // another owner's key: not found
      expectError(await call('GET', `/v1/sandboxes/${id}/proxy/44772/ping`, { key: stack.keys.bob }), 404, 'NOT_FOUND');
      expectError(await call('GET', `/v1/sandboxes/${id}/endpoints/44772`, { key: stack.keys.bob }), 404, 'NOT_FOUND');

      // execd bad input
      expectError(await call('POST', `/v1/sandboxes/${id}/proxy/44772/command`, { body: {} }), 400, 'INVALID_ARGUMENT', /command/);
      expectError(await call('GET', `/v1/sandboxes/${id}/proxy/44772/command/status/nope`), 404, 'NOT_FOUND');
      expectError(await call('GET', `/v1/sandboxes/${id}/proxy/44772/files/info?path=relative`), 400, 'INVALID_ARGUMENT', /absolute/);
      expectError(await call('GET', `/v1/sandboxes/${id}/proxy/44772/files/info?path=/no/such/file`), 404, 'NOT_FOUND');
      expectError(await call('POST', `/v1/sandboxes/${id}/proxy/44772/files/upload`, { body: { a: 1 } }), 400, 'INVALID_ARGUMENT', /multipart/);
      expectError(await call('POST', `/v1/sandboxes/${id}/proxy/44772/code/context`, { body: { language: 'python' } }), 501, 'NOT_SUPPORTED', /code-interpreter/);
      expectError(await call('POST', `/v1/sandboxes/${id}/proxy/44772/session`, { body: {} }), 501, 'NOT_SUPPORTED', /sessions/);
      expectError(await call('GET', `/v1/sandboxes/${id}/proxy/18080/policy`), 501, 'NOT_SUPPORTED', /egress/);

      // a foreground command is a stream: beyond the owner's stream cap, 429 QUOTA_EXCEEDED
      const long = await fetch(`${stack.baseUrl}/v1/sandboxes/${id}/proxy/44772/command`, {
        method: 'POST',
        headers: { 'OPEN-SANDBOX-API-KEY': stack.keys.alice ?? '', 'content-type': 'application/json' },
        body: JSON.stringify({ command: 'sleep 2' }),
      });
      const reader = long.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toContain('"type":"init"'); // the stream is open
      expectError(await call('POST', `/v1/sandboxes/${id}/proxy/44772/command`, { body: { command: 'true' } }), 429, 'QUOTA_EXCEEDED', /BERTH_MAX_STREAMS_PER_OWNER/);
      while (!(await reader.read()).done);
      expect((await call('POST', `/v1/sandboxes/${id}/proxy/44772/command`, { body: { command: 'true' } })).status).toBe(200);

      // a server in the sandbox sees neither the API key nor the endpoint token
      const listen = await call('POST', `/v1/sandboxes/${id}/proxy/44772/command`, {
        body: { command: 'mkdir -p /srv && cd /srv && (while true; do { sleep 1; printf "HTTP/1.0 200 OK\\r\\n\\r\\n"; } | nc -l -p 8000 >> /srv/req.txt; done) >/dev/null 2>&1 &', background: false },
      });
      expect(listen.status).toBe(200);
      const seen = await fetchUntilUp(`/v1/sandboxes/${id}/proxy/8000/hello`, token);
      expect(seen).toBe(200);
      const dump = await call('POST', `/v1/sandboxes/${id}/proxy/44772/command`, { body: { command: 'cat /srv/req.txt' } });
      expect(dump.body).toContain('GET /hello');
      expect(dump.body.toLowerCase()).not.toContain('open-sandbox-api-key');
      expect(dump.body.toLowerCase()).not.toContain('x-execd-access-token');
    } finally {
      expect((await call('DELETE', `/v1/sandboxes/${id}`)).status).toBe(204);
    }
    expectError(await call('GET', `/v1/sandboxes/${id}`), 404, 'NOT_FOUND');
  });
});

/** The port-8000 endpoint through the door, sending both credentials, until the server in the sandbox answers. */
async function fetchUntilUp(path: string, token: string): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const res = await call('GET', path, { headers: { 'x-execd-access-token': token } });
    if (res.status === 200) return 200;
    await new Promise((r) => setTimeout(r, 200));
  }
  return 0;
}
