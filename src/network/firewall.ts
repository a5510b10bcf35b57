/**
 * berth's packet filter on one host: the shared chains and hooks, and one chain per sandbox.
 * Every operation is idempotent (a retried activity or a second worker start changes nothing).
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { NetworkPolicy } from '../workflows/definitions.js';
import { cidrContains, normalizeCidr } from './cidr.js';
import { createIptables, type Iptables } from './iptables.js';
import {
  CHAINS,
  EGRESS_DEFAULT,
  fixedChainsScript,
  hooks,
  parseEgressJumps,
  parseSandboxChains,
  sandboxChain,
  sandboxJump,
  sandboxRemoveScript,
  sandboxRestoreScript,
  sandboxRules,
} from './rules.js';

export interface FirewallConfig {
  /** Linux bridge of berth's network (same as the Docker network name). */
  bridge: string;
  subnet: string;
  blockedCidrs: string[];
  /** Resolvers Docker's embedded DNS forwards to; undefined: read /etc/resolv.conf. */
  dnsServers: string[] | undefined;
}

export interface Firewall {
  /** Shared chains and hooks; checks that bridged traffic passes iptables (br_netfilter). */
  prepare(): Promise<void>;
  /**
   * Installs (or replaces) a sandbox's chain and its jump from BERTH-EGRESS. `recorded`: the
   * blocked ranges and DNS servers recorded on its container, added to this worker's own.
   */
  install(sandboxID: string, ip: string, policy: NetworkPolicy, recorded: { blocked: string[]; dnsServers: string[] }): Promise<void>;
  /** Removes a sandbox's jump and chain; succeeds when they are already gone. */
  remove(sandboxID: string): Promise<void>;
  /** Sandbox IDs that have a chain on this host. */
  sandboxesWithRules(): Promise<string[]>;
}

const BRIDGE_NF = '/proc/sys/net/bridge/bridge-nf-call-iptables';

export function createFirewall(config: FirewallConfig, logger: Logger, iptables: Iptables = createIptables()): Firewall {
  let dnsServers: Promise<string[]> | undefined;
  /** Changes from this process run one at a time: two installs of one sandbox must not both add its jump. */
  let queue: Promise<unknown> = Promise.resolve();
  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const result = queue.then(work, work);
    queue = result.catch(() => undefined);
    return result;
  }

  async function ensureBridgeNetfilter(): Promise<void> {
    let value = await readFile(BRIDGE_NF, 'utf8').catch(() => null);
    if (value === null) {
      await new Promise<void>((resolve) => execFile('modprobe', ['br_netfilter'], () => resolve()));
      value = await readFile(BRIDGE_NF, 'utf8').catch(() => null);
    }
    if (value === null) {
      throw new Error(
        'br_netfilter is not available (no /proc/sys/net/bridge): traffic between sandboxes on one bridge would bypass iptables. ' +
          'Load it (modprobe br_netfilter) or set BERTH_NETWORK_ENFORCE=false on a host that cannot enforce network policy.',
      );
    }
    if (value.trim() !== '1') {
      await writeFile(BRIDGE_NF, '1');
      logger.warn('enabled net.bridge.bridge-nf-call-iptables so that traffic between sandboxes is filtered');
    }
  }

  async function readDnsServers(): Promise<string[]> {
    if (config.dnsServers) return config.dnsServers;
    const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    return text
      .split('\n')
      .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1])
      .flatMap((server) => {
        const cidr = server ? normalizeCidr(server) : null;
        // Docker's resolver skips loopback resolvers (it uses public ones then, which the internet rule covers).
        return cidr && !cidr.startsWith('127.') ? [cidr] : [];
      });
  }

  async function egressJumps() {
    return parseEgressJumps(await iptables.run(['-S', CHAINS.egress]));
  }

  return {
    prepare: () => serialized(async () => {
      try {
        await iptables.run(['-S', 'INPUT']);
      } catch (err) {
        throw new Error(
          `network enforcement needs iptables and root (CAP_NET_ADMIN in the host's network namespace) on the worker: ${(err as Error).message}. ` +
            'Run the worker on the Docker host as root, or set BERTH_NETWORK_ENFORCE=false to run without network policy (see docs/security.md).',
        );
      }
      await ensureBridgeNetfilter();
      for (const chain of Object.values(CHAINS)) await iptables.attempt(['-N', chain]);
      await iptables.restore(fixedChainsScript());
      const egress = (await iptables.run(['-S', CHAINS.egress])).trim().split('\n');
      if (egress.at(-1) !== ['-A', CHAINS.egress, ...EGRESS_DEFAULT].join(' ')) await iptables.run(['-A', CHAINS.egress, ...EGRESS_DEFAULT]);
      for (const hook of hooks(config.bridge)) {
        const line = ['-A', hook.chain, ...hook.rule].join(' ');
        const count = (await iptables.run(['-S', hook.chain])).split('\n').filter((l) => l.trim() === line).length;
        if (count === 0) await iptables.run(['-I', hook.chain, '1', ...hook.rule]);
        // Two workers starting at the same moment may both have inserted it: keep one.
        for (let extra = count; extra > 1; extra--) await iptables.run(['-D', hook.chain, ...hook.rule]);
      }
    }),

    install: (sandboxID, ip, policy, recorded) => serialized(async () => {
      dnsServers ??= readDnsServers();
      const rules = sandboxRules({
        policy,
        subnet: config.subnet,
        blockedCidrs: [...config.blockedCidrs, ...recorded.blocked],
        dnsServers: [...(await dnsServers), ...recorded.dnsServers],
      });
      const chain = sandboxChain(sandboxID);
      const source = `${ip}/32`;
      // The restore deletes stale jumps (an earlier sandbox with this address, an earlier attempt)
      // listed just before. Another worker on this host may delete one in between, which fails the
      // whole restore (it is atomic: nothing applied): list again and retry.
      for (let attempt = 1; ; attempt++) {
        const stale = (await egressJumps()).filter((j) => j.chain === chain || j.source === source).map((j) => j.rule);
        try {
          await iptables.restore(sandboxRestoreScript(sandboxID, rules, stale, sandboxJump(sandboxID, ip)));
          return;
        } catch (err) {
          if (attempt >= 4 || stale.length === 0) throw err;
          logger.warn({ sandboxID, attempt, err: (err as Error).message }, 'packet-filter restore raced with another worker; retrying');
        }
      }
    }),

    remove: (sandboxID) => serialized(async () => {
      const chain = sandboxChain(sandboxID);
      // Usually one listing and one atomic restore (at 1000 live each call costs ~30-50 ms, and a
      // host's removals queue behind one another). It fails as a whole when something is already
      // gone (chain removed, jump deleted meanwhile): then step by step, each step allowed to find nothing.
      const jumps = (await egressJumps()).filter((j) => j.chain === chain).map((j) => j.rule);
      try {
        await iptables.restore(sandboxRemoveScript(sandboxID, jumps));
        return;
      } catch {
        // fall through
      }
      for (const jump of (await egressJumps()).filter((j) => j.chain === chain)) await iptables.attempt(['-D', CHAINS.egress, ...jump.rule]);
      await iptables.attempt(['-F', chain]);
      await iptables.attempt(['-X', chain]);
      // Each step may fail because it is already done; check the result, so a real failure
      // (the rules are still there) fails the destroy, which then retries.
      const jumpLeft = (await egressJumps()).some((j) => j.chain === chain);
      if (jumpLeft || (await iptables.attempt(['-S', chain]))) {
        throw new Error(`could not remove the packet-filter rules of sandbox ${sandboxID} (chain ${chain}${jumpLeft ? ' and its jump' : ''} still present)`);
      }
    }),

    async sandboxesWithRules() {
      // Several engines on one machine (each its own bridge and subnet) share these chains: a
      // sandbox whose jump comes from another engine's subnet is not this network's to remove.
      const foreign = new Set((await egressJumps()).filter((j) => !cidrContains(config.subnet, j.source)).map((j) => j.chain));
      return parseSandboxChains(await iptables.run(['-S']))
        .filter((chain) => !foreign.has(chain))
        .map((chain) => chain.slice('BERTH-'.length));
    },
  };
}

/** A firewall that does nothing, for hosts where enforcement is switched off (BERTH_NETWORK_ENFORCE=false). */
export const NO_FIREWALL: Firewall = {
  async prepare() {},
  async install() {},
  async remove() {},
  async sandboxesWithRules() {
    return [];
  },
};
