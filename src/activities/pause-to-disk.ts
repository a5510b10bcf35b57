/**
 * Pause to disk: the sandbox's container is committed to a local pause image (labelled
 * `berth.kind=pause`, its sandbox and owner) and removed, so a paused sandbox holds no memory
 * or CPU and survives an engine restart. Resume recreates the container from that image with
 * the sandbox's spec (same name, resources, policy, envs, volumes) and untags the image. Files
 * are kept, processes are not (the container starts afresh). Every step is idempotent: a retry
 * after a worker crash finds the image or the container it made and carries on.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { SandboxNetwork } from '../network/sandbox-network.js';
import { FailureType, type ContainerRef, type PauseToDiskRequest, type PauseToDiskResult, type ProvisionRequest, type ProvisionResult } from '../workflows/definitions.js';
import { LABELS } from '../docker/labels.js';
import { POOL_LABELS, sandboxIdOfContainer } from '../docker/pool-labels.js';
import { SNAPSHOT_LABELS } from '../docker/snapshot-labels.js';
import { dockerMessage, dockerStatus } from '../docker/errors.js';
import { withHeartbeat } from './heartbeat.js';
import { createCheckpoint, deleteCheckpoint, hasCheckpoint, startFromCheckpoint } from '../docker/checkpoints.js';

/** The label kind of berth's images: `pause` (this file), `snapshot` (users' snapshots). */
export const KIND_LABEL = 'berth.kind';
export const PAUSE_KIND = 'pause';
/** The repository of pause images; the tag is the sandbox ID (lowercase alphanumerics). */
export const PAUSE_REPO = 'berth-pause';

/** The checkpoint a gVisor sandbox paused to disk is kept in (inside its container's folder). */
export const PAUSE_CHECKPOINT = 'berth-pause';
/** Runtimes whose processes a pause to disk checkpoints (Docker's checkpoint API; engine with --experimental). */
const CHECKPOINT_RUNTIMES = new Set(['runsc']);

/** The pause image of a sandbox, as a `repo:tag` reference. */
export function pauseImageOf(sandboxID: string): string {
  return `${PAUSE_REPO}:${sandboxID}`;
}

export interface PauseToDiskDeps {
  docker: Docker;
  logger: Logger;
  hostName: string;
  network: Pick<SandboxNetwork, 'detach'>;
  /** Creates (or adopts) and starts the container, and installs its network rules: provisioning's own path. */
  provision: (req: ProvisionRequest) => Promise<ProvisionResult>;
}

export function createPauseToDiskActivities({ docker, logger, hostName, network, provision }: PauseToDiskDeps) {
  function gone(sandboxID: string, what: string): ApplicationFailure {
    return ApplicationFailure.create({ type: FailureType.containerGone, message: `sandbox ${sandboxID}: ${what} on host ${hostName}`, nonRetryable: true });
  }

  async function inspectImage(ref: string): Promise<Docker.ImageInspectInfo | null> {
    try {
      return await docker.getImage(ref).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) return null;
      throw err;
    }
  }

  async function inspectContainer(sandboxID: string): Promise<Docker.ContainerInspectInfo | null> {
    try {
      return await docker.getContainer(sandboxID).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) return null;
      throw err;
    }
  }

  /** Commits the running container to its pause image, then removes the container and its rules. */
  async function pauseToDisk(req: PauseToDiskRequest): Promise<PauseToDiskResult> {
    const log = logger.child({ sandboxID: req.sandboxID, activity: 'pauseToDisk' });
    const image = pauseImageOf(req.sandboxID);
    const container = await inspectContainer(req.sandboxID);
    if (!container) {
      // A retry after the container was removed: the image it left is the pause.
      const existing = await inspectImage(image);
      if (!existing) throw gone(req.sandboxID, 'the container no longer exists and no pause image was made');
      await network.detach(req.sandboxID);
      return { image, sizeBytes: existing.Size };
    }
    // A claimed warm-pool container is its sandbox by name (its labels are the pool's).
    if (sandboxIdOfContainer({ Name: container.Name, Labels: container.Config.Labels }) !== req.sandboxID) {
      throw ApplicationFailure.create({ message: `a container named ${req.sandboxID} exists but is not berth's`, nonRetryable: true });
    }
    if (CHECKPOINT_RUNTIMES.has(container.HostConfig.Runtime ?? '')) return checkpoint(req.sandboxID, container, log);
    if (!container.State.Running) throw gone(req.sandboxID, `the container has exited (${container.State.Status})`);
    // `pause: true` freezes the processes while the file system is copied, so it is consistent.
    // Labels set here are kept by the image (and inherited by containers made from it).
    // A claimed pool container's pool labels are blanked: the container made from the image is the sandbox's own.
    const labels = { [KIND_LABEL]: PAUSE_KIND, [LABELS.sandbox]: req.sandboxID, [LABELS.owner]: req.owner, [LABELS.managed]: 'true', [POOL_LABELS.pool]: '', [POOL_LABELS.instance]: '' };
    const changes = Object.entries(labels).map(([key, value]) => `LABEL ${key}=${JSON.stringify(value)}`);
    try {
      // `_query` (and an empty `_body`) keeps dockerode from also sending the options as the commit's config.
      await docker.getContainer(req.sandboxID).commit({
        _query: { container: req.sandboxID, repo: PAUSE_REPO, tag: req.sandboxID, pause: true, changes, comment: `berth pause of sandbox ${req.sandboxID}` },
        _body: {},
      });
    } catch (err) {
      if (dockerStatus(err) === 404) throw gone(req.sandboxID, 'the container disappeared while it was being committed');
      throw new Error(`docker commit failed: ${dockerMessage(err)}`);
    }
    const committed = await inspectImage(image);
    if (!committed) throw new Error(`docker commit of sandbox ${req.sandboxID} answered but ${image} does not exist; retrying`);
    log.info({ image, sizeBytes: committed.Size }, 'container committed to its pause image');
    try {
      // Named volumes stay (they are the user's); the container's own layer is in the image now.
      await docker.getContainer(req.sandboxID).remove({ force: true });
    } catch (err) {
      if (dockerStatus(err) !== 404) throw err;
    }
    await network.detach(req.sandboxID);
    log.info('container removed: paused to disk');
    return { image, sizeBytes: committed.Size };
  }

  /**
   * gVisor: `runsc checkpoint` writes the processes' memory to the container's folder and the
   * container exits, holding no memory or CPU; its writable layer stays. A retry finds the
   * checkpoint already there.
   */
  async function checkpoint(sandboxID: string, container: Docker.ContainerInspectInfo, log: Logger): Promise<PauseToDiskResult> {
    const handle = docker.getContainer(sandboxID);
    if (!container.State.Running) {
      if (await hasCheckpoint(handle, PAUSE_CHECKPOINT)) return { image: `checkpoint:${PAUSE_CHECKPOINT}`, sizeBytes: 0 };
      throw gone(sandboxID, `the container has exited (${container.State.Status})`);
    }
    try {
      await createCheckpoint(handle, PAUSE_CHECKPOINT);
    } catch (err) {
      throw new Error(`docker checkpoint create failed (the engine needs --experimental and runsc): ${dockerMessage(err)}`);
    }
    log.info('processes checkpointed (runsc): paused to disk');
    return { image: `checkpoint:${PAUSE_CHECKPOINT}`, sizeBytes: 0 };
  }

  /** gVisor: starts the stopped container from its checkpoint (processes go on), then drops the checkpoint. */
  async function restore(sandboxID: string, container: Docker.ContainerInspectInfo): Promise<ProvisionResult> {
    const handle = docker.getContainer(sandboxID);
    if (!container.State.Running) {
      if (!(await hasCheckpoint(handle, PAUSE_CHECKPOINT))) throw gone(sandboxID, 'its checkpoint no longer exists');
      try {
        await startFromCheckpoint(handle, PAUSE_CHECKPOINT);
      } catch (err) {
        throw new Error(`docker start --checkpoint failed: ${dockerMessage(err)}`);
      }
    }
    // A retry after the start finds it running; the checkpoint may be gone already.
    await deleteCheckpoint(handle, PAUSE_CHECKPOINT).catch((err: unknown) => {
      if (dockerStatus(err) !== 404) logger.warn({ sandboxID, err: dockerMessage(err) }, 'could not delete the pause checkpoint');
    });
    logger.info({ sandboxID }, 'container restored from its checkpoint (runsc)');
    return { containerID: container.Id, host: hostName };
  }

  /**
   * Recreates the container from the pause image with the sandbox's spec, starts it and installs
   * its rules (provisioning's path, which adopts a container an earlier attempt made), then
   * untags the pause image. The image's layers stay while the container uses them; they are
   * deleted with the sandbox ({@link removePauseImages}).
   */
  async function resumeFromDisk(req: ProvisionRequest): Promise<ProvisionResult> {
    const log = logger.child({ sandboxID: req.sandboxID, activity: 'resumeFromDisk' });
    const image = pauseImageOf(req.sandboxID);
    const [existingImage, existingContainer] = await Promise.all([inspectImage(image), inspectContainer(req.sandboxID)]);
    if (existingContainer && CHECKPOINT_RUNTIMES.has(existingContainer.HostConfig.Runtime ?? '')) return restore(req.sandboxID, existingContainer);
    if (!existingImage) {
      // An earlier attempt recreated the container and untagged the image: adopt it.
      if (existingContainer?.State.Running && existingContainer.Config.Labels?.[LABELS.sandbox] === req.sandboxID) {
        return { containerID: existingContainer.Id, host: hostName };
      }
      throw gone(req.sandboxID, `its pause image ${image} no longer exists`);
    }
    const result = await provision({ ...req, image });
    try {
      // By tag and forced: the container uses the image, so the engine only untags it (no error).
      await docker.getImage(image).remove({ force: true, noprune: true });
    } catch (err) {
      if (dockerStatus(err) !== 404) throw err;
    }
    log.info('container recreated from its pause image');
    return result;
  }

  /**
   * Deletes every pause image of the sandbox (tagged or untagged), newest first: after a kill,
   * an expiry or when its container is gone. An image still used by a container (or by another
   * image, e.g. a user's snapshot) is left to it. `listed`: a listing made earlier in the same
   * destroy ({@link listPauseImages}, read while the container was being removed).
   */
  async function removePauseImages(ref: ContainerRef, listed?: Docker.ImageInfo[]): Promise<number> {
    const images = listed ?? (await listPauseImages(ref));
    let removed = 0;
    for (const image of images.sort((a, b) => b.Created - a.Created)) {
      // A container resumed from disk inherits the pause labels, and so does a user's snapshot of
      // it: that image is the user's (it outlives the sandbox), never a pause image.
      if (image.Labels?.[SNAPSHOT_LABELS.id] || (image.RepoTags ?? []).some((t) => t !== '<none>:<none>' && !t.startsWith(`${PAUSE_REPO}:`))) continue;
      try {
        await docker.getImage(image.Id).remove({ force: true });
        removed++;
      } catch (err) {
        const status = dockerStatus(err);
        if (status !== 404 && status !== 409) throw err;
      }
    }
    if (removed) logger.info({ sandboxID: ref.sandboxID, removed }, 'pause images removed');
    return removed;
  }

  /** The sandbox's pause images (tagged or untagged) as the engine lists them. */
  function listPauseImages(ref: ContainerRef): Promise<Docker.ImageInfo[]> {
    return docker.listImages({ all: true, filters: JSON.stringify({ label: [`${KIND_LABEL}=${PAUSE_KIND}`, `${LABELS.sandbox}=${ref.sandboxID}`] }) });
  }

  return {
    pauseToDisk: (req: PauseToDiskRequest) => withHeartbeat(() => pauseToDisk(req)),
    resumeFromDisk: (req: ProvisionRequest) => withHeartbeat(() => resumeFromDisk(req)),
    removePauseImages,
    listPauseImages,
  };
}
