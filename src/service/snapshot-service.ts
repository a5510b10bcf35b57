/**
 * User snapshots for every front door: taking one (a step of the sandbox's workflow: the
 * `snapshot` update), listing, deleting, booting a sandbox from one, the per-owner cap and the
 * retention sweep. Every route checks the owner here: another owner's snapshot is "not found".
 * The engine side is src/dataplane/snapshots.ts; the commit is src/activities/snapshot.ts.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config.js';
import { InvalidArgumentError, NotFoundError, QuotaExceededError } from '../errors.js';
import { newSnapshotID, SANDBOX_ID_PATTERN, workflowIdFor } from '../ids.js';
import type { SnapshotRecord, SnapshotStore, StoredSnapshot } from '../dataplane/snapshots.js';
import { SNAPSHOT_ID_PATTERN, snapshotUpdate } from '../workflows/definitions.js';
import type { sandboxWorkflow } from '../workflows/sandbox.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import type { CreateSandboxBody } from './schemas.js';
import type { SandboxService, SandboxView } from './sandbox-service.js';
import { toBerthError } from './temporal-errors.js';

/** What a boot from a snapshot needs (see SandboxService.create). */
export interface SnapshotBoot {
  snapshotID: string;
  image: string;
  /** The source sandbox's template, whose defaults (resources, timeout) the new sandbox takes. */
  templateID: string;
}

/** Resolves the snapshot a create names (404 for one that is not the caller's). */
export interface SnapshotResolver {
  resolveBoot(owner: string, snapshotID: string): Promise<SnapshotBoot>;
}

export interface SnapshotServiceDeps {
  client: Client;
  config: BerthConfig;
  logger: Logger;
  store: SnapshotStore;
  /** The lifecycle service (a getter: it is built with this service as its resolver). */
  sandboxes: () => SandboxService;
}

export class SnapshotService implements SnapshotResolver {
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(private readonly deps: SnapshotServiceDeps) {}

  /** Takes a snapshot of the caller's running or paused sandbox (429 at the cap). */
  async create(owner: string, sandboxID: string): Promise<SnapshotRecord> {
    if (!SANDBOX_ID_PATTERN.test(sandboxID)) throw new NotFoundError(`sandbox ${sandboxID} not found`);
    const { maxPerOwner } = this.deps.config.snapshots;
    const existing = await this.deps.store.list({ owner, kind: 'snapshot' });
    if (existing.length >= maxPerOwner) {
      throw new QuotaExceededError(
        `you have ${existing.length} snapshots, the most this server allows (BERTH_MAX_SNAPSHOTS_PER_OWNER=${maxPerOwner}); delete one first (DELETE /snapshots/{snapshotID})`,
      );
    }
    const snapshotID = newSnapshotID();
    try {
      const handle = this.deps.client.workflow.getHandle<typeof sandboxWorkflow>(workflowIdFor(sandboxID));
      await handle.executeUpdate(snapshotUpdate, { args: [{ owner, snapshotID }] });
    } catch (err) {
      throw toBerthError(err, sandboxID);
    }
    this.deps.logger.info({ owner, sandboxID, snapshotID }, 'snapshot taken');
    return this.get(owner, snapshotID);
  }

  /** The snapshots taken of one of the caller's sandboxes (also after it stopped), newest first. */
  async listOfSandbox(owner: string, sandboxID: string): Promise<SnapshotRecord[]> {
    if (!SANDBOX_ID_PATTERN.test(sandboxID)) throw new NotFoundError(`sandbox ${sandboxID} not found`);
    const records = await this.deps.store.list({ owner, sandboxID, kind: 'snapshot' });
    // None: say "not found" unless it is a sandbox of the caller's (live, or stopped and still in history).
    if (records.length === 0) await this.deps.sandboxes().events(owner, sandboxID);
    return records.map(publicRecord);
  }

  /** The caller's snapshots, newest first, a page at a time. */
  async list(owner: string, page: { limit: number; nextToken?: string | undefined }): Promise<{ snapshots: SnapshotRecord[]; nextToken: string | null }> {
    const all = await this.deps.store.list({ owner, kind: 'snapshot' });
    const scope = `snapshots of ${owner}`;
    let start = 0;
    if (page.nextToken) {
      const cursor = decodePageToken(this.deps.config.secretKeyHex, scope, page.nextToken);
      if (!cursor) throw new InvalidArgumentError('nextToken is not a token this API returned for your snapshots; pass the nextToken of the previous page, or list again without it');
      const [createdAt, snapshotID] = cursor.toString('utf8').split('\n');
      // The first snapshot after the cursor in the (stable) newest-first order.
      start = all.findIndex((r) => r.createdAt < (createdAt ?? '') || (r.createdAt === createdAt && r.snapshotID < (snapshotID ?? '')));
      if (start < 0) start = all.length;
    }
    const items = all.slice(start, start + page.limit);
    const last = items[items.length - 1];
    const more = start + items.length < all.length;
    const nextToken = more && last ? encodePageToken(this.deps.config.secretKeyHex, scope, Buffer.from(`${last.createdAt}\n${last.snapshotID}`)) : null;
    return { snapshots: items.map(publicRecord), nextToken };
  }

  async get(owner: string, snapshotID: string): Promise<SnapshotRecord> {
    return publicRecord(await this.owned(owner, snapshotID));
  }

  /** Deletes the caller's snapshot; 409 while a live sandbox was booted from it. */
  async remove(owner: string, snapshotID: string): Promise<void> {
    await this.owned(owner, snapshotID);
    await this.deps.store.remove(snapshotID);
    this.deps.logger.info({ owner, snapshotID }, 'snapshot deleted');
  }

  /** Boots a new sandbox from the caller's snapshot (same answer as a create). */
  async restore(owner: string, snapshotID: string, body: Omit<CreateSandboxBody, 'templateID' | 'image' | 'snapshotID'>, wait: boolean, caller: { admin?: boolean } = {}): Promise<SandboxView> {
    await this.owned(owner, snapshotID);
    return this.deps.sandboxes().create(owner, { ...body, snapshotID }, wait, caller);
  }

  async resolveBoot(owner: string, snapshotID: string): Promise<SnapshotBoot> {
    const record = await this.owned(owner, snapshotID);
    return { snapshotID, image: record.image, templateID: record.templateID };
  }

  /** Removes every snapshot (of `scope.owner`, when given) older than the retention; one in use by a sandbox stays until the next sweep. */
  async sweepExpired(nowMs = Date.now(), scope: { owner?: string } = {}): Promise<string[]> {
    const { retentionMs } = this.deps.config.snapshots;
    if (retentionMs <= 0) return [];
    const expired = (await this.deps.store.list({ kind: 'snapshot', ...scope })).filter((r) => Date.parse(r.createdAt) + retentionMs <= nowMs);
    const removed: string[] = [];
    for (const record of expired) {
      try {
        await this.deps.store.remove(record.snapshotID);
        removed.push(record.snapshotID);
      } catch (err) {
        this.deps.logger.warn({ snapshotID: record.snapshotID, err: (err as Error).message }, 'expired snapshot not removed; trying again at the next sweep');
      }
    }
    if (removed.length) this.deps.logger.info({ removed }, 'expired snapshots removed (BERTH_SNAPSHOT_RETENTION_MS)');
    return removed;
  }

  /** Starts the periodic retention sweep (BERTH_SNAPSHOT_SWEEP_INTERVAL_MS; 0 = never). */
  startSweep(): void {
    const { sweepIntervalMs, retentionMs } = this.deps.config.snapshots;
    if (sweepIntervalMs <= 0 || retentionMs <= 0 || this.sweepTimer) return;
    this.sweepTimer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweepExpired()
        .then(() => undefined)
        .catch((err: unknown) => this.deps.logger.warn({ err: (err as Error).message }, 'snapshot sweep failed'))
        .finally(() => (this.sweeping = undefined));
    }, sweepIntervalMs);
    this.sweepTimer.unref();
  }

  /** Stops the sweep and waits for one in flight. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await this.sweeping;
  }

  /** The caller's snapshot; any other (unknown, malformed, another owner's) is "not found". */
  private async owned(owner: string, snapshotID: string): Promise<StoredSnapshot> {
    if (!SNAPSHOT_ID_PATTERN.test(snapshotID)) throw new NotFoundError(`snapshot ${snapshotID} not found`);
    const record = await this.deps.store.find(snapshotID);
    if (!record || record.owner !== owner || record.kind !== 'snapshot') throw new NotFoundError(`snapshot ${snapshotID} not found`);
    return record;
  }
}

/** What the API shows: the record without the owner and the image reference. */
function publicRecord(record: StoredSnapshot): SnapshotRecord {
  const { owner: _owner, image: _image, ...rest } = record;
  return rest;
}
