/**
 * Volumes for every front door: owner-scoped CRUD with a per-owner cap, and the resolution of a
 * create's `volumes` into the engine's mounts. The engine side is src/dataplane/volumes.ts.
 */
import { InvalidArgumentError, NotFoundError, QuotaExceededError } from '../errors.js';
import { dockerVolumeName, type VolumeInfo, type VolumeStore } from '../dataplane/volumes.js';
import type { VolumeMount } from '../workflows/definitions.js';
import type { CreateSandboxBody } from './schemas.js';
import type { VolumeResolver } from './sandbox-service.js';

export class VolumeService implements VolumeResolver {
  constructor(
    private readonly store: VolumeStore,
    private readonly limits: { maxVolumesPerOwner: number },
  ) {}

  async create(owner: string, name: string, sizeMB?: number): Promise<VolumeInfo> {
    const existing = await this.store.list(owner);
    if (existing.length >= this.limits.maxVolumesPerOwner) {
      throw new QuotaExceededError(`you have ${existing.length} volumes, the most this server allows (BERTH_MAX_VOLUMES_PER_OWNER); delete one first`);
    }
    return this.store.create(owner, name, sizeMB);
  }

  list(owner: string): Promise<VolumeInfo[]> {
    return this.store.list(owner);
  }

  get(owner: string, name: string): Promise<VolumeInfo> {
    return this.store.get(owner, name);
  }

  remove(owner: string, name: string): Promise<void> {
    return this.store.remove(owner, name);
  }

  /** The engine's mounts for a create; a volume that is not the owner's is a 400 naming it. */
  async resolve(owner: string, mounts: NonNullable<CreateSandboxBody['volumes']>): Promise<VolumeMount[]> {
    return Promise.all(
      mounts.map(async (m) => {
        try {
          await this.store.get(owner, m.name);
        } catch (err) {
          if (err instanceof NotFoundError) throw new InvalidArgumentError(`volume ${m.name} does not exist: create it first with POST /volumes`);
          throw err;
        }
        return { name: m.name, volume: dockerVolumeName(owner, m.name), mountPath: m.mountPath, readOnly: m.readOnly };
      }),
    );
  }
}
