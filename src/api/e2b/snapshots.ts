/**
 * E2B's snapshot calls (`create_snapshot`, `list_snapshots`, `delete_snapshot` of the e2b SDKs;
 * `Sandbox.create(<snapshot ID>)` boots one through the create's templateID) mapped onto berth's
 * {@link SnapshotService}. berth's snapshots keep the filesystem only (docs/snapshots.md): a
 * sandbox booted from one starts fresh processes. They have no names: the ID is the handle.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { InvalidArgumentError, NotFoundError } from '../../errors.js';
import type { SnapshotRecord } from '../../dataplane/snapshots.js';
import type { SnapshotService } from '../../service/snapshot-service.js';
import { callerOf } from '../auth.js';
import { parseOr400 } from '../rest/validate.js';
import { sandboxIDFromPath } from './shapes.js';

/** Body of `POST /sandboxes/{id}/snapshots`: `name` and `memory` are what the SDKs may send. */
const e2bSnapshotRequestSchema = z.object({ name: z.string().nullish(), memory: z.boolean().nullish() }).passthrough();

const MAX_PAGE = 100;

/** E2B's `SnapshotInfo`: the ID is what `Sandbox.create` takes; berth's snapshots have no names. */
export function toE2BSnapshot(record: Pick<SnapshotRecord, 'snapshotID'>) {
  return { snapshotID: record.snapshotID, names: [] as string[] };
}

/** The routes, for the E2B control plane's router (after its auth and JSON parser). */
export function e2bSnapshotRoutes(snapshots: SnapshotService): Router {
  const router = Router();
  const owner = (req: Request) => callerOf(req).owner;

  router.post('/sandboxes/:id/snapshots', async (req, res) => {
    const body = parseOr400(e2bSnapshotRequestSchema, req.body ?? {}, 'snapshot request');
    if (body.name) throw new InvalidArgumentError("berth's snapshots have no names: call create_snapshot() without a name and keep the snapshot_id it returns");
    if (body.memory === true) {
      throw new InvalidArgumentError('berth snapshots keep the filesystem only (sandboxes booted from one start fresh processes): call create_snapshot() without mode, or with mode="filesystem"');
    }
    const record = await snapshots.create(owner(req), sandboxIDFromPath(String(req.params.id)));
    res.status(201).json(toE2BSnapshot(record));
  });

  router.get('/snapshots', async (req: Request, res: Response) => {
    const limit = req.query.limit === undefined ? MAX_PAGE : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_PAGE}`);
    const sandboxID = typeof req.query.sandboxID === 'string' && req.query.sandboxID ? sandboxIDFromPath(req.query.sandboxID) : undefined;
    const name = typeof req.query.name === 'string' && req.query.name ? req.query.name : undefined;
    const nextToken = typeof req.query.nextToken === 'string' && req.query.nextToken ? req.query.nextToken : undefined;
    let records: SnapshotRecord[];
    if (name !== undefined) {
      // `name` filters by name or ID: berth's snapshots have IDs only.
      records = await snapshots.get(owner(req), name).then(
        (r) => [r],
        (err: unknown) => {
          if (err instanceof NotFoundError) return [];
          throw err;
        },
      );
      if (sandboxID !== undefined) records = records.filter((r) => r.sandboxID === sandboxID);
    } else if (sandboxID !== undefined) {
      // One sandbox's snapshots: few; answered in one page.
      records = (await snapshots.listOfSandbox(owner(req), sandboxID)).slice(0, limit);
    } else {
      const page = await snapshots.list(owner(req), { limit, ...(nextToken ? { nextToken } : {}) });
      if (page.nextToken) res.setHeader('x-next-token', page.nextToken);
      records = page.snapshots;
    }
    res.json(records.map(toE2BSnapshot));
  });

  // delete_snapshot: E2B's snapshots are templates, deleted with DELETE /templates/{id}.
  router.delete('/templates/:id', async (req, res) => {
    await snapshots.remove(owner(req), String(req.params.id));
    res.status(204).end();
  });
  return router;
}
