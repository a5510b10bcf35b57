/**
 * berth's REST and the E2B protocol share paths (`POST /sandboxes`, `GET /sandboxes/{id}`,
 * `DELETE /sandboxes/{id}`): the API key's format picks the door (src/api/e2b/detect.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestStack } from '../../helpers/stack.js';
import { startE2BStack } from './harness.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startE2BStack();
});
afterAll(async () => {
  await stack?.stop();
});

const e2b = (key: string) => ({ key: null, headers: { 'x-api-key': key } });

describe('two doors on the same paths', () => {
  it('POST /sandboxes and GET /sandboxes/{id}: a berth key gets berth shapes, an e2b_ key E2B shapes, same owner and sandbox', async () => {
    const berthCreated = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', metadata: { door: 'berth' } } });
    expect(berthCreated.status).toBe(201);
    expect(berthCreated.body).toMatchObject({ status: 'running', templateID: 'tiny' });
    expect(berthCreated.body.clientID).toBeUndefined();

    const e2bCreated = await stack.api('POST', '/sandboxes', { ...e2b(stack.e2bKeys.alice ?? ''), body: { templateID: 'tiny', timeout: 60, metadata: { door: 'e2b' } } });
    expect(e2bCreated.status).toBe(201);
    expect(e2bCreated.body).toMatchObject({ templateID: 'tiny', clientID: 'berth', envdVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(e2bCreated.body.status).toBeUndefined();

    // Each door reads the other's sandbox (same owner), in its own shape.
    const viaE2B = await stack.api('GET', `/sandboxes/${berthCreated.body.sandboxID}`, e2b(stack.e2bKeys.alice ?? ''));
    expect(viaE2B.status).toBe(200);
    expect(viaE2B.body).toMatchObject({ sandboxID: berthCreated.body.sandboxID, state: 'running', cpuCount: 1, memoryMB: 64, metadata: { door: 'berth' } });
    const viaBerth = await stack.api('GET', `/sandboxes/${e2bCreated.body.sandboxID}`);
    expect(viaBerth.status).toBe(200);
    expect(viaBerth.body).toMatchObject({ sandboxID: e2bCreated.body.sandboxID, status: 'running', metadata: { door: 'e2b' } });
    // agentbox's `<sandboxID>-<clientID>` form reaches the same sandbox.
    const dashed = await stack.api('GET', `/sandboxes/${e2bCreated.body.sandboxID}-berth`, e2b(stack.e2bKeys.alice ?? ''));
    expect(dashed.body.sandboxID).toBe(e2bCreated.body.sandboxID);

    // Another owner's E2B key sees neither.
    expect((await stack.api('GET', `/sandboxes/${e2bCreated.body.sandboxID}`, e2b(stack.e2bKeys.bob ?? ''))).body).toEqual({ code: 404, message: expect.stringContaining('not found') });

    // DELETE on both doors: 204, then 404 in each door's error shape.
    expect((await stack.api('DELETE', `/sandboxes/${e2bCreated.body.sandboxID}`)).status).toBe(204);
    expect((await stack.api('DELETE', `/sandboxes/${berthCreated.body.sandboxID}`, e2b(stack.e2bKeys.alice ?? ''))).status).toBe(204);
    const gone = await stack.api('DELETE', `/sandboxes/${berthCreated.body.sandboxID}`, e2b(stack.e2bKeys.alice ?? ''));
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe(404);
    const goneBerth = await stack.api('DELETE', `/sandboxes/${berthCreated.body.sandboxID}`);
    expect(goneBerth.body.code).toBe('not_found');
  });

  it('E2B errors are {code: <HTTP status>, message}: unknown e2b_ key 401, bad body 400, unknown template 400, unsupported route 404', async () => {
    const unknownKey = await stack.api('GET', '/v2/sandboxes', e2b(`e2b_${'0'.repeat(40)}`));
    expect(unknownKey.status).toBe(401);
    expect(unknownKey.body).toEqual({ code: 401, message: 'invalid API key' });
    const key = stack.e2bKeys.alice ?? '';
    const badBody = await stack.api('POST', '/v2/sandboxes', { ...e2b(key), body: { templateID: 'tiny', timeout: 'soon' } });
    expect(badBody.status).toBe(400);
    expect(badBody.body.code).toBe(400);
    expect(badBody.body.message).toMatch(/timeout/);
    const badJson = await stack.api('POST', '/v2/sandboxes', { ...e2b(key), body: '{"templateID":' });
    expect(badJson.body).toEqual({ code: 400, message: 'request body is not valid JSON' });
    const badTemplate = await stack.api('POST', '/v2/sandboxes', { ...e2b(key), body: { templateID: 'nope' } });
    expect(badTemplate.status).toBe(400);
    expect(badTemplate.body.message).toMatch(/unknown templateID "nope"/);
    const badEnv = await stack.api('POST', '/v2/sandboxes', { ...e2b(key), body: { templateID: 'tiny', envVars: { '1BAD': 'x' } } });
    expect(badEnv.status).toBe(400);
    const mcp = await stack.api('POST', '/v2/sandboxes', { ...e2b(key), body: { templateID: 'tiny', mcp: { github: {} } } });
    expect(mcp.body).toEqual({ code: 400, message: expect.stringMatching(/^mcp .* not supported/) });
    const badState = await stack.api('GET', '/v2/sandboxes?state=sleeping', e2b(key));
    expect(badState.body).toEqual({ code: 400, message: 'state "sleeping" is not one of running, paused' });
    const unsupported = await stack.api('GET', '/sandboxes/abc/logs', e2b(key));
    expect(unsupported.status).toBe(404);
    expect(unsupported.body.code).toBe(404);
    // A berth key on an E2B-only path: berth's 404 that names the way out.
    const berthOnE2B = await stack.api('POST', '/v2/sandboxes', { body: { templateID: 'tiny' } });
    expect(berthOnE2B.status).toBe(404);
    expect(berthOnE2B.body.code).toBe('not_found');
  });

  it('lists page by X-Next-Token (v2) and filter by metadata and state', async () => {
    const key = stack.e2bKeys.alice ?? '';
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await stack.api('POST', '/v2/sandboxes', { ...e2b(key), body: { templateID: 'tiny', timeout: 60, metadata: { page: 'yes', n: String(i) } } });
      ids.push(res.body.sandboxID);
    }
    expect((await stack.api('POST', `/sandboxes/${ids[0]}/pause`, e2b(key))).status).toBe(204);
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res = await stack.api('GET', `/v2/sandboxes?limit=2&metadata=${encodeURIComponent('page=yes')}${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`, e2b(key));
      expect(res.status).toBe(200);
      seen.push(...res.body.map((s: { sandboxID: string }) => s.sandboxID));
      token = res.headers.get('x-next-token');
      pages++;
    } while (token && pages < 5);
    expect(seen.sort()).toEqual([...ids].sort());
    expect(pages).toBeGreaterThanOrEqual(2);
    const paused = await stack.api('GET', `/v2/sandboxes?state=paused&metadata=${encodeURIComponent('page=yes')}`, e2b(key));
    expect(paused.body.map((s: { sandboxID: string; state: string }) => [s.sandboxID, s.state])).toEqual([[ids[0], 'paused']]);
    const v1 = await stack.api('GET', `/sandboxes?metadata=${encodeURIComponent('n=2')}`, e2b(key));
    expect(v1.body.map((s: { sandboxID: string }) => s.sandboxID)).toEqual([ids[2]]);
    for (const id of ids) await stack.api('DELETE', `/sandboxes/${id}`, e2b(key));
  });

  it('metrics of a paused sandbox answer the kept samples and do not resume it, even with autoResume', async () => {
    const key = stack.e2bKeys.alice ?? '';
    const created = await stack.api('POST', '/v2/sandboxes', { ...e2b(key), body: { templateID: 'tiny', timeout: 60, autoPause: true, autoResume: { enabled: true } } });
    const id = created.body.sandboxID as string;
    expect((await stack.api('GET', `/sandboxes/${id}/metrics`, e2b(key))).body.length).toBeGreaterThan(0);
    expect((await stack.api('POST', `/sandboxes/${id}/pause`, e2b(key))).status).toBe(204);
    const metrics = await stack.api('GET', `/sandboxes/${id}/metrics`, e2b(key));
    expect(metrics.status).toBe(200);
    expect(Array.isArray(metrics.body)).toBe(true);
    expect((await stack.api('GET', `/sandboxes/${id}`, e2b(key))).body.state).toBe('paused');
    await stack.api('DELETE', `/sandboxes/${id}`, e2b(key));
  });

  it("volumeMounts [{name, path}] mount the owner's berth volumes (made with berth's POST /volumes)", async () => {
    const key = stack.e2bKeys.alice ?? '';
    const name = `e2bvol${Date.now().toString(36)}`;
    expect((await stack.api('POST', '/volumes', { body: { name } })).status).toBe(201);
    const created = await stack.api('POST', '/v2/sandboxes', { ...e2b(key), body: { templateID: 'tiny', timeout: 60, volumeMounts: [{ name, path: '/data' }] } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.sandboxID as string;
    const wrote = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'echo kept > /data/f && cat /data/f' } });
    expect(wrote.body.stdout).toBe('kept\n');
    expect((await stack.api('GET', `/volumes/${name}`)).body.mountedBy).toBe(1);
    const missing = await stack.api('POST', '/v2/sandboxes', { ...e2b(key), body: { templateID: 'tiny', volumeMounts: [{ name: 'no-such-volume', path: '/data' }] } });
    expect(missing.body.code).toBe(missing.status);
    expect(missing.status).toBeGreaterThanOrEqual(400);
    expect(missing.status).toBeLessThan(500);
    await stack.api('DELETE', `/sandboxes/${id}`, e2b(key));
  });
});
