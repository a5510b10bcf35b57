/**
 * Snapshots: `POST /sandboxes/{id}/snapshots` (take one), `GET /sandboxes/{id}/snapshots`,
 * `GET /snapshots` (paged), `GET /snapshots/{id}`, `DELETE /snapshots/{id}` and
 * `POST /snapshots/{id}/restore` (boot a new sandbox from it). See docs/snapshots.md.
 */
import { Router } from 'express';
import { z } from 'zod';
import { callerOf } from '../auth.js';
import type { SnapshotService } from '../../service/snapshot-service.js';
import { createQuerySchema, restoreSnapshotSchema, snapshotListQuerySchema } from '../../service/schemas.js';
import { endpoint, mount, param } from './endpoint.js';
import { sandboxSnapshotsSchema, sandboxViewSchema, snapshotListSchema, snapshotSchema } from './response-schemas.js';

const snapshotParam = { snapshotID: z.string().regex(/^snap_[a-z0-9]{20}$/).describe('Snapshot ID (snap_ and 20 lowercase letters or digits).') };
const notYours: [404, string] = [404, 'Snapshot not found or not yours'];

const take = endpoint({
  method: 'post',
  path: '/sandboxes/{sandboxID}/snapshots',
  summary: "Snapshot the sandbox's filesystem (a running sandbox is frozen for the commit; a paused one is committed as is)",
  responses: { '201': { description: 'The snapshot', json: snapshotSchema } },
  errors: [404, [409, 'Not running or paused (creating)'], [429, 'Owner snapshot cap reached (BERTH_MAX_SNAPSHOTS_PER_OWNER)']],
});
const ofSandbox = endpoint({
  method: 'get',
  path: '/sandboxes/{sandboxID}/snapshots',
  summary: 'Snapshots taken of the sandbox, newest first (also after it stopped)',
  responses: { '200': { description: 'Snapshots, newest first', json: sandboxSnapshotsSchema } },
  errors: [404],
});
const list = endpoint({
  method: 'get',
  path: '/snapshots',
  summary: 'Your snapshots, newest first (cursor paging)',
  query: snapshotListQuerySchema,
  responses: { '200': { description: 'One page of snapshots', json: snapshotListSchema } },
  errors: [],
});
const get = endpoint({
  method: 'get',
  path: '/snapshots/{snapshotID}',
  summary: 'One snapshot',
  params: snapshotParam,
  responses: { '200': { description: 'The snapshot', json: snapshotSchema } },
  errors: [notYours],
});
const remove = endpoint({
  method: 'delete',
  path: '/snapshots/{snapshotID}',
  summary: 'Delete a snapshot (its image)',
  params: snapshotParam,
  responses: { '204': { description: 'Deleted' } },
  errors: [notYours, [409, 'A live sandbox was booted from it: kill it first']],
});
const restore = endpoint({
  method: 'post',
  path: '/snapshots/{snapshotID}/restore',
  summary: 'Boot a new sandbox from the snapshot (same as POST /sandboxes with templateID = snapshotID)',
  params: snapshotParam,
  body: restoreSnapshotSchema,
  bodyName: 'restore request',
  query: createQuerySchema,
  responses: {
    '201': { description: 'Running sandbox (wait=true)', json: sandboxViewSchema },
    '202': { description: 'Sandbox creating (wait=false)', json: sandboxViewSchema },
  },
  errors: [notYours, [403, 'host set without an admin key (code forbidden)'], [409, 'The pinned host is drained or not reporting'], 429, [502, 'Provisioning failed (code provision_failed)']],
});

/** The snapshots router. */
export function snapshotRoutes(snapshots: SnapshotService): Router {
  const router = Router();
  const owner = (req: Parameters<typeof callerOf>[0]) => callerOf(req).owner;
  mount(router, take, async (req, res) => {
    res.status(201).json(await snapshots.create(owner(req), param(req, 'sandboxID')));
  });
  mount(router, ofSandbox, async (req, res) => {
    res.json({ snapshots: await snapshots.listOfSandbox(owner(req), param(req, 'sandboxID')) });
  });
  mount(router, list, async (req, res, { query }) => {
    res.json(await snapshots.list(owner(req), query));
  });
  mount(router, get, async (req, res) => {
    res.json(await snapshots.get(owner(req), param(req, 'snapshotID')));
  });
  mount(router, remove, async (req, res) => {
    await snapshots.remove(owner(req), param(req, 'snapshotID'));
    res.status(204).end();
  });
  mount(router, restore, async (req, res, { body, query }) => {
    const wait = query.wait === 'true';
    res.status(wait ? 201 : 202).json(await snapshots.restore(owner(req), param(req, 'snapshotID'), body, wait, { admin: callerOf(req).admin ?? false }));
  });
  return router;
}
