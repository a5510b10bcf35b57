/**
 * OpenSandbox `volumes` at create, mapped onto berth's named volumes (docs/volumes.md):
 * a `pvc` volume is the owner's berth volume called `claimName` (created on the fly when
 * `createIfNotExists`, the SDK's default); `host` (a host path) is refused, always: berth never
 * mounts a path of the host into a sandbox; `ossfs` is not offered.
 */
import { ConflictError, InvalidArgumentError, NotFoundError, NotSupportedError } from '../../errors.js';
import type { VolumeService } from '../../service/volume-service.js';
import { VOLUME_NAME } from '../../service/schemas.js';
import { parseMemoryMB, type CreateRequest } from './schemas.js';

type RequestVolume = NonNullable<CreateRequest['volumes']>[number];

/** A pvc volume to create before the sandbox when it does not exist yet. */
export interface AutoCreate {
  name: string;
  sizeMB: number | undefined;
}

export interface VolumePlan {
  /** berth's `volumes` of the create body (validated again by berth's own schema). */
  mounts: Array<{ name: string; mountPath: string; readOnly: boolean }>;
  /** Volumes to create first when missing (`createIfNotExists`). */
  autoCreate: AutoCreate[];
}

/** Checks the request's volumes and maps them; throws the 400/501 the SDK shows the user. */
export function planVolumes(volumes: RequestVolume[]): VolumePlan {
  const plan: VolumePlan = { mounts: [], autoCreate: [] };
  volumes.forEach((v, i) => {
    const at = `volumes[${i}] (${v.name})`;
    if (v.host !== undefined && v.host !== null) {
      throw new InvalidArgumentError(
        `${at}: host-path volumes are refused: berth never mounts a path of the host into a sandbox. Use a named volume instead: pvc=PVC(claim_name="<name>") (berth creates it when missing)`,
      );
    }
    if (v.ossfs !== undefined && v.ossfs !== null) throw new NotSupportedError(`${at}: ossfs volumes are not supported by berth: use pvc=PVC(claim_name="<name>"), a berth named volume`);
    const pvc = v.pvc;
    if (!pvc) throw new InvalidArgumentError(`${at}: give exactly one backend: pvc=PVC(claim_name="<name>") (a berth named volume)`);
    if (v.subPath !== undefined && v.subPath !== null) throw new NotSupportedError(`${at}: subPath is not supported by berth: mount the whole volume and use a folder below the mount path`);
    if (pvc.deleteOnSandboxTermination) {
      throw new NotSupportedError(`${at}: deleteOnSandboxTermination is not supported by berth: volumes outlive their sandboxes; delete it with berth's DELETE /volumes/{name} after the kill`);
    }
    if (!VOLUME_NAME.test(pvc.claimName)) {
      throw new InvalidArgumentError(`${at}: claimName "${pvc.claimName}" is not a berth volume name: use 1-63 lowercase letters, digits, _ . or -, starting with a letter or digit`);
    }
    plan.mounts.push({ name: pvc.claimName, mountPath: v.mountPath, readOnly: v.readOnly ?? false });
    if (pvc.createIfNotExists !== false && !plan.autoCreate.some((a) => a.name === pvc.claimName)) {
      plan.autoCreate.push({ name: pvc.claimName, sizeMB: pvc.storage ? sizeOf(pvc.storage, at) : undefined });
    }
  });
  return plan;
}

/** Creates the plan's missing volumes (a volume created meanwhile by another call is fine). */
export async function ensureVolumes(volumes: VolumeService, owner: string, autoCreate: AutoCreate[]): Promise<void> {
  for (const { name, sizeMB } of autoCreate) {
    try {
      await volumes.get(owner, name);
      continue;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
    try {
      await volumes.create(owner, name, sizeMB);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }
}

function sizeOf(storage: string, at: string): number {
  try {
    return parseMemoryMB(storage);
  } catch {
    throw new InvalidArgumentError(`${at}: pvc.storage must be a quantity such as "1Gi" or "512Mi": got "${storage}"`);
  }
}
