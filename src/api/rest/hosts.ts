/** `/admin/hosts…`: the Docker hosts (state, load) and draining them. Admin keys only (BERTH_ADMIN_KEYS). */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { ForbiddenError } from '../../errors.js';
import type { SandboxService } from '../../service/sandbox-service.js';
import { hostNameSchema } from '../../service/schemas.js';
import { callerOf } from '../auth.js';
import { endpoint, mount, param } from './endpoint.js';

const hostViewSchema = z
  .object({
    host: z.string(),
    healthy: z.boolean(),
    drained: z.boolean(),
    lost: z.boolean(),
    engineID: z.string().nullable(),
    lastSeenAt: z.string().nullable(),
    capacity: z.object({ cpus: z.number(), memoryMB: z.number() }).strict().nullable(),
    load: z.object({ sandboxes: z.number(), cpu: z.number(), memoryMB: z.number() }).strict(),
    images: z.array(z.string()),
  })
  .strict();

const hostParam = { host: hostNameSchema.describe('Docker host name (BERTH_HOST_NAME of its worker).') };

const list = endpoint({
  method: 'get',
  path: '/admin/hosts',
  summary: 'Docker hosts: health, drained, capacity, load (admin key)',
  responses: { '200': { description: 'Hosts', json: z.object({ hosts: z.array(hostViewSchema) }).strict() } },
  errors: [403],
});
const drain = endpoint({
  method: 'post',
  path: '/admin/hosts/{host}/drain',
  summary: 'Drain a host: no new sandboxes there, existing ones run out (admin key)',
  params: hostParam,
  responses: { '200': { description: 'The host', json: hostViewSchema } },
  errors: [403, 409],
});
const undrain = endpoint({
  method: 'post',
  path: '/admin/hosts/{host}/undrain',
  summary: 'Undrain a host: it takes new sandboxes again (admin key)',
  params: hostParam,
  responses: { '200': { description: 'The host', json: hostViewSchema } },
  errors: [403, 409],
});

function requireAdmin(req: Request): void {
  if (!callerOf(req).admin) throw new ForbiddenError('this is an admin endpoint: call it with a key listed in BERTH_ADMIN_KEYS');
}

export function hostRoutes(service: SandboxService): Router {
  const router = Router();
  mount(router, list, async (req, res) => {
    requireAdmin(req);
    res.json({ hosts: await service.hosts() });
  });
  mount(router, drain, async (req, res) => {
    requireAdmin(req);
    res.json(await service.drainHost(param(req, 'host'), true));
  });
  mount(router, undrain, async (req, res) => {
    requireAdmin(req);
    res.json(await service.drainHost(param(req, 'host'), false));
  });
  return router;
}
