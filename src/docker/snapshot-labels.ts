/**
 * Where a snapshot lives: a local image `berth-snapshot/<snapshotID>:latest` whose labels are
 * its whole record (owner, source sandbox and template, kind, creation time), so the Docker
 * engine is the only store. Shared by the activity that commits it and the store that lists it.
 */
export const SNAPSHOT_REPO_PREFIX = 'berth-snapshot/';

export const SNAPSHOT_LABELS = {
  id: 'berth.snapshot',
  owner: 'berth.snapshot.owner',
  sandbox: 'berth.snapshot.sandbox',
  template: 'berth.snapshot.template',
  kind: 'berth.snapshot.kind',
  createdAt: 'berth.snapshot.created-at',
  host: 'berth.snapshot.host',
} as const;

/** The image repository of a snapshot (tag `latest`). */
export function snapshotRepo(snapshotID: string): string {
  return `${SNAPSHOT_REPO_PREFIX}${snapshotID}`;
}

/** The full image reference of a snapshot. */
export function snapshotImage(snapshotID: string): string {
  return `${snapshotRepo(snapshotID)}:latest`;
}
