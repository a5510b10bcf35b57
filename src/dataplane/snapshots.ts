/**
 * Snapshot images on the Docker engine: each snapshot is `berth-snapshot/<snapshotID>:latest`,
 * labelled with its record (src/docker/snapshot-labels.ts), so the engine alone says what
 * exists and whose it is. This store only reads and removes; the sandbox's workflow commits
 * (src/activities/snapshot.ts). Owner checks are the service's (src/service/snapshot-service.ts).
 */
import type Docker from 'dockerode';
import { ConflictError, NotFoundError } from '../errors.js';
import { dockerFailure, dockerMessage, dockerStatus } from '../docker/errors.js';
import { SNAPSHOT_LABELS, snapshotImage } from '../docker/snapshot-labels.js';
import type { SnapshotKind } from '../workflows/definitions.js';

/** A snapshot as the API shows it. */
export interface SnapshotRecord {
  snapshotID: string;
  /** The sandbox it was taken from (it may be stopped since). */
  sandboxID: string;
  /** The source sandbox's template: a boot from the snapshot takes its defaults. */
  templateID: string;
  kind: SnapshotKind;
  createdAt: string;
  /** The image's size (its layers, including the template's base image). */
  sizeBytes: number;
  /** When the retention sweep removes it (null: kept until deleted). */
  expiresAt: string | null;
}

/** A record with what only the service sees. */
export interface StoredSnapshot extends SnapshotRecord {
  owner: string;
  /** The image reference a sandbox boots from. */
  image: string;
}

export class SnapshotStore {
  /** @param retentionMs how long a snapshot is kept after it was taken (0: until deleted). */
  constructor(
    private readonly docker: Docker,
    private readonly retentionMs: number,
  ) {}

  /** Snapshots of one kind, optionally of one owner and one source sandbox; newest first. */
  async list(filter: { owner?: string; sandboxID?: string; kind?: SnapshotKind }): Promise<StoredSnapshot[]> {
    const label: string[] = [SNAPSHOT_LABELS.id];
    if (filter.owner !== undefined) label.push(`${SNAPSHOT_LABELS.owner}=${filter.owner}`);
    if (filter.sandboxID !== undefined) label.push(`${SNAPSHOT_LABELS.sandbox}=${filter.sandboxID}`);
    if (filter.kind !== undefined) label.push(`${SNAPSHOT_LABELS.kind}=${filter.kind}`);
    const images = await this.docker.listImages({ filters: JSON.stringify({ label }) });
    const records = images
      .map((image) => this.toRecord(image.Labels ?? {}, image.Size))
      .filter((r): r is StoredSnapshot => r !== null)
      // The label filter is the engine's; the owner test is ours too (a label containing '=' could not fool both).
      .filter((r) => (filter.owner === undefined || r.owner === filter.owner) && (filter.sandboxID === undefined || r.sandboxID === filter.sandboxID));
    return records.sort(newestFirst);
  }

  /** One snapshot by ID, whoever owns it; null when there is none. */
  async find(snapshotID: string): Promise<StoredSnapshot | null> {
    try {
      const image = await this.docker.getImage(snapshotImage(snapshotID)).inspect();
      const record = this.toRecord(image.Config.Labels ?? {}, image.Size);
      return record?.snapshotID === snapshotID ? record : null;
    } catch (err) {
      if (dockerStatus(err) === 404) return null;
      throw err;
    }
  }

  /** Removes a snapshot's image; 409 while a sandbox's container was booted from it. */
  async remove(snapshotID: string): Promise<void> {
    try {
      await this.docker.getImage(snapshotImage(snapshotID)).remove();
    } catch (err) {
      if (dockerStatus(err) === 404) throw new NotFoundError(`snapshot ${snapshotID} not found`);
      if (dockerFailure(err) === 'conflict') {
        throw new ConflictError(`snapshot ${snapshotID} is in use by a sandbox booted from it: kill those sandboxes first, then delete it (${dockerMessage(err)})`);
      }
      throw err;
    }
  }

  private toRecord(labels: Record<string, string>, size: number): StoredSnapshot | null {
    const snapshotID = labels[SNAPSHOT_LABELS.id];
    const owner = labels[SNAPSHOT_LABELS.owner];
    const createdAt = labels[SNAPSHOT_LABELS.createdAt];
    if (!snapshotID || !owner || !createdAt) return null;
    const kind: SnapshotKind = labels[SNAPSHOT_LABELS.kind] === 'pause' ? 'pause' : 'snapshot';
    return {
      snapshotID,
      sandboxID: labels[SNAPSHOT_LABELS.sandbox] ?? '',
      templateID: labels[SNAPSHOT_LABELS.template] ?? '',
      kind,
      createdAt,
      sizeBytes: size,
      expiresAt: this.retentionMs > 0 ? new Date(Date.parse(createdAt) + this.retentionMs).toISOString() : null,
      owner,
      image: snapshotImage(snapshotID),
    };
  }
}

/** Newest first; the ID breaks ties so the order (and paging) is stable. */
export function newestFirst(a: SnapshotRecord, b: SnapshotRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.snapshotID < b.snapshotID ? 1 : a.snapshotID > b.snapshotID ? -1 : 0;
}
