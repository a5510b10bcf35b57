/** `/sandboxes…`: berth's lifecycle REST surface (create, list, get, kill, pause, resume, connect, timeout, refresh, events, bulk). */
import { Router } from 'express';
import { z } from 'zod';
import { callerOf } from '../auth.js';
import type { SandboxService } from '../../service/sandbox-service.js';
import {
  bulkSchema,
  connectSchema,
  createQuerySchema,
  createSandboxSchema,
  listQuerySchema,
  METADATA_FILTER,
  refreshSchema,
  SANDBOX_STATUSES,
  setTimeoutSchema,
} from '../../service/schemas.js';
import { endpoint, mount, param } from './endpoint.js';
import { bulkResultSchema, eventsSchema, sandboxListSchema, sandboxViewSchema } from './response-schemas.js';

const sandbox = (description: string) => ({ description, json: sandboxViewSchema });
const killed = { '204': { description: 'Killed' } };
const id = '/sandboxes/{sandboxID}';

const create = endpoint({
  method: 'post',
  path: '/sandboxes',
  summary: 'Create a sandbox (synchronous unless ?wait=false)',
  body: createSandboxSchema,
  bodyName: 'sandbox request',
  query: createQuerySchema,
  responses: { '201': sandbox('Running sandbox (wait=true)'), '202': sandbox('Sandbox creating (wait=false)') },
  errors: [
    [403, 'host set without an admin key (code forbidden)'],
    [404, 'The snapshot to boot from (snapshotID, or a templateID that is a snapshot ID) or a volume is not found or not yours'],
    [409, 'The pinned host is drained or not reporting'],
    429,
    [502, 'Provisioning failed (code provision_failed)'],
  ],
});
const list = endpoint({
  method: 'get',
  path: '/sandboxes',
  summary: 'List sandboxes (filter by status, metadata; cursor paging)',
  query: listQuerySchema,
  queryDocs: {
    status: { schema: z.array(z.enum(SANDBOX_STATUSES)).describe('Repeat, or comma-separate; default the live ones.'), explode: true },
    metadata: { schema: z.array(z.string().regex(METADATA_FILTER)).describe('key=value; repeat for AND.'), explode: true },
  },
  responses: { '200': { description: 'One page of sandboxes', json: sandboxListSchema } },
  errors: [],
});
const bulk = endpoint({
  method: 'post',
  path: '/sandboxes/bulk/{action}',
  summary: 'Kill or pause every matching sandbox (Temporal batch operation)',
  params: { action: z.enum(['kill', 'pause']) },
  body: bulkSchema,
  bodyName: 'bulk filter',
  responses: { '202': { description: 'How many sandboxes the operation acts on', json: bulkResultSchema } },
  errors: [[404, 'No such bulk action']],
});
const get = endpoint({ method: 'get', path: id, summary: 'Sandbox info (status, endAt, timeout, …)', responses: { '200': sandbox('The sandbox') }, errors: [404] });
const kill = endpoint({ method: 'delete', path: id, summary: 'Kill the sandbox (container and data destroyed)', responses: killed, errors: [404] });
const shutdown = endpoint({ method: 'post', path: `${id}/shutdown`, summary: 'Same as DELETE', responses: killed, errors: [404] });
const pause = endpoint({
  method: 'post',
  path: `${id}/pause`,
  summary: 'Pause (freeze processes, keep files)',
  responses: { '200': sandbox('Paused sandbox') },
  errors: [404, [409, 'Not running']],
});
const resume = endpoint({
  method: 'post',
  path: `${id}/resume`,
  summary: 'Resume a paused sandbox',
  responses: { '200': sandbox('Running sandbox') },
  errors: [404, [409, 'Not paused']],
});
const connect = endpoint({
  method: 'post',
  path: `${id}/connect`,
  summary: 'Connect: resume if paused, touch; never shortens',
  body: connectSchema,
  bodyName: 'connect request',
  responses: { '200': sandbox('Running sandbox') },
  errors: [404, 409],
});
const timeout = endpoint({
  method: 'post',
  path: `${id}/timeout`,
  summary: 'Set the timeout; endAt = now + timeout (may shorten)',
  body: setTimeoutSchema,
  bodyName: 'timeout request',
  responses: { '200': sandbox('The sandbox') },
  errors: [404, 409],
});
const refresh = endpoint({
  method: 'post',
  path: `${id}/refreshes`,
  summary: 'Keep alive: endAt = max(endAt, now + duration)',
  body: refreshSchema,
  bodyName: 'refresh request',
  responses: { '200': sandbox('The sandbox') },
  errors: [404, 409],
});
const events = endpoint({
  method: 'get',
  path: `${id}/events`,
  summary: 'Lifecycle transitions with reasons (also after stop)',
  responses: { '200': { description: 'Events', json: eventsSchema } },
  errors: [404],
});

/** The lifecycle REST surface: `/sandboxes…`. */
export function sandboxRoutes(service: SandboxService): Router {
  const router = Router();
  const owner = (req: Parameters<typeof callerOf>[0]) => callerOf(req).owner;

  mount(router, create, async (req, res, { body, query }) => {
    const wait = query.wait === 'true';
    res.status(wait ? 201 : 202).json(await service.create(owner(req), body, wait, { admin: callerOf(req).admin ?? false }));
  });
  mount(router, list, async (req, res, { query }) => {
    res.json(await service.list(owner(req), query));
  });
  mount(router, bulk, async (req, res, { body }) => {
    const action = param(req, 'action');
    if (action !== 'kill' && action !== 'pause') {
      res.status(404).json({ code: 'not_found', message: `no bulk action "${action}"; use kill or pause` });
      return;
    }
    res.status(202).json(await service.bulk(owner(req), action, body));
  });
  mount(router, get, async (req, res) => {
    res.json(await service.get(owner(req), param(req, 'sandboxID')));
  });
  for (const def of [kill, shutdown]) {
    mount(router, def, async (req, res) => {
      await service.kill(owner(req), param(req, 'sandboxID'));
      res.status(204).end();
    });
  }
  mount(router, pause, async (req, res) => {
    res.json(await service.pause(owner(req), param(req, 'sandboxID')));
  });
  mount(router, resume, async (req, res) => {
    res.json(await service.resume(owner(req), param(req, 'sandboxID')));
  });
  mount(router, connect, async (req, res, { body }) => {
    res.json(await service.connect(owner(req), param(req, 'sandboxID'), body.timeout));
  });
  mount(router, timeout, async (req, res, { body }) => {
    res.json(await service.setTimeout(owner(req), param(req, 'sandboxID'), body.timeout));
  });
  mount(router, refresh, async (req, res, { body }) => {
    res.json(await service.refresh(owner(req), param(req, 'sandboxID'), body.duration));
  });
  mount(router, events, async (req, res) => {
    res.json(await service.events(owner(req), param(req, 'sandboxID')));
  });
  return router;
}
