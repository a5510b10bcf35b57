/**
 * A create whose update-with-start passes Temporal's RPC deadline before the sandbox's first
 * workflow task runs (a burst of 200 creates on 2 cores, bench 2026-12-01) answered 503 although
 * the workflow had started and the sandbox then ran. Here on the real Temporal and Docker: the
 * stack's worker is stopped, a second API's Temporal client sends update-with-start for real but
 * answers its caller as Temporal did then (DEADLINE_EXCEEDED, here after 1 s: the stand-in), and
 * the worker comes back 3 s later.
 * The create must wait on and answer 201 with the running sandbox (it answered 503 before).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp, type BerthApp } from '../../../src/api/app.js';
import { createLogger } from '../../../src/logger.js';
import { startStack, type TestStack } from '../../helpers/stack.js';

/**
 * The stack's client, except that update-with-start answers as Temporal did under the burst:
 * the real call goes out (the workflow starts), and the caller gets DEADLINE_EXCEEDED after 1 s
 * (the error the Temporal client throws for it), whatever happens next.
 */
function deadlinePassing(client: Client): Client {
  const workflow = new Proxy(client.workflow, {
    get(target, prop, receiver) {
      if (prop === 'executeUpdateWithStart') {
        return (...args: Parameters<typeof target.executeUpdateWithStart>) => {
          target.executeUpdateWithStart(...args).catch(() => undefined);
          return new Promise((_, reject) => {
            const cause = Object.assign(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'), { code: 4, details: 'Deadline exceeded' });
            setTimeout(() => reject(new WorkflowUpdateRPCTimeoutOrCancelledError('Deadline exceeded', { cause })), 1000);
          });
        };
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return new Proxy(client, { get: (target, prop, receiver) => (prop === 'workflow' ? workflow : (Reflect.get(target, prop, receiver) as unknown)) });
}

let stack: TestStack | undefined;
let app: BerthApp | undefined;
let server: Server | undefined;

beforeAll(async () => {
  stack = await startStack();
  app = createApp({ config: stack.config, client: deadlinePassing(stack.client), docker: stack.docker, logger: createLogger('silent', 'short-deadline-api') });
  server = await new Promise<Server>((resolve) => {
    const s = app!.app.listen(0, '127.0.0.1', () => resolve(s));
  });
}, 120_000);

afterAll(async () => {
  await app?.close();
  server?.close();
  server?.closeAllConnections();
  await stack?.stop();
}, 60_000);

it("waits on for a started sandbox when the create's update-with-start passes its deadline", async () => {
  const s = stack!;
  await s.stopWorker();
  const back = new Promise<void>((resolve, reject) => {
    setTimeout(() => s.startWorker().then(resolve, reject), 3000);
  });
  const url = `http://127.0.0.1:${(server!.address() as AddressInfo).port}/sandboxes`;
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.keys.alice}`, 'content-type': 'application/json' },
    body: JSON.stringify({ templateID: 'tiny', timeout: 120 }),
  });
  await back;
  const body = (await res.json()) as { sandboxID?: string; status?: string };
  expect(res.status, JSON.stringify(body)).toBe(201);
  expect(body.status).toBe('running');
  const got = await s.api('GET', `/sandboxes/${body.sandboxID}`);
  expect(got.status).toBe(200);
  expect((await s.api('DELETE', `/sandboxes/${body.sandboxID}`)).status).toBe(204);
}, 120_000);
