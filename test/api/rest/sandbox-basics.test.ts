import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';
import { SANDBOX_CAPABILITIES } from '../../../src/activities/container-spec.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('create → get → kill (real Temporal, real Docker)', () => {
  it('creates a hardened running container, answers from the workflow, and kills it', async () => {
    const created = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 120, metadata: { job: 'basics' } } });
    expect(created.status).toBe(201);
    const sb = created.body;
    expect(sb.sandboxID).toMatch(/^[a-z0-9]{20}$/);
    expect(sb).toMatchObject({ templateID: 'tiny', status: 'running', metadata: { job: 'basics' }, timeout: 120 });
    expect(Date.parse(sb.endAt) - Date.parse(sb.startedAt)).toBe(120_000);
    expect(sb.historyURL).toContain(`/workflows/sandbox-${sb.sandboxID}`);

    const inspect = await stack.docker.getContainer(sb.sandboxID).inspect();
    expect(inspect.State.Running).toBe(true);
    expect(inspect.Name).toBe(`/${sb.sandboxID}`);
    expect(inspect.HostConfig.CapDrop).toEqual(['ALL']);
    expect([...(inspect.HostConfig.CapAdd ?? [])].sort()).toEqual([...SANDBOX_CAPABILITIES].sort());
    expect(inspect.HostConfig.SecurityOpt).toContain('no-new-privileges');
    expect(inspect.HostConfig.PidsLimit).toBeGreaterThan(0);
    expect(inspect.HostConfig.Memory).toBe(64 * 1024 * 1024);
    expect(inspect.HostConfig.NanoCpus).toBe(0.5e9);
    expect(inspect.HostConfig.Privileged).toBe(false);
    expect(JSON.stringify(inspect.Mounts)).not.toContain('docker.sock');
    expect(inspect.Config.Labels).toMatchObject({ 'berth.managed': 'true', 'berth.sandbox': sb.sandboxID, 'berth.template': 'tiny' });

    const got = await stack.api('GET', `/sandboxes/${sb.sandboxID}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ sandboxID: sb.sandboxID, status: 'running', templateID: 'tiny' });

    const killed = await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`);
    expect(killed.status).toBe(204);
    await expect(stack.docker.getContainer(sb.sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const after = await stack.api('GET', `/sandboxes/${sb.sandboxID}`);
    expect(after.status).toBe(404);
    expect(after.body).toMatchObject({ code: 'not_found' });
    const again = await stack.api('POST', `/sandboxes/${sb.sandboxID}/shutdown`);
    expect(again.status).toBe(404);

    const events = await stack.api('GET', `/sandboxes/${sb.sandboxID}/events`);
    expect(events.status).toBe(200);
    expect(events.body.events.map((e: { status: string; reason: string }) => `${e.status}:${e.reason}`)).toEqual([
      'creating:created',
      'running:provisioned',
      'stopped:user',
    ]);
  });

  it('stops through POST /shutdown with reason user', async () => {
    const { body: sb } = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny' } });
    expect(sb.timeout).toBe(300);
    expect((await stack.api('POST', `/sandboxes/${sb.sandboxID}/shutdown`)).status).toBe(204);
    expect((await stack.api('GET', `/sandboxes/${sb.sandboxID}`)).status).toBe(404);
    const result = await stack.client.workflow.getHandle(`sandbox-${sb.sandboxID}`).result();
    expect(result.info.stopReason).toBe('user');
  });

  it('stops by itself after the idle timeout (durable timer)', async () => {
    const { body: sb } = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 2 } });
    expect(sb.status).toBe('running');
    await eventually(async () => (await stack.api('GET', `/sandboxes/${sb.sandboxID}`)).status === 404, 20_000);
    await expect(stack.docker.getContainer(sb.sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const events = await stack.api('GET', `/sandboxes/${sb.sandboxID}/events`);
    const stop = events.body.events.at(-1);
    expect(stop).toMatchObject({ status: 'stopped', reason: 'idle_timeout' });
    expect(Date.parse(stop.at)).toBeGreaterThanOrEqual(Date.parse(sb.endAt));
  });
});

describe('authentication and validation', () => {
  it('rejects a missing or wrong key with 401 {code, message}', async () => {
    const missing = await stack.api('GET', '/sandboxes', { key: null });
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ code: 'unauthorized' });
    expect(missing.body.message).toMatch(/Authorization: Bearer/);
    const wrong = await stack.api('GET', '/sandboxes', { key: 'not-a-real-key' });
    expect(wrong.status).toBe(401);
    const viaHeader = await stack.api('GET', '/sandboxes', { key: null, headers: { 'x-api-key': stack.keys.alice! } });
    expect(viaHeader.status).toBe(200);
  });

  it('rejects bad bodies with 400 naming the field', async () => {
    const badTimeout = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 'soon' } });
    expect(badTimeout.status).toBe(400);
    expect(badTimeout.body.code).toBe('invalid_argument');
    expect(badTimeout.body.message).toMatch(/timeout/);
    const unknownField = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', color: 'red' } });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.message).toMatch(/color/);
    const badJson = await stack.api('POST', '/sandboxes', { body: '{"templateID": ' });
    expect(badJson.status).toBe(400);
    expect(badJson.body.code).toBe('invalid_json');
  });

  it('rejects an unknown template with 400 listing the templates', async () => {
    const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'nope' } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/base.*code_interpreter/);
  });

  it('answers 404 for unknown and malformed sandbox IDs', async () => {
    expect((await stack.api('GET', '/sandboxes/aaaaaaaaaaaaaaaaaaaa')).status).toBe(404);
    expect((await stack.api('GET', '/sandboxes/..%2f..')).status).toBe(404);
  });
});

describe('operability', () => {
  it('serves /healthz and /readyz without a key', async () => {
    expect((await stack.api('GET', '/healthz', { key: null })).status).toBe(200);
    const ready = await stack.api('GET', '/readyz', { key: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ temporal: 'ok', docker: 'ok' });
  });
});
