/**
 * E2B's volume calls (`Volume.create`, `Volume.list`, `Volume.get_info`/`connect`,
 * `Volume.destroy` of the e2b SDKs) mapped onto berth's named volumes (docs/volumes.md). A
 * volume's E2B `volumeID` is its berth name (names are unique per owner). E2B's separate volume
 * content API (files of a volume without a sandbox) is not served: `token` is empty.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { NotFoundError } from '../../errors.js';
import type { VolumeInfo } from '../../dataplane/volumes.js';
import type { VolumeService } from '../../service/volume-service.js';
import { createVolumeSchema, VOLUME_NAME } from '../../service/schemas.js';
import { callerOf } from '../auth.js';
import { parseOr400 } from '../rest/validate.js';

/** E2B's `NewVolume`: a name only. */
const e2bNewVolumeSchema = z.object({ name: createVolumeSchema.shape.name }).passthrough();

/** E2B's `Volume` (list items). */
export function toE2BVolume(v: Pick<VolumeInfo, 'name'>) {
  return { volumeID: v.name, name: v.name };
}

/** E2B's `VolumeAndToken` (create, get). No content API: no token, no domain of its own. */
export function toE2BVolumeAndToken(v: Pick<VolumeInfo, 'name'>) {
  return { ...toE2BVolume(v), token: '' };
}

function idOf(req: Request): string {
  const id = String(req.params.volumeID);
  if (!VOLUME_NAME.test(id)) throw new NotFoundError(`volume ${id} not found`);
  return id;
}

/** The routes, for the E2B control plane's router (after its auth and JSON parser). */
export function e2bVolumeRoutes(volumes: VolumeService): Router {
  const router = Router();
  const owner = (req: Request) => callerOf(req).owner;
  router.post('/volumes', async (req, res) => {
    const { name } = parseOr400(e2bNewVolumeSchema, req.body, 'volume request');
    res.status(201).json(toE2BVolumeAndToken(await volumes.create(owner(req), name)));
  });
  router.get('/volumes', async (req, res) => {
    res.json((await volumes.list(owner(req))).map(toE2BVolume));
  });
  router.get('/volumes/:volumeID', async (req, res) => {
    res.json(toE2BVolumeAndToken(await volumes.get(owner(req), idOf(req))));
  });
  router.delete('/volumes/:volumeID', async (req, res) => {
    await volumes.remove(owner(req), idOf(req));
    res.status(204).end();
  });
  return router;
}
