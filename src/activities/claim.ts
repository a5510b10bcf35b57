/**
 * Provisioning from the warm pool: a create takes a ready container of its template, renames it
 * to the sandbox ID (the claim: from then on it is the sandbox's and never goes back), sets its
 * CPU and memory when the create asked for others than the pool's, and installs the sandbox's
 * packet-filter rules. Create-time env vars are not in a claimed container's environment (it was
 * started before the create): the data plane adds them to every exec (docs/warm-pool.md).
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { dockerMessage, dockerStatus } from '../docker/errors.js';
import { DEFAULT_NETWORK_POLICY } from '../network/policy.js';
import type { SandboxNetwork } from '../network/sandbox-network.js';
import type { WarmPool } from '../pool/warm-pool.js';
import { giveAgentToken, moveAgentDir, removeAgentDir, type AgentDirConfig } from './agent-dir.js';
import type { NetworkPolicy, ProvisionRequest, Resources } from '../workflows/definitions.js';

/**
 * Why a create cannot use the pool, or null when it can. Pool containers are made without
 * volumes and with the default egress policy, which the worker rebuilds from their labels after
 * a restart; a create that needs either made otherwise gets a container of its own.
 */
export function poolIneligibility(req: ProvisionRequest): string | null {
  if (req.volumes?.length) return 'volumes';
  if (req.runtime) return 'runtime'; // pool containers run on the engine's default runtime
  if (req.network && !samePolicy(req.network, DEFAULT_NETWORK_POLICY)) return 'network policy';
  return null;
}

function samePolicy(a: NetworkPolicy, b: NetworkPolicy): boolean {
  const same = (x: string[], y: string[]) => x.length === y.length && [...x].sort().every((v, i) => v === [...y].sort()[i]);
  return a.allowInternet === b.allowInternet && same(a.allowOut, b.allowOut) && same(a.denyOut, b.denyOut);
}

export interface ClaimDeps {
  docker: Docker;
  pool: WarmPool;
  network: SandboxNetwork;
  logger: Logger;
  /** berth's agent (docs/agent.md): the pool container's agent folder becomes the sandbox's at the claim. */
  agent?: AgentDirConfig;
}

/**
 * Claims a pool container for `req`; null when the pool has none for it (the caller creates one)
 * or when a container named after the sandbox already exists (an earlier attempt made or claimed
 * it) or the claimed one no longer runs: the caller's create then meets the name and adopts it.
 */
export async function claimFromPool({ docker, pool, network, logger, agent }: ClaimDeps, req: ProvisionRequest): Promise<{ containerID: string } | null> {
  if (pool.sizeOf(req.templateID) <= 0) return null;
  const why = poolIneligibility(req);
  if (why) {
    pool.bypass(req.templateID);
    logger.debug({ sandboxID: req.sandboxID, why }, 'warm pool not used');
    return null;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const entry = pool.take(req.templateID, req.image);
    if (!entry) return null;
    // The agent's folder first: renamed to the sandbox ID before the container is (a crash in
    // between leaves a pool container that the next sweep removes, and a folder the sandbox's own
    // create then reuses); moved back if the container does not become the sandbox's.
    const withAgent = agent ? await moveAgentDir(agent, entry.name, req.sandboxID) : false;
    try {
      await docker.getContainer(entry.id).rename({ name: req.sandboxID });
    } catch (err) {
      const status = dockerStatus(err);
      if (withAgent && agent) {
        if (status === 409) await moveAgentDir(agent, req.sandboxID, entry.name);
        else await removeAgentDir(agent, req.sandboxID);
      }
      if (status === 409) {
        pool.giveBack(entry);
        return null;
      }
      pool.claimed(entry);
      if (status === 404) continue; // removed under us: take another
      throw new Error(`docker rename of pool container ${entry.name} failed: ${dockerMessage(err)}`);
    }
    pool.claimed(entry);
    logger.info({ sandboxID: req.sandboxID, poolContainer: entry.name }, 'claimed a warm pool container');
    // Independent steps, side by side; the inspect confirms it still runs (it may have died since the last sweep).
    const [info] = await Promise.all([
      docker.getContainer(entry.id).inspect(),
      applyResources(docker, entry.id, entry.resources, req.resources),
      network.attach(req.sandboxID, { labels: entry.labels, ip: entry.ip }),
      // The agent took no token so far (it answered nobody): now the sandbox's.
      withAgent && agent ? giveAgentToken(agent, req.sandboxID) : undefined,
    ]);
    // Not running: the caller's create meets the name and adopts it (starts it, installs its rules for its new address).
    if (!info.State.Running || info.State.Paused) return null;
    return { containerID: entry.id };
  }
  return null;
}

/** Sets a claimed container's CPU and memory limits to the create's when they differ from what it has. */
export async function applyResources(docker: Docker, containerID: string, current: Resources, wanted: Resources): Promise<void> {
  if (current.cpu === wanted.cpu && current.memoryMB === wanted.memoryMB) return;
  const memoryBytes = Math.round(wanted.memoryMB * 1024 * 1024);
  try {
    await docker.getContainer(containerID).update({ Memory: memoryBytes, MemorySwap: memoryBytes, NanoCpus: Math.round(wanted.cpu * 1e9) });
  } catch (err) {
    throw new Error(`docker update of the claimed container's resources failed: ${dockerMessage(err)}`);
  }
}

/** A container's CPU and memory limits as inspected. */
export function resourcesOf(info: Docker.ContainerInspectInfo): Resources {
  return { cpu: (info.HostConfig.NanoCpus ?? 0) / 1e9, memoryMB: (info.HostConfig.Memory ?? 0) / (1024 * 1024) };
}
