/**
 * The `snapshotSandbox` activity: commits a sandbox's filesystem to a local image
 * (`berth-snapshot/<snapshotID>`), labelled with its record. A running container is frozen for
 * the commit (Docker's commit `pause`, thawed afterwards whatever happens); a paused one is
 * committed as it is. The sandbox's env vars (its secrets) are blanked in the image. Idempotent:
 * a retry finds the image an earlier attempt made.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { dockerMessage, dockerStatus } from '../docker/errors.js';
import { SNAPSHOT_LABELS, snapshotImage, snapshotRepo } from '../docker/snapshot-labels.js';
import { FailureType, SNAPSHOT_ID_PATTERN, type SnapshotKind, type SnapshotSandboxRequest, type SnapshotTaken } from '../workflows/definitions.js';
import { withHeartbeat } from './heartbeat.js';

export interface SnapshotActivityDeps {
  docker: Docker;
  logger: Logger;
  config: { hostName: string };
}

/** One `LABEL` instruction of the commit's `changes` (the value JSON-quoted). */
function labelChange(key: string, value: string): string {
  return `LABEL ${key}=${JSON.stringify(value)}`;
}

/**
 * The template a boot from the snapshot takes its defaults from: the sandbox's own, or, for a
 * sandbox booted from another snapshot (its templateID is that snapshot's ID), the template that
 * snapshot came from (its image's label, which the container inherits).
 */
function sourceTemplate(templateID: string, container: Docker.ContainerInspectInfo): string {
  if (!SNAPSHOT_ID_PATTERN.test(templateID)) return templateID;
  return container.Config.Labels?.[SNAPSHOT_LABELS.template] ?? templateID;
}

export function createSnapshotActivities({ docker, logger, config }: SnapshotActivityDeps) {
  async function imageOrNull(ref: string): Promise<Docker.ImageInspectInfo | null> {
    try {
      return await docker.getImage(ref).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) return null;
      throw err;
    }
  }

  function taken(req: SnapshotSandboxRequest, image: Docker.ImageInspectInfo): SnapshotTaken {
    const labels = image.Config.Labels ?? {};
    return {
      snapshotID: req.snapshotID,
      sandboxID: req.sandboxID,
      kind: (labels[SNAPSHOT_LABELS.kind] as SnapshotKind | undefined) ?? req.kind,
      imageID: image.Id,
      sizeBytes: image.Size,
      createdAt: labels[SNAPSHOT_LABELS.createdAt] ?? image.Created,
    };
  }

  function gone(sandboxID: string, what: string): ApplicationFailure {
    return ApplicationFailure.create({
      type: FailureType.containerGone,
      message: `container of sandbox ${sandboxID} ${what} on host ${config.hostName}`,
      nonRetryable: true,
    });
  }

  async function snapshot(req: SnapshotSandboxRequest): Promise<SnapshotTaken> {
    const log = logger.child({ sandboxID: req.sandboxID, snapshotID: req.snapshotID, activity: 'snapshotSandbox' });
    const earlier = await imageOrNull(snapshotImage(req.snapshotID));
    if (earlier) {
      if (earlier.Config.Labels?.[SNAPSHOT_LABELS.id] !== req.snapshotID) {
        throw ApplicationFailure.create({ message: `an image named ${snapshotImage(req.snapshotID)} exists but is not this snapshot`, nonRetryable: true });
      }
      log.info('adopted the image of an earlier attempt');
      return taken(req, earlier);
    }
    let container: Docker.ContainerInspectInfo;
    try {
      container = await docker.getContainer(req.sandboxID).inspect();
    } catch (err) {
      if (dockerStatus(err) === 404) throw gone(req.sandboxID, 'no longer exists');
      throw err;
    }
    if (!container.State.Running) throw gone(req.sandboxID, `has exited (${container.State.Status})`);
    const createdAt = new Date().toISOString();
    // A commit copies the container's env into the image: blank the values of the sandbox's own
    // env vars (the ones its image does not set), so secrets never outlive the sandbox in an image.
    const imageEnv = new Set((await docker.getImage(container.Image).inspect()).Config.Env ?? []);
    const ownEnvNames = (container.Config.Env ?? []).filter((e) => !imageEnv.has(e)).map((e) => e.slice(0, e.indexOf('=')));
    const changes = [
      ...ownEnvNames.filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)).map((name) => `ENV ${name}=""`),
      labelChange(SNAPSHOT_LABELS.id, req.snapshotID),
      labelChange(SNAPSHOT_LABELS.owner, req.owner),
      labelChange(SNAPSHOT_LABELS.sandbox, req.sandboxID),
      labelChange(SNAPSHOT_LABELS.template, sourceTemplate(req.templateID, container)),
      labelChange(SNAPSHOT_LABELS.kind, req.kind),
      labelChange(SNAPSHOT_LABELS.createdAt, createdAt),
      labelChange(SNAPSHOT_LABELS.host, config.hostName),
    ];
    const started = Date.now();
    try {
      // `_query` keeps dockerode from also sending the options as the commit's config body.
      await docker.getContainer(req.sandboxID).commit({
        _query: { container: req.sandboxID, repo: snapshotRepo(req.snapshotID), tag: 'latest', pause: !container.State.Paused, changes },
        _body: {},
      });
    } catch (err) {
      if (dockerStatus(err) === 404) throw gone(req.sandboxID, 'no longer exists');
      throw new Error(`docker commit failed: ${dockerMessage(err)}`);
    }
    const image = await imageOrNull(snapshotImage(req.snapshotID));
    if (!image) throw new Error(`docker commit reported success but ${snapshotImage(req.snapshotID)} is missing; retrying`);
    log.info({ sizeBytes: image.Size, commitMs: Date.now() - started, paused: container.State.Paused }, 'snapshot committed');
    return taken(req, image);
  }

  return {
    /** Commits the sandbox's filesystem to `berth-snapshot/<snapshotID>` (heartbeats while Docker works). */
    snapshotSandbox: (req: SnapshotSandboxRequest) => withHeartbeat(() => snapshot(req)),
  };
}

export type SnapshotActivities = ReturnType<typeof createSnapshotActivities>;
