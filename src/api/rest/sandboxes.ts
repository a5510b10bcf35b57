import { Router } from 'express';
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
import { parseOr400 } from './validate.js';
import { registerOperations } from './openapi.js';
import { bulkResultSchema, eventsSchema, sandboxListSchema, sandboxViewSchema } from './response-schemas.js';
import { z } from 'zod';

const sandbox = (description: string) => ({ description, json: sandboxViewSchema });
const id = '/sandboxes/{sandboxID}';
registerOperations('/sandboxes', {
  post: {
    summary: 'Create a sandbox (synchronous unless ?wait=false)',
    body: createSandboxSchema,
    query: createQuerySchema,
    responses: { '201': sandbox('Running sandbox (wait=true)'), '202': sandbox('Sandbox creating (wait=false)') },
    errors: [429, [502, 'Provisioning failed (code provision_failed)']],
  },
  get: {
    summary: 'List sandboxes (filter by status, metadata; cursor paging)',
    query: listQuerySchema,
    queryDocs: {
      status: { schema: z.array(z.enum(SANDBOX_STATUSES)).describe('Repeat, or comma-separate; default the live ones.'), explode: true },
      metadata: { schema: z.array(z.string().regex(METADATA_FILTER)).describe('key=value; repeat for AND.'), explode: true },
    },
    responses: { '200': { description: 'One page of sandboxes', json: sandboxListSchema } },
    errors: [],
  },
});
registerOperations('/sandboxes/bulk/{action}', {
  post: {
    summary: 'Kill or pause every matching sandbox (Temporal batch operation)',
    params: { action: z.enum(['kill', 'pause']) },
    body: bulkSchema,
    responses: { '202': { description: 'How many sandboxes the operation acts on', json: bulkResultSchema } },
    errors: [[404, 'No such bulk action']],
  },
});
registerOperations(id, {
  get: { summary: 'Sandbox info (status, endAt, timeout, …)', responses: { '200': sandbox('The sandbox') }, errors: [404] },
  delete: { summary: 'Kill the sandbox (container and data destroyed)', responses: { '204': { description: 'Killed' } }, errors: [404] },
});
registerOperations(`${id}/shutdown`, { post: { summary: 'Same as DELETE', responses: { '204': { description: 'Killed' } }, errors: [404] } });
registerOperations(`${id}/pause`, {
  post: { summary: 'Pause (freeze processes, keep files)', responses: { '200': sandbox('Paused sandbox') }, errors: [404, [409, 'Not running']] },
});
registerOperations(`${id}/resume`, {
  post: { summary: 'Resume a paused sandbox', responses: { '200': sandbox('Running sandbox') }, errors: [404, [409, 'Not paused']] },
});
registerOperations(`${id}/connect`, {
  post: { summary: 'Connect: resume if paused, touch; never shortens', body: connectSchema, responses: { '200': sandbox('Running sandbox') }, errors: [404, 409] },
});
registerOperations(`${id}/timeout`, {
  post: { summary: 'Set the timeout; endAt = now + timeout (may shorten)', body: setTimeoutSchema, responses: { '200': sandbox('The sandbox') }, errors: [404, 409] },
});
registerOperations(`${id}/refreshes`, {
  post: { summary: 'Keep alive: endAt = max(endAt, now + duration)', body: refreshSchema, responses: { '200': sandbox('The sandbox') }, errors: [404, 409] },
});
registerOperations(`${id}/events`, {
  get: { summary: 'Lifecycle transitions with reasons (also after stop)', responses: { '200': { description: 'Events', json: eventsSchema } }, errors: [404] },
});

/** The lifecycle REST surface: `/sandboxes…`. */
export function sandboxRoutes(service: SandboxService): Router {
  const router = Router();

  router.post('/sandboxes', async (req, res) => {
    const { owner } = callerOf(req);
    const body = parseOr400(createSandboxSchema, req.body, 'sandbox request');
    const { wait } = parseOr400(createQuerySchema, req.query, 'query');
    const sandbox = await service.create(owner, body, wait === 'true');
    res.status(wait === 'true' ? 201 : 202).json(sandbox);
  });

  router.get('/sandboxes', async (req, res) => {
    const query = parseOr400(listQuerySchema, req.query, 'query');
    res.json(await service.list(callerOf(req).owner, query));
  });

  router.post('/sandboxes/bulk/:action', async (req, res) => {
    const action = req.params.action;
    if (action !== 'kill' && action !== 'pause') {
      res.status(404).json({ code: 'not_found', message: `no bulk action "${action}"; use kill or pause` });
      return;
    }
    const filter = parseOr400(bulkSchema, req.body, 'bulk filter');
    res.status(202).json(await service.bulk(callerOf(req).owner, action, filter));
  });

  router.get('/sandboxes/:id', async (req, res) => {
    res.json(await service.get(callerOf(req).owner, req.params.id));
  });

  const kill = async (req: import('express').Request, res: import('express').Response) => {
    await service.kill(callerOf(req).owner, String(req.params.id));
    res.status(204).end();
  };
  router.delete('/sandboxes/:id', kill);
  router.post('/sandboxes/:id/shutdown', kill);

  router.post('/sandboxes/:id/pause', async (req, res) => {
    res.json(await service.pause(callerOf(req).owner, req.params.id));
  });

  router.post('/sandboxes/:id/resume', async (req, res) => {
    res.json(await service.resume(callerOf(req).owner, req.params.id));
  });

  router.post('/sandboxes/:id/connect', async (req, res) => {
    const { timeout } = parseOr400(connectSchema, req.body, 'connect request');
    res.json(await service.connect(callerOf(req).owner, req.params.id, timeout));
  });

  router.post('/sandboxes/:id/timeout', async (req, res) => {
    const { timeout } = parseOr400(setTimeoutSchema, req.body, 'timeout request');
    res.json(await service.setTimeout(callerOf(req).owner, req.params.id, timeout));
  });

  router.post('/sandboxes/:id/refreshes', async (req, res) => {
    const { duration } = parseOr400(refreshSchema, req.body, 'refresh request');
    res.json(await service.refresh(callerOf(req).owner, req.params.id, duration));
  });

  router.get('/sandboxes/:id/events', async (req, res) => {
    res.json(await service.events(callerOf(req).owner, req.params.id));
  });

  return router;
}
