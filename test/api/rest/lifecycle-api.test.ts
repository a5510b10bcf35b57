/** The lifecycle REST surface against real Temporal and Docker: every endpoint and error case. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../../src/api/app.js';
import { createLogger } from '../../../src/logger.js';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { BERTH_MAX_SANDBOXES_PER_OWNER: '6', BERTH_ALLOW_CUSTOM_IMAGES: 'true' } });
});
afterAll(async () => {
  await stack?.stop();
});

async function create(body: Record<string, unknown> = {}, as?: string) {
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', ...body }, as });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { sandboxID: string; endAt: string; [k: string]: unknown };
}

describe('lifecycle endpoints', () => {
  it('pause → 409 on second pause → resume → 409 on second resume, with events and container state', async () => {
    const sb = await create({ metadata: { suite: 'pause' } });
    const paused = await stack.api('POST', `/sandboxes/${sb.sandboxID}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('paused');
    expect((await stack.docker.getContainer(sb.sandboxID).inspect()).State.Paused).toBe(true);
    const again = await stack.api('POST', `/sandboxes/${sb.sandboxID}/pause`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'conflict' });
    expect(again.body.message).toMatch(/paused/);
    const resumed = await stack.api('POST', `/sandboxes/${sb.sandboxID}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.status).toBe('running');
    expect((await stack.api('POST', `/sandboxes/${sb.sandboxID}/resume`)).status).toBe(409);
    const events = await stack.api('GET', `/sandboxes/${sb.sandboxID}/events`);
    expect(events.body.events.map((e: { reason: string }) => e.reason)).toEqual(['created', 'provisioned', 'user', 'user']);
    expect((await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`)).status).toBe(204);
  });

  it('timeout may shorten endAt; refreshes never shorten it; bad values are 400', async () => {
    const sb = await create({ timeout: 600 });
    const refreshed = await stack.api('POST', `/sandboxes/${sb.sandboxID}/refreshes`, { body: { duration: 10 } });
    expect(refreshed.status).toBe(200);
    expect(Date.parse(refreshed.body.endAt)).toBeGreaterThanOrEqual(Date.parse(sb.endAt));
    const before = Date.now();
    const shortened = await stack.api('POST', `/sandboxes/${sb.sandboxID}/timeout`, { body: { timeout: 30 } });
    expect(shortened.status).toBe(200);
    expect(shortened.body.timeout).toBe(30);
    expect(Date.parse(shortened.body.endAt)).toBeLessThan(Date.parse(sb.endAt));
    expect(Date.parse(shortened.body.endAt)).toBeGreaterThanOrEqual(before + 30_000 - 1000);
    const bad = await stack.api('POST', `/sandboxes/${sb.sandboxID}/timeout`, { body: { timeout: -1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/timeout/);
    expect((await stack.api('POST', `/sandboxes/${sb.sandboxID}/refreshes`, { body: {} })).status).toBe(400);
    await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`);
  });

  it('connect resumes a paused sandbox and never shortens its deadline', async () => {
    const sb = await create({ timeout: 600 });
    await stack.api('POST', `/sandboxes/${sb.sandboxID}/pause`);
    const connected = await stack.api('POST', `/sandboxes/${sb.sandboxID}/connect`, { body: { timeout: 5 } });
    expect(connected.status).toBe(200);
    expect(connected.body.status).toBe('running');
    expect(Date.parse(connected.body.endAt)).toBeGreaterThan(Date.now() + 500_000);
    await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`);
  });

  it('answers 202 creating with ?wait=false, then runs', async () => {
    const res = await stack.api('POST', '/sandboxes?wait=false', { body: { templateID: 'tiny' } });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('creating');
    const id = res.body.sandboxID;
    await eventually(async () => (await stack.api('GET', `/sandboxes/${id}`)).body.status === 'running');
    await stack.api('DELETE', `/sandboxes/${id}`);
  });

  it('answers 502 with the Docker error when provisioning fails, and 400 for limits', async () => {
    const failed = await stack.api('POST', '/sandboxes', { body: { image: 'berth/no-such-image:1' } });
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ code: 'provision_failed' });
    expect(failed.body.message).toMatch(/no-such-image/);
    const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', resources: { memoryMB: 4 } } });
    expect(res.status).toBe(400); // below Docker's minimum: caught before Docker
    const big = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', resources: { cpu: 64 } } });
    expect(big.status).toBe(400);
    expect(big.body.message).toMatch(/limit/);
    // Metadata is a Temporal search attribute (2 KB per value): too much is a 400, not a 500.
    const metadata = Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`key${i}`, 'v'.repeat(256)]));
    const tooMuch = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', metadata } });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.message).toMatch(/metadata is at most/);
  });
});

describe('API restart', () => {
  it('a fresh API process serves existing sandboxes: the API holds no state', async () => {
    const sb = await create({ timeout: 300 });
    const second = createApp({ config: stack.config, client: stack.client, docker: stack.docker, logger: createLogger('silent', 'second-api') });
    const server = await new Promise<Server>((resolve) => {
      const s = second.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const headers = { authorization: `Bearer ${stack.keys.alice}` };
      const got = await fetch(`${base}/sandboxes/${sb.sandboxID}`, { headers });
      expect(got.status).toBe(200);
      expect(((await got.json()) as { endAt: string }).endAt).toBe(sb.endAt);
      const paused = await fetch(`${base}/sandboxes/${sb.sandboxID}/pause`, { method: 'POST', headers });
      expect(paused.status).toBe(200);
    } finally {
      await second.close();
      server.close();
    }
    expect((await stack.api('GET', `/sandboxes/${sb.sandboxID}`)).body.status).toBe('paused');
    await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`);
  });
});

describe('listing', () => {
  it('lists by status and metadata, pages with nextToken, and shows stopped ones with a reason', async () => {
    const tag = `list-${Date.now()}`;
    const a = await create({ metadata: { tag, role: 'a' } });
    const b = await create({ metadata: { tag, role: 'b' } });
    const c = await create({ metadata: { tag, role: 'c' } });
    await stack.api('POST', `/sandboxes/${b.sandboxID}/pause`);
    await stack.api('DELETE', `/sandboxes/${c.sandboxID}`);

    const ids = (res: { body: { sandboxes: Array<{ sandboxID: string }> } }) => res.body.sandboxes.map((s) => s.sandboxID).sort();
    const live = await eventually(async () => {
      const res = await stack.api('GET', `/sandboxes?metadata=tag=${tag}`);
      return res.body.sandboxes.length === 2 && res.body.sandboxes.some((s: { status: string }) => s.status === 'paused') ? res : null;
    });
    expect(ids(live)).toEqual([a.sandboxID, b.sandboxID].sort());
    const paused = await stack.api('GET', `/sandboxes?status=paused&metadata=tag=${tag}`);
    expect(ids(paused)).toEqual([b.sandboxID]);
    expect(paused.body.sandboxes[0]).toMatchObject({ status: 'paused', templateID: 'tiny', metadata: { tag, role: 'b' } });

    const stopped = await eventually(async () => {
      const res = await stack.api('GET', `/sandboxes?status=stopped&metadata=tag=${tag}`);
      return res.body.sandboxes.length === 1 ? res : null;
    });
    expect(stopped.body.sandboxes[0]).toMatchObject({ sandboxID: c.sandboxID, status: 'stopped', stopReason: 'user' });

    const page1 = await stack.api('GET', `/sandboxes?metadata=tag=${tag}&status=running,paused&limit=1`);
    expect(page1.body.sandboxes).toHaveLength(1);
    expect(page1.body.nextToken).toBeTruthy();
    const page2 = await stack.api('GET', `/sandboxes?metadata=tag=${tag}&status=running,paused&limit=1&nextToken=${page1.body.nextToken}`);
    expect(page2.body.sandboxes).toHaveLength(1);
    expect(page2.body.sandboxes[0].sandboxID).not.toBe(page1.body.sandboxes[0].sandboxID);

    expect((await stack.api('GET', '/sandboxes?status=sleeping')).status).toBe(400);
    expect((await stack.api('GET', `/sandboxes?metadata=x='1'`)).status).toBe(400);
    await stack.api('DELETE', `/sandboxes/${a.sandboxID}`);
    await stack.api('DELETE', `/sandboxes/${b.sandboxID}`);
  });
});

describe('bulk operations', () => {
  it('kills every sandbox matching a metadata filter in one call', async () => {
    const tag = `bulk-${Date.now()}`;
    const made = [await create({ metadata: { tag } }), await create({ metadata: { tag } })];
    const keep = await create({ metadata: { tag: 'other' } });
    await eventually(async () => (await stack.api('GET', `/sandboxes?metadata=tag=${tag}`)).body.sandboxes.length === 2);
    const res = await stack.api('POST', '/sandboxes/bulk/kill', { body: { metadata: { tag } } });
    expect(res.status).toBe(202);
    expect(res.body.affected).toBe(2);
    for (const sb of made) await eventually(async () => (await stack.api('GET', `/sandboxes/${sb.sandboxID}`)).status === 404);
    expect((await stack.api('GET', `/sandboxes/${keep.sandboxID}`)).body.status).toBe('running');
    await stack.api('DELETE', `/sandboxes/${keep.sandboxID}`);
  });

  it('runs concurrent bulk calls (pause one group while killing another)', async () => {
    const tag = `bulk2-${Date.now()}`;
    const toPause = [await create({ metadata: { tag, group: 'p' } }), await create({ metadata: { tag, group: 'p' } })];
    const toKill = await create({ metadata: { tag, group: 'k' } });
    await eventually(async () => (await stack.api('GET', `/sandboxes?metadata=tag=${tag}`)).body.sandboxes.length === 3);
    const [paused, killed] = await Promise.all([
      stack.api('POST', '/sandboxes/bulk/pause', { body: { metadata: { tag, group: 'p' } } }),
      stack.api('POST', '/sandboxes/bulk/kill', { body: { metadata: { tag, group: 'k' } } }),
    ]);
    expect([paused.status, killed.status]).toEqual([202, 202]);
    expect([paused.body.affected, killed.body.affected]).toEqual([2, 1]);
    for (const sb of toPause) await eventually(async () => (await stack.api('GET', `/sandboxes/${sb.sandboxID}`)).body.status === 'paused');
    await eventually(async () => (await stack.api('GET', `/sandboxes/${toKill.sandboxID}`)).status === 404);
    await Promise.all(toPause.map((sb) => stack.api('DELETE', `/sandboxes/${sb.sandboxID}`)));
  });
});

describe('tenancy', () => {
  it("hides another owner's sandbox (404) and caps concurrent sandboxes (429)", async () => {
    const sb = await create({}, 'alice');
    expect((await stack.api('GET', `/sandboxes/${sb.sandboxID}`, { as: 'bob' })).status).toBe(404);
    expect((await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`, { as: 'bob' })).status).toBe(404);
    expect((await stack.api('POST', `/sandboxes/${sb.sandboxID}/pause`, { as: 'bob' })).status).toBe(404);
    expect((await stack.api('GET', `/sandboxes/${sb.sandboxID}/events`, { as: 'bob' })).status).toBe(404);
    // Once alice's list shows it (visibility is eventually consistent), bob's still must not.
    await eventually(async () => (await stack.api('GET', '/sandboxes')).body.sandboxes.some((s: { sandboxID: string }) => s.sandboxID === sb.sandboxID));
    expect((await stack.api('GET', '/sandboxes', { as: 'bob' })).body.sandboxes).toEqual([]);
    expect((await stack.api('GET', `/sandboxes/${sb.sandboxID}`)).status).toBe(200);
    await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`);

    // Parallel creates count once each against the cap (a create in flight is not counted twice).
    const bobs = await Promise.all(Array.from({ length: 4 }, () => create({}, 'bob')));
    for (let i = 0; i < 2; i++) bobs.push(await create({}, 'bob'));
    await eventually(async () => (await stack.api('GET', '/sandboxes', { as: 'bob' })).body.sandboxes.length === 6);
    const over = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny' }, as: 'bob' });
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ code: 'quota_exceeded' });
    expect(over.body.message).toMatch(/limit 6/);
    await Promise.all(bobs.map((b) => stack.api('DELETE', `/sandboxes/${b.sandboxID}`, { as: 'bob' })));
  });
});

describe('docs and metrics', () => {
  it('serves OpenAPI 3.1 generated from the zod schemas, a docs page, and Prometheus metrics', async () => {
    const doc = await stack.api('GET', '/openapi.json', { key: null });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const create = doc.body.paths['/sandboxes'].post;
    expect(create.requestBody.content['application/json'].schema.properties.timeout.type).toBe('integer');
    expect(doc.body.paths['/sandboxes/{sandboxID}/refreshes']).toBeDefined();
    const docs = await stack.api('GET', '/docs', { key: null });
    expect(docs.status).toBe(200);
    expect(String(docs.body)).toContain('openapi.json');
    // A user stop, a failed provision and a paused sandbox of this test's own.
    const stopped = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny' } });
    await stack.api('POST', `/sandboxes/${stopped.body.sandboxID}/pause`);
    await stack.api('DELETE', `/sandboxes/${stopped.body.sandboxID}`);
    expect((await stack.api('POST', '/sandboxes', { body: { image: 'berth/no-such-image:2' } })).status).toBe(502);
    await eventually(async () => /berth_sandbox_stops\{reason="user"\} [1-9]/.test(String((await stack.api('GET', '/metrics', { key: null })).body)));
    const metrics = await stack.api('GET', '/metrics', { key: null });
    expect(metrics.status).toBe(200);
    expect(String(metrics.body)).toMatch(/berth_http_request_duration_seconds_bucket\{[^}]*route="\/sandboxes\/:sandboxID\/pause"/);
    expect(String(metrics.body)).toMatch(/berth_sandboxes\{state="running"\}/);
    expect(String(metrics.body)).toMatch(/berth_sandbox_creates_total\{template="tiny",outcome="ok"\}/);
    expect(String(metrics.body)).toMatch(/berth_sandbox_stops\{reason="user"\} [1-9]/);
    expect(String(metrics.body)).toMatch(/berth_sandbox_stops\{reason="provision_failed"\} [1-9]/);
    // The worker's Temporal SDK metrics ride along: activity executions and failures.
    expect(String(metrics.body)).toMatch(/temporal_activity_execution_latency/);
  });
});
