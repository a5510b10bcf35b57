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
  sandboxRules,
} from './rules.js';
import { batchRestoreScript, takeBatch, type EgressJump, type RuleChange } from './rule-batch.js';

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
  /**
   * Lists BERTH-EGRESS now, for the next install or remove to use if nothing of this process
   * changed it meanwhile (a create lists while its container starts, not after).
   */
  prefetch(): void;
  /** Sandbox IDs that have a chain on this host. */
  sandboxesWithRules(): Promise<string[]>;
}

/** iptables' longest chain name. */
const MAX_CHAIN_NAME = 28;
/** At most this many sandbox changes in one restore script. */
const MAX_BATCH = 64;

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

  /**
   * Installs and removes wait in one queue; whatever is queued when the previous change is done
   * goes in one batch: one listing of BERTH-EGRESS and one atomic restore for all of them. A
   * batch that fails as a whole (another worker on this host changed BERTH-EGRESS in between,
   * or one change is refused) is applied change by change, so each caller gets its own answer.
   */
  const pending: Array<{ change: RuleChange; resolve: () => void; reject: (err: unknown) => void }> = [];
  function submit(change: RuleChange): Promise<void> {
    const done = new Promise<void>((resolve, reject) => pending.push({ change, resolve, reject }));
    void serialized(applyPending);
    return done;
  }
  async function applyPending(): Promise<void> {
    while (pending.length > 0) {
      const batch = takeBatch(pending, MAX_BATCH);
      if (batch.length > 1) {
        try {
          await restore(batchRestoreScript(await currentJumps(), batch.map((item) => item.change)));
          for (const item of batch) item.resolve();
          continue;
        } catch (err) {
          logger.debug({ changes: batch.length, err: (err as Error).message }, 'batched packet-filter restore failed; applying its changes one by one');
        }
      }
      for (const item of batch) {
        try {
          await applyOne(item.change);
          item.resolve();
        } catch (err) {
          item.reject(err);
        }
      }
    }
  }
  /**
   * One change. The restore deletes the jumps listed just before; another worker on this host
   * may delete one in between, which fails the whole restore (it is atomic: nothing applied):
   * list again and retry. A restore that succeeded applied everything (a remove left no rule).
   */
  async function applyOne(change: RuleChange): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await restore(batchRestoreScript(attempt === 1 ? await currentJumps() : await egressJumps(), [change]));
        return;
      } catch (err) {
        if (attempt >= 4) {
          if (change.kind === 'remove') throw new Error(`could not remove the packet-filter rules of sandbox ${change.sandboxID} (chain ${sandboxChain(change.sandboxID)}): ${(err as Error).message}`);
          throw err;
        }
        logger.warn({ sandboxID: change.sandboxID, change: change.kind, attempt, err: (err as Error).message }, 'packet-filter restore failed (raced with another worker?); retrying');
      }
    }
  }

  /**
   * A listing made by prefetch() is used only when no restore of this process started since it
   * began (`changes` counts restores started and finished). A jump another process adds after
   * the listing is shadowed: a sandbox's own jump goes on top. One it deletes fails the restore,
   * which then runs again on a fresh listing.
   */
  let changes = 0;
  let prefetched: { atChange: number; jumps: Promise<EgressJump[] | null> } | null = null;
  function prefetch(): void {
    if (prefetched?.atChange === changes) return;
    prefetched = { atChange: changes, jumps: egressJumps().catch(() => null) };
  }
  async function currentJumps(): Promise<EgressJump[]> {
    const early = prefetched?.atChange === changes ? await prefetched.jumps : null;
    prefetched = null;
    return early ?? egressJumps();
  }
  async function restore(script: string): Promise<void> {
    changes++;
    try {
      await iptables.restore(script);
    } finally {
      changes++;
    }
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

    async install(sandboxID, ip, policy, recorded) {
      dnsServers ??= readDnsServers();
      const rules = sandboxRules({
        policy,
        subnet: config.subnet,
        blockedCidrs: [...config.blockedCidrs, ...recorded.blocked],
        dnsServers: [...(await dnsServers), ...recorded.dnsServers],
      });
      return submit({ kind: 'install', sandboxID, ip, rules });
    },

    // A name iptables refuses (too long) can have no chain: nothing to remove.
    remove: async (sandboxID) => (sandboxChain(sandboxID).length > MAX_CHAIN_NAME ? undefined : submit({ kind: 'remove', sandboxID })),

    prefetch,

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
  prefetch() {},
};
