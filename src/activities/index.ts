import { ApplicationFailure } from '@temporalio/activity';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { createSandboxNetwork, type NetworkConfig, type SandboxNetwork } from '../network/sandbox-network.js';
import { openJson } from '../secrets.js';
import {
  FailureType,
  type ContainerCheck,
  type ContainerRef,
  type PauseMode,
  type ProvisionRequest,
  type ProvisionResult,
} from '../workflows/definitions.js';
import { containerSpec } from './container-spec.js';
import { LABELS } from '../docker/labels.js';
import { dockerFailure, dockerMessage, dockerStatus } from '../docker/errors.js';
import { freezeContainer, thawContainer, type FreezeOutcome } from './freeze.js';
import { withHeartbeat } from './heartbeat.js';
import { prepareAgentDir, removeAgentDir } from './agent-dir.js';
import { applyResources, claimFromPool, resourcesOf } from './claim.js';
import { isPoolOrigin } from '../docker/pool-labels.js';
import type { WarmPool } from '../pool/warm-pool.js';
import { createSnapshotActivities } from './snapshot.js';
import { createPauseToDiskActivities } from './pause-to-disk.js';

/** What the activities need from the outside world. */
export interface ActivityDeps {
  docker: Docker;
  logger: Logger;
  config: {
    hostName: string;
    secretKeyHex: string;
    limits: { pidsLimit: number };
    network: NetworkConfig;
    /** berth's in-sandbox agent (docs/agent.md); absent: none. */
    agent?: { binaryPath: string | null; dir: string };
  };
  /** berth's sandbox network on this host; built from config.network when not given. */
  network?: SandboxNetwork;
  /** The task queue this worker serves; labelled on containers so the reconciler sweeps only its own. */
  taskQueue?: string;
  /** This worker's warm pool (src/pool/warm-pool.ts); absent: every create makes its container. */
  pool?: WarmPool;
}

/**
 * Builds the sandbox activities. Each is idempotent (the container name is the sandbox ID),
 * so Temporal's retries and worker crashes never make two containers or lose one.
 */
export function createActivities({ docker, logger, config, taskQueue, network: givenNetwork, pool }: ActivityDeps) {
  const network = givenNetwork ?? createSandboxNetwork({ docker, config: config.network, logger });

  async function inspectOrNull(sandboxID: string, size = false): Promise<Docker.ContainerInspectInfo | null> {
    try {
      // `size` is a query parameter of Docker's inspect (SizeRw, SizeRootFs) that dockerode's types omit.
      return await docker.getContainer(sandboxID).inspect((size ? { size: true } : {}) as Docker.ContainerInspectOptions);
    } catch (err) {
      if (dockerStatus(err) === 404) return null;
      throw err;
    }
  }

  function requireHost(onHost: string | undefined): void {
    if (onHost === undefined || onHost === config.hostName) return;
    throw ApplicationFailure.create({
      type: FailureType.wrongHost,
      message: `this worker serves host ${config.hostName}, not ${onHost}`,
      nonRetryable: true,
    });
  }

  function containerGone(sandboxID: string, what = 'no longer exists'): ApplicationFailure {
    return ApplicationFailure.create({
      type: FailureType.containerGone,
      message: `container of sandbox ${sandboxID} ${what} on host ${config.hostName}`,
      nonRetryable: true,
    });
  }

  // A resume from disk makes the container from its pause image: never from the warm pool.
  const disk = createPauseToDiskActivities({ docker, logger, hostName: config.hostName, network, provision: (req) => provision(req, false) });

  return {
    /** Creates and starts the sandbox's container (or adopts the one a previous attempt made). */
    provisionSandbox: (req: ProvisionRequest) => withHeartbeat(() => provision(req)),
    // `onHost` (local pause / resume): refuse on another host's worker, before touching Docker.
    pauseSandbox: (ref: ContainerRef & { mode: PauseMode; onHost?: string }) => withHeartbeat(() => (requireHost(ref.onHost), pause(ref))),
    resumeSandbox: (ref: ContainerRef & { onHost?: string }) => withHeartbeat(() => (requireHost(ref.onHost), resume(ref))),
    // Local pause / resume of a sandbox placed on a host (patch 'local-pause-resume-on-host'):
    // registered on the shared queue's worker too, so the host is required, never assumed.
    pauseSandboxOnHost: (ref: ContainerRef & { onHost: string }) => withHeartbeat(() => (requireHost(String(ref.onHost)), pause({ ...ref, mode: 'freeze' }))),
    resumeSandboxOnHost: (ref: ContainerRef & { onHost: string }) => withHeartbeat(() => (requireHost(String(ref.onHost)), resume(ref))),
    destroySandbox: (ref: ContainerRef) => withHeartbeat(() => destroy(ref)),

    // Heartbeats too: measuring the writable layer (`measureDisk`) of a big sandbox takes a while.
    inspectSandbox: (ref: ContainerRef & { measureDisk?: boolean }) => withHeartbeat(() => inspect(ref)),
    // Pause to disk (src/activities/pause-to-disk.ts).
    pauseToDisk: disk.pauseToDisk,
    resumeFromDisk: disk.resumeFromDisk,

    ...createSnapshotActivities({ docker, logger, config }),
  };

  /** What the sandbox's container is doing now: the workflow's check before it declares it lost. */
  async function inspect(ref: ContainerRef & { measureDisk?: boolean }): Promise<ContainerCheck> {
    const current = await inspectOrNull(ref.sandboxID, ref.measureDisk);
    if (!current) return { state: 'missing', detail: `container no longer exists on host ${config.hostName}` };
    const { SizeRw } = current as { SizeRw?: unknown };
    const size = typeof SizeRw === 'number' ? { sizeRwBytes: SizeRw } : {};
    if (current.State.Paused) return { state: 'paused', detail: 'container is paused', ...size };
    if (current.State.Running) return { state: 'running', detail: 'container is running', ...size };
    const oom = current.State.OOMKilled ? ', killed for memory' : '';
    return { state: 'exited', detail: `container has exited on host ${config.hostName} (${current.State.Status}, exit code ${current.State.ExitCode}${oom})` };
  }

  /** Creates and starts the sandbox's container (or adopts the one a previous attempt made). */
  async function provision(req: ProvisionRequest, usePool = true): Promise<ProvisionResult> {
    const log = logger.child({ sandboxID: req.sandboxID, activity: 'provisionSandbox' });
    if (pool && usePool) {
      const claimed = await claimFromPool({ docker, pool, network, logger: log }, req);
      if (claimed) return { containerID: claimed.containerID, host: config.hostName };
    }
    const envs = req.sealedEnvs ? openJson<Record<string, string>>(req.sealedEnvs, config.secretKeyHex) : {};
    let containerID: string | undefined;
    let running = false;
    await network.prepare();
    const agent = config.agent ? await prepareAgentDir({ secretKeyHex: config.secretKeyHex, agent: config.agent }, req.sandboxID) : undefined;
    const spec = containerSpec(req, {
      agent,
      pidsLimit: config.limits.pidsLimit,
      envs,
      networkName: network.name,
      blockedCidrs: config.network.blockedCidrs,
      dnsServers: config.network.dnsServers,
      host: config.hostName,
      taskQueue,
    });
    try {
      // Fast path: create straight away (no inspect first); a 409 means an earlier attempt made it.
      containerID = (await docker.createContainer(spec)).id;
      log.info({ image: req.image }, 'container created');
    } catch (err) {
      const status = dockerStatus(err);
      if (status === 404) {
        throw ApplicationFailure.create({
          type: FailureType.imageNotFound,
          message: `image ${req.image} is not on host ${config.hostName}: ${dockerMessage(err)}. Build it (npm run setup) or map the template to an image that exists.`,
          nonRetryable: true,
        });
      }
      if (status === 400 && req.runtime && /runtime/i.test(dockerMessage(err))) {
        throw ApplicationFailure.create({
          message: `runtime ${req.runtime} is not registered on host ${config.hostName} (${dockerMessage(err)}): register gVisor's runsc on that engine (docs/pause.md) or use another template`,
          nonRetryable: true,
        });
      }
      if (status !== 409) throw new Error(`docker create failed: ${dockerMessage(err)}`);
      // The engine reserves the name before the concurrent create is visible: wait for it.
      let existing = await inspectOrNull(req.sandboxID);
      for (let attempt = 0; !existing && attempt < 40; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        existing = await inspectOrNull(req.sandboxID);
      }
      if (!existing) throw new Error(`container ${req.sandboxID} conflicted on create but does not exist; retrying`);
      // Made for this sandbox, or a pool container of this host and queue that an earlier attempt claimed.
      const claimedEarlier = isPoolOrigin({ Labels: existing.Config.Labels }) && existing.Config.Labels?.[LABELS.host] === config.hostName && existing.Config.Labels?.[LABELS.queue] === taskQueue;
      if (existing.Config.Labels?.[LABELS.sandbox] !== req.sandboxID && !claimedEarlier) {
        throw ApplicationFailure.create({ message: `a container named ${req.sandboxID} exists but is not berth's`, nonRetryable: true });
      }
      containerID = existing.Id;
      running = existing.State.Running;
      log.info('adopted the container of an earlier attempt');
    }
    if (!running) {
      // The packet filter is read while the container starts: only the restore remains after it.
      if (!req.runtime) network.prefetchRules();
      try {
        await docker.getContainer(containerID).start();
      } catch (err) {
        if (dockerStatus(err) !== 304) throw new Error(`docker start failed: ${dockerMessage(err)}`);
      }
      log.info('container started');
    }
    if (req.runtime) return { containerID, host: config.hostName }; // no network: no rules to install
    // Its traffic is denied (no chain yet) until its rules are in; only then does it answer as running.
    const started = await docker.getContainer(containerID).inspect();
    if (isPoolOrigin({ Labels: started.Config.Labels })) await applyResources(docker, containerID, resourcesOf(started), req.resources);
    await network.attach(req.sandboxID, { labels: started.Config.Labels, ip: started.NetworkSettings.Networks?.[network.name]?.IPAddress });
    log.info('network rules installed');
    return { containerID, host: config.hostName };
  }

  /** Freezes every process of the sandbox; its filesystem and memory are kept. */
  async function pause(ref: ContainerRef & { mode: PauseMode }): Promise<void> {
    goneUnlessDone(ref.sandboxID, await freezeContainer(docker, ref.sandboxID));
    logger.info({ sandboxID: ref.sandboxID, mode: ref.mode }, 'container paused');
  }

  function goneUnlessDone(sandboxID: string, outcome: FreezeOutcome): void {
    if (outcome.kind === 'missing') throw containerGone(sandboxID);
    if (outcome.kind === 'exited') throw containerGone(sandboxID, `has exited (${outcome.status})`);
  }

  /** Thaws a paused sandbox. */
  async function resume(ref: ContainerRef): Promise<void> {
    goneUnlessDone(ref.sandboxID, await thawContainer(docker, ref.sandboxID));
    logger.info({ sandboxID: ref.sandboxID }, 'container resumed');
  }

  /** Removes the container and its data. Succeeds when it is already gone. */
  async function destroy(ref: ContainerRef): Promise<void> {
    // Read while the engine removes the container: the packet filter, and any pause images.
    network.prefetchRules();
    const pauseImages = disk.listPauseImages(ref);
    // Settled here, so a failed listing is not an unhandled rejection while the remove runs.
    pauseImages.catch(() => undefined);
    try {
      await docker.getContainer(ref.sandboxID).remove({ force: true, v: true });
      logger.info({ sandboxID: ref.sandboxID }, 'container removed');
    } catch (err) {
      const status = dockerStatus(err);
      // 404: already gone; 409 "already in progress": another call is removing it. Either way
      // its rules go too (an address without a chain is denied everything meanwhile).
      const removing = dockerFailure(err) === 'removal-in-progress';
      if (status !== 404 && !removing) throw err;
    }
    // After the container: its address is gone before its rules are.
    await Promise.all([network.detach(ref.sandboxID), config.agent ? removeAgentDir({ agent: config.agent }, ref.sandboxID) : undefined]);
    // A sandbox paused to disk (now, or before a resume) leaves pause images: they go with it.
    await disk.removePauseImages(ref, await pauseImages);
  }
}

/** The activity surface the workflow proxies. */
export type SandboxActivities = ReturnType<typeof createActivities>;
