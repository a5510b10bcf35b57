/**
 * OpenSandbox snapshots (`create_snapshot`, `get_snapshot`, `list_snapshots`, `delete_snapshot`;
 * `Sandbox.create(snapshot_id=…)` boots one through the create) mapped onto berth's
 * {@link SnapshotService}. A berth snapshot is taken synchronously: it is `Ready` when the
 * create answers. berth's snapshots keep the filesystem only and have no names.
 */
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';
import type { SnapshotRecord } from '../../dataplane/snapshots.js';
import type { SnapshotService } from '../../service/snapshot-service.js';
import { callerOf } from '../auth.js';
import { parseOr400 } from './errors.js';

const createSnapshotSchema = z.object({ name: z.string().nullish() }).passthrough();
const listSnapshotsQuerySchema = z.object({
  sandboxId: z.string().optional(),
  name: z.string().optional(),
  state: z.union([z.string(), z.array(z.string())]).optional(),
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(1000).default(20),
});
/** Most snapshots one list call reads before it pages in memory. */
const LIST_CAP = 5000;
const READY = 'Ready';

/** A berth snapshot in the protocol's `Snapshot` shape. */
export function snapshotView(record: SnapshotRecord) {
  return {
    id: record.snapshotID,
    sandboxId: record.sandboxID,
    status: { state: READY, reason: 'snapshot_ready', lastTransitionAt: record.createdAt },
    createdAt: record.createdAt,
  };
}

/** The snapshot routes (mounted at `/v1`, after the door's auth and JSON parser). */
export function snapshotRoutes(snapshots: SnapshotService): Router {
  const router = Router();
  const owner = (req: Request) => callerOf(req).owner;
  router.use(express.json({ limit: '1mb' }));

  router.post('/sandboxes/:id/snapshots', async (req, res) => {
    const { name } = parseOr400(createSnapshotSchema, req.body, 'snapshot request');
    if (name) throw new InvalidArgumentError("berth's snapshots have no names: call create_snapshot() without a name and keep the id it returns");
    res.status(202).json(snapshotView(await snapshots.create(owner(req), req.params.id)));
  });

  router.get('/snapshots/:snapshotId', async (req, res) => {
    res.json(snapshotView(await snapshots.get(owner(req), req.params.snapshotId)));
  });

  router.delete('/snapshots/:snapshotId', async (req, res) => {
    await snapshots.remove(owner(req), req.params.snapshotId);
    res.status(204).end();
  });

  router.get('/snapshots', async (req, res) => {
    const q = parseOr400(listSnapshotsQuerySchema, req.query, 'query');
    const states = q.state === undefined ? undefined : (Array.isArray(q.state) ? q.state : [q.state]).flatMap((s) => s.split(',')).map((s) => s.trim().toLowerCase());
    let all: SnapshotRecord[] = [];
    if (q.sandboxId) {
      all = await snapshots.listOfSandbox(owner(req), q.sandboxId);
    } else {
      let nextToken: string | undefined;
      do {
        const page = await snapshots.list(owner(req), { limit: 1000, ...(nextToken ? { nextToken } : {}) });
        all.push(...page.snapshots);
        nextToken = page.nextToken ?? undefined;
      } while (nextToken && all.length < LIST_CAP);
    }
    // Every berth snapshot is Ready and has no name.
    if (q.name !== undefined || (states && !states.includes(READY.toLowerCase()))) all = [];
    const totalPages = Math.max(1, Math.ceil(all.length / q.pageSize));
    const items = all.slice((q.page - 1) * q.pageSize, q.page * q.pageSize).map(snapshotView);
    res.json({ items, pagination: { page: q.page, pageSize: q.pageSize, totalItems: all.length, totalPages, hasNextPage: q.page < totalPages } });
  });
  return router;
}
