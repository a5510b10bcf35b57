/** `/volumes…`: named volumes of the caller (create, list, get, delete); sandboxes mount them at create. */
import { Router } from 'express';
import { z } from 'zod';
import { callerOf } from '../auth.js';
import type { VolumeService } from '../../service/volume-service.js';
import { createVolumeSchema, VOLUME_NAME } from '../../service/schemas.js';
import { NotFoundError } from '../../errors.js';
import { endpoint, mount, param } from './endpoint.js';
import { volumeListSchema, volumeSchema } from './response-schemas.js';

const nameParam = { name: z.string().regex(VOLUME_NAME).describe('Volume name.') };

const create = endpoint({
  method: 'post',
  path: '/volumes',
  summary: 'Create a named volume (owner-scoped; outlives the sandboxes that mount it)',
  body: createVolumeSchema,
  bodyName: 'volume request',
  responses: { '201': { description: 'The volume', json: volumeSchema } },
  errors: [[409, 'A volume of that name exists'], [429, 'Owner volume cap reached (BERTH_MAX_VOLUMES_PER_OWNER)']],
});
const list = endpoint({ method: 'get', path: '/volumes', summary: 'List your volumes', responses: { '200': { description: 'Volumes by name', json: volumeListSchema } }, errors: [] });
const get = endpoint({
  method: 'get',
  path: '/volumes/{name}',
  summary: 'One volume',
  params: nameParam,
  responses: { '200': { description: 'The volume', json: volumeSchema } },
  errors: [[404, 'Volume not found or not yours']],
});
const remove = endpoint({
  method: 'delete',
  path: '/volumes/{name}',
  summary: 'Delete a volume and its data',
  params: nameParam,
  responses: { '204': { description: 'Deleted' } },
  errors: [[404, 'Volume not found or not yours'], [409, 'Mounted by a sandbox']],
});

/** A volume name from the path; anything else cannot name a volume (404). */
function nameOf(req: Parameters<typeof param>[0]): string {
  const name = param(req, 'name');
  if (!VOLUME_NAME.test(name)) throw new NotFoundError(`volume ${name} not found`);
  return name;
}

/** The volumes router. */
export function volumeRoutes(volumes: VolumeService): Router {
  const router = Router();
  mount(router, create, async (req, res, { body }) => {
    res.status(201).json(await volumes.create(callerOf(req).owner, body.name, body.sizeMB));
  });
  mount(router, list, async (req, res) => {
    res.json({ volumes: await volumes.list(callerOf(req).owner) });
  });
  mount(router, get, async (req, res) => {
    res.json(await volumes.get(callerOf(req).owner, nameOf(req)));
  });
  mount(router, remove, async (req, res) => {
    await volumes.remove(callerOf(req).owner, nameOf(req));
    res.status(204).end();
  });
  return router;
}
