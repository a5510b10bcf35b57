/**
 * Temporal shedding load ("System Persistence Max QPS Reached", answered as gRPC UNAVAILABLE,
 * seen at 1000 live sandboxes) is a 503 with Retry-After in every front door, never a 500.
 * A real stack; a second API process whose Temporal client answers visibility calls with that
 * error (the stand-in: everything else goes to the real server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import { createApp, type BerthApp } from '../../../src/api/app.js';
import { createLogger } from '../../../src/logger.js';
import { startStack, type TestStack } from '../../helpers/stack.js';

const DETAILS = 'Unable to read search attributes types: System Persistence Max QPS Reached.';

/** As @grpc/grpc-js raises it. */
function overloaded(): Error {
  return Object.assign(new Error(`14 UNAVAILABLE: ${DETAILS}`), { code: 14, details: DETAILS });
}

/** The stack's client, except that the visibility calls `failing` fail as an overloaded server's do. */
function overloadedVisibility(client: Client, failing: string[] = ['listWorkflowExecutions', 'countWorkflowExecutions']): Client {
  const workflowService = new Proxy(client.workflowService, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && failing.includes(prop)) return () => Promise.reject(overloaded());
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return new Proxy(client, {
    get(target, prop, receiver) {
      return prop === 'workflowService' ? workflowService : (Reflect.get(target, prop, receiver) as unknown);
    },
  });
}

let stack: TestStack;
let second: BerthApp;
let server: Server;
let base: string;

beforeAll(async () => {
  stack = await startStack();
  second = createApp({ config: stack.config, client: overloadedVisibility(stack.client), docker: stack.docker, logger: createLogger('silent', 'overloaded-api') });
  server = await new Promise<Server>((resolve) => {
    const s = second.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await second?.close();
  server?.close();
  await stack?.stop();
});

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown, at = base) {
  const res = await fetch(`${at}${path}`, {
    method,
    headers: { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { code: unknown; message: string } };
}

describe('Temporal overloaded', () => {
  it("berth's REST: create and list answer 503 {code, message} with Retry-After", async () => {
    const headers = { authorization: `Bearer ${stack.keys.alice}` };
    for (const [method, path, body] of [
      ['POST', '/sandboxes', { templateID: 'tiny' }],
      ['GET', '/sandboxes', undefined],
    ] as const) {
      const res = await call(method, path, headers, body);
      expect(res.status, `${method} ${path}`).toBe(503);
      expect(res.retryAfter).toMatch(/^\d+$/);
      expect(res.body).toEqual({ code: 'unavailable', message: expect.stringMatching(/System Persistence Max QPS Reached.*retry in a few seconds/) });
    }
  });

  it('the E2B door: create answers 503 {code: 503, message} with Retry-After', async () => {
    const res = await call('POST', '/sandboxes', { 'x-api-key': stack.e2bKeys.alice ?? '' }, { templateID: 'tiny', timeout: 60 });
    expect(res.status).toBe(503);
    expect(res.retryAfter).toMatch(/^\d+$/);
    expect(res.body).toEqual({ code: 503, message: expect.stringMatching(/overloaded/) });
  });

  it('the OpenSandbox door: create answers 503 {code: UNAVAILABLE, message} with Retry-After', async () => {
    const res = await call('POST', '/v1/sandboxes', { 'OPEN-SANDBOX-API-KEY': stack.keys.alice ?? '' }, { image: { uri: 'tiny' }, timeout: 60, resourceLimits: {} });
    expect(res.status).toBe(503);
    expect(res.retryAfter).toMatch(/^\d+$/);
    expect(res.body).toEqual({ code: 'UNAVAILABLE', message: expect.stringMatching(/overloaded/) });
  });
});

describe('a create at scale', () => {
  it('lists no live sandboxes (one host, room in the quota): it works while every listing fails', async () => {
    const app = createApp({ config: stack.config, client: overloadedVisibility(stack.client, ['listWorkflowExecutions']), docker: stack.docker, logger: createLogger('silent', 'no-list-api') });
    const listening = await new Promise<Server>((resolve) => {
      const s = app.app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const at = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
      const created = await call('POST', '/sandboxes', { authorization: `Bearer ${stack.keys.alice}` }, { templateID: 'tiny' }, at);
      expect(created.status).toBe(201);
      await stack.api('DELETE', `/sandboxes/${(created.body as unknown as { sandboxID: string }).sandboxID}`);
    } finally {
      await app.close();
      listening.close();
    }
  });
});
