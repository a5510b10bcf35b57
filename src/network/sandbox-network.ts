/**
 * berth's sandbox network on one Docker host: the Docker bridge network every sandbox joins
 * and the firewall that isolates it. The activities attach and detach sandboxes; the worker
 * prepares it and restores every live sandbox's rules at start-up, from Docker alone.
 */
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { dockerMessage, dockerStatus } from '../docker/errors.js';
import { SANDBOX_ID_PATTERN } from '../ids.js';
import { createFirewall, NO_FIREWALL, type Firewall } from './firewall.js';
import { cidrsFromLabel, NETWORK_LABELS, policyFromLabel } from './policy.js';
import { sandboxIdOfContainer } from '../docker/pool-labels.js';

export interface NetworkConfig {
  /** Docker network name, also the name of its Linux bridge (at most 15 characters). */
  name: string;
  subnet: string;
  /** Always denied to every sandbox, on top of link-local and berth's own subnet. */
  blockedCidrs: string[];
  /** false: sandboxes still get berth's network (inter-container traffic off) but no iptables rules. */
  enforce: boolean;
  dnsServers: string[] | undefined;
}

export interface SandboxNetwork {
  readonly name: string;
  /** Creates the Docker network and the shared chains when missing (once per process; retried after a failure). */
  prepare(): Promise<void>;
  /** Installs a started container's rules from its labels and its address on berth's network. */
  attach(sandboxID: string, container: { labels: Record<string, string> | undefined; ip: string | undefined }): Promise<void>;
  /** Removes a sandbox's rules. */
  detach(sandboxID: string): Promise<void>;
  /** Starts reading the packet filter for the next attach or detach (called while Docker works on the container). */
  prefetchRules(): void;
  /** Rebuilds the rules of every live berth container and drops chains of sandboxes that are gone. */
  restore(): Promise<{ restored: number; removed: number }>;
}

/** How long a refused network create waits for a concurrent creator's network to show up. */
const NETWORK_APPEAR_WAIT_MS = 10_000;

export interface SandboxNetworkDeps {
  docker: Docker;
  config: NetworkConfig;
  logger: Logger;
  firewall?: Firewall;
}

export function createSandboxNetwork({ docker, config, logger, firewall: given }: SandboxNetworkDeps): SandboxNetwork {
  const firewall =
    given ??
    (config.enforce ? createFirewall({ bridge: config.name, subnet: config.subnet, blockedCidrs: config.blockedCidrs, dnsServers: config.dnsServers }, logger) : NO_FIREWALL);
  let prepared: Promise<void> | undefined;

  async function inspectNetwork(): Promise<Docker.NetworkInspectInfo | null> {
    try {
      return (await docker.getNetwork(config.name).inspect()) as Docker.NetworkInspectInfo;
    } catch (err) {
      if (dockerStatus(err) === 404) return null;
      throw err;
    }
  }

  function check(info: Docker.NetworkInspectInfo): void {
    const subnets = (info.IPAM?.Config ?? []).map((c) => c.Subnet);
    if (!subnets.includes(config.subnet)) {
      throw new Error(
        `Docker network ${config.name} exists with subnet ${subnets.join(', ') || 'none'}, but BERTH_NETWORK_SUBNET is ${config.subnet}; ` +
          `set BERTH_NETWORK_SUBNET to match, or remove the network once no container uses it (docker network rm ${config.name})`,
      );
    }
    if (info.Options?.['com.docker.network.bridge.name'] !== config.name) {
      throw new Error(`Docker network ${config.name} exists but its bridge is not named ${config.name}; remove it (docker network rm ${config.name}) so berth recreates it`);
    }
  }

  async function ensureDockerNetwork(): Promise<void> {
    const existing = await inspectNetwork();
    if (existing) return check(existing);
    try {
      await docker.createNetwork({
        Name: config.name,
        CheckDuplicate: true,
        Driver: 'bridge',
        IPAM: { Driver: 'default', Config: [{ Subnet: config.subnet }] },
        Options: {
          'com.docker.network.bridge.name': config.name,
          // Docker's own drop between containers of this bridge; berth's chains drop it too.
          'com.docker.network.bridge.enable_icc': 'false',
          'com.docker.network.bridge.enable_ip_masquerade': 'true',
        },
        Labels: { 'berth.managed': 'true' },
      });
      logger.info({ network: config.name, subnet: config.subnet }, 'created the sandbox network');
    } catch (err) {
      // Another worker on this host may be creating it at the same moment: the engine then refuses
      // ours ("Pool overlaps", 403) before the other one's is visible by name. Wait for it a while.
      const again = await networkAppearing();
      if (!again) throw new Error(`could not create Docker network ${config.name} (${config.subnet}): ${dockerMessage(err)}`);
      check(again);
    }
  }

  async function networkAppearing(): Promise<Docker.NetworkInspectInfo | null> {
    const deadline = Date.now() + NETWORK_APPEAR_WAIT_MS;
    for (;;) {
      const found = await inspectNetwork();
      if (found || Date.now() >= deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function prepare(): Promise<void> {
    prepared ??= (async () => {
      await ensureDockerNetwork();
      await firewall.prepare();
    })().catch((err: unknown) => {
      prepared = undefined;
      throw err;
    });
    return prepared;
  }

  async function attach(sandboxID: string, container: { labels: Record<string, string> | undefined; ip: string | undefined }): Promise<void> {
    if (!container.ip) throw new Error(`sandbox ${sandboxID} has no address on network ${config.name}`);
    await prepare();
    const labels = container.labels ?? {};
    await firewall.install(sandboxID, container.ip, policyFromLabel(labels[NETWORK_LABELS.policy]), {
      blocked: cidrsFromLabel(labels[NETWORK_LABELS.blocked]),
      dnsServers: cidrsFromLabel(labels[NETWORK_LABELS.dns]),
    });
  }

  /** berth's containers on this network (running or paused). */
  function sandboxContainers(): Promise<Docker.ContainerInfo[]> {
    return docker.listContainers({ filters: { label: ['berth.managed=true'], network: [config.name] } });
  }

  return {
    name: config.name,
    prepare,
    attach,
    async detach(sandboxID) {
      await firewall.remove(sandboxID);
    },
    prefetchRules() {
      firewall.prefetch();
    },
    async restore() {
      await prepare();
      // Chains first, containers second: a chain made meanwhile belongs to a container the listing includes.
      const withRules = await firewall.sandboxesWithRules();
      const containers = await sandboxContainers();
      const attached = new Set<string>();
      for (const c of containers) {
        // Unclaimed warm-pool containers have no rules (all their traffic is dropped) until a claim.
        const sandboxID = sandboxIdOfContainer(c);
        const ip = c.NetworkSettings?.Networks?.[config.name]?.IPAddress;
        // Only berth sandboxes (a container labelled by something else, e.g. a benchmark's raw container, has no chain to restore).
        if (!sandboxID || !ip || !SANDBOX_ID_PATTERN.test(sandboxID)) continue;
        attached.add(sandboxID);
        await attach(sandboxID, { labels: c.Labels, ip });
      }
      // A container another worker removed (and detached) after the listing must not keep the
      // chain this pass just made for it (its address may go to the next sandbox): one more
      // listing tells which are still there.
      const stillThere = new Set((await sandboxContainers()).map((c) => sandboxIdOfContainer(c)));
      const live = new Set([...attached].filter((id) => stillThere.has(id)));
      const gone = [...new Set([...withRules, ...attached])].filter((id) => !live.has(id));
      for (const id of gone) await firewall.remove(id);
      logger.info({ network: config.name, restored: live.size, removed: gone.length, enforce: config.enforce }, 'sandbox network rules restored');
      return { restored: live.size, removed: gone.length };
    },
  };
}
