/**
 * Volumes: Docker named volumes (local driver) labelled with their owner, so the engine alone
 * says whose they are. A volume outlives every sandbox that mounted it: a sandbox's container
 * is removed with `v: true`, which removes anonymous volumes only.
 */
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { ConflictError, NotFoundError } from '../errors.js';
import { dockerFailure, dockerStatus, dockerMessage } from '../docker/errors.js';
import { LABELS } from '../docker/labels.js';

export const VOLUME_LABELS = { name: 'berth.volume', sizeMB: 'berth.volume.size-mb', createdAt: 'berth.volume.created-at' } as const;

export interface VolumeInfo {
  name: string;
  /** The size asked for at create (advisory: the local driver does not enforce it). */
  sizeMB: number | null;
  createdAt: string;
  /** How many containers (sandboxes) mount it now. */
  mountedBy: number;
}

/** The engine's name of an owner's volume: owners may share a volume name, never a volume. */
export function dockerVolumeName(owner: string, name: string): string {
  const ownerTag = createHash('sha256').update(owner).digest('hex').slice(0, 12);
  return `berth-v-${ownerTag}-${name}`;
}

export class VolumeStore {
  constructor(private readonly docker: Docker) {}

  async create(owner: string, name: string, sizeMB: number | undefined): Promise<VolumeInfo> {
    const Name = dockerVolumeName(owner, name);
    if (await this.inspect(Name)) throw new ConflictError(`volume ${name} already exists`);
    const createdAt = new Date().toISOString();
    await this.docker.createVolume({
      Name,
      Driver: 'local',
      Labels: {
        [LABELS.managed]: 'true',
        [LABELS.owner]: owner,
        [VOLUME_LABELS.name]: name,
        [VOLUME_LABELS.createdAt]: createdAt,
        ...(sizeMB !== undefined ? { [VOLUME_LABELS.sizeMB]: String(sizeMB) } : {}),
      },
    });
    return { name, sizeMB: sizeMB ?? null, createdAt, mountedBy: 0 };
  }

  /** The owner's volumes, by name, with the engine's usage figures. */
  async list(owner: string): Promise<VolumeInfo[]> {
    const { Volumes } = await this.docker.listVolumes({ filters: JSON.stringify({ label: [`${LABELS.owner}=${owner}`, `${VOLUME_LABELS.name}`] }) });
    const mine = (Volumes ?? []).filter((v) => v.Labels?.[LABELS.owner] === owner);
    const infos = await Promise.all(mine.map(async (v) => toInfo(v, await this.mountCount(v.Name))));
    return infos.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** One of the owner's volumes; 404 when it does not exist or is another owner's. */
  async get(owner: string, name: string): Promise<VolumeInfo> {
    const volume = await this.inspect(dockerVolumeName(owner, name));
    if (!volume || volume.Labels?.[LABELS.owner] !== owner) throw new NotFoundError(`volume ${name} not found`);
    return toInfo(volume, await this.mountCount(volume.Name));
  }

  /** Removes the owner's volume and its data; 409 while a sandbox mounts it. */
  async remove(owner: string, name: string): Promise<void> {
    await this.get(owner, name);
    try {
      await this.docker.getVolume(dockerVolumeName(owner, name)).remove();
    } catch (err) {
      if (dockerStatus(err) === 404) throw new NotFoundError(`volume ${name} not found`);
      if (dockerFailure(err) === 'conflict') throw new ConflictError(`volume ${name} is mounted by a sandbox: kill the sandboxes that use it first (${dockerMessage(err)})`);
      throw err;
    }
  }

  private async inspect(dockerName: string): Promise<Docker.VolumeInspectInfo | undefined> {
    try {
      return await this.docker.getVolume(dockerName).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) return undefined;
      throw err;
    }
  }

  /** How many containers mount the volume (running, paused or stopped). */
  private async mountCount(dockerName: string): Promise<number> {
    const containers = await this.docker.listContainers({ all: true, filters: JSON.stringify({ volume: [dockerName] }) });
    return containers.length;
  }
}

function toInfo(volume: { Labels?: Record<string, string> | null; CreatedAt?: string }, mountedBy: number): VolumeInfo {
  const labels = volume.Labels ?? {};
  const size = labels[VOLUME_LABELS.sizeMB];
  return {
    name: labels[VOLUME_LABELS.name] ?? '',
    sizeMB: size ? Number(size) : null,
    createdAt: labels[VOLUME_LABELS.createdAt] ?? volume.CreatedAt ?? '',
    mountedBy,
  };
}
