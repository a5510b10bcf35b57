import { Router } from 'express';
import { callerOf } from '../auth.js';
import type { SandboxService } from '../sandbox-service.js';
import {
  bulkSchema,
  connectSchema,
  createQuerySchema,
  createSandboxSchema,
  listQuerySchema,
  refreshSchema,
  setTimeoutSchema,
} from '../schemas.js';
import { parseOr400 } from '../validate.js';

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
