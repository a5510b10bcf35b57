/**
 * Batched packet-filter changes: creates and kills queued at the same time share one listing
 * and one atomic restore; a batch that fails is applied change by change, so one refused change
 * fails only its own caller. Pure: a fake iptables that keeps BERTH-EGRESS as a list.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createFirewall } from '../../src/network/firewall.js';
import type { Iptables } from '../../src/network/iptables.js';
import { batchRestoreScript, takeBatch, type RuleChange } from '../../src/network/rule-batch.js';
import { CHAINS, sandboxChain } from '../../src/network/rules.js';

const id = (c: string) => c.repeat(20);
const POLICY = { allowInternet: true, allowOut: [], denyOut: [] };
const NONE = { blocked: [], dnsServers: [] };
const config = { bridge: 'berth0', subnet: '10.213.0.0/16', blockedCidrs: [], dnsServers: [] };

/** BERTH-EGRESS's jumps, applied from restore scripts line by line; `refuse` fails any script mentioning it. */
function fakeIptables(refuse?: string) {
  const jumps: string[] = [];
  const restores: string[] = [];
  const iptables: Iptables = {
    async run(args) {
      if (args[0] === '-S' && args[1] === CHAINS.egress) return [`-N ${CHAINS.egress}`, ...jumps.map((j) => `-A ${CHAINS.egress} ${j}`)].join('\n');
      return '';
    },
    async attempt() {
      return true;
    },
    async restore(script) {
      await new Promise((r) => setTimeout(r, 5));
      restores.push(script);
      if (refuse && script.includes(refuse)) throw new Error('iptables-restore: line 2 failed');
      const next = [...jumps];
      for (const line of script.split('\n')) {
        const ins = new RegExp(`^-I ${CHAINS.egress} 1 (.*)$`).exec(line);
        const del = new RegExp(`^-D ${CHAINS.egress} (.*)$`).exec(line);
        if (ins?.[1]) next.unshift(ins[1]);
        if (del?.[1]) {
          const at = next.indexOf(del[1]);
          if (at < 0) throw new Error(`iptables-restore: Bad rule (does a matching rule exist in that chain?): ${line}`);
          next.splice(at, 1);
        }
      }
      jumps.splice(0, jumps.length, ...next);
    },
  };
  return { iptables, jumps, restores };
}

describe('batched packet-filter changes', () => {
  it('installs queued together go in one restore, each with its jump on top', async () => {
    const fake = fakeIptables();
    const firewall = createFirewall(config, createLogger('silent', 'test'), fake.iptables);
    const ids = ['a', 'b', 'c', 'd', 'e'].map(id);
    await Promise.all(ids.map((sandboxID, i) => firewall.install(sandboxID, `10.213.0.${i + 2}`, POLICY, NONE)));
    // Queued together: one restore for all (at most two, if the first started before the others queued).
    const afterInstalls = fake.restores.length;
    expect(afterInstalls).toBeLessThanOrEqual(2);
    expect(fake.jumps.sort()).toEqual(ids.map((s, i) => `-s 10.213.0.${i + 2}/32 -g ${sandboxChain(s)}`).sort());
    await Promise.all(ids.map((sandboxID) => firewall.remove(sandboxID)));
    expect(fake.jumps).toEqual([]);
    expect(fake.restores.length - afterInstalls).toBeLessThanOrEqual(2);
  });

  it('a refused change fails only its own caller (the batch is applied one by one)', async () => {
    const bad = id('z');
    const fake = fakeIptables(sandboxChain(bad));
    const firewall = createFirewall(config, createLogger('silent', 'test'), fake.iptables);
    const results = await Promise.allSettled([
      firewall.install(id('a'), '10.213.0.2', POLICY, NONE),
      firewall.install(id('b'), '10.213.0.3', POLICY, NONE),
      firewall.install(bad, '10.213.0.4', POLICY, NONE),
      firewall.install(id('c'), '10.213.0.5', POLICY, NONE),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(fake.jumps.map((j) => j.split(' ')[1]).sort()).toEqual(['10.213.0.2/32', '10.213.0.3/32', '10.213.0.5/32']);
  });

  it('a kill and a create of the same address in one batch: the old jump goes once, the new one stays', () => {
    const old = { source: '10.213.0.9/32', chain: sandboxChain(id('o')), rule: ['-s', '10.213.0.9/32', '-g', sandboxChain(id('o'))] };
    const changes: RuleChange[] = [
      { kind: 'install', sandboxID: id('n'), ip: '10.213.0.9', rules: [['-j', 'RETURN']] },
      { kind: 'remove', sandboxID: id('o') },
    ];
    const lines = batchRestoreScript([old], changes).split('\n');
    expect(lines.filter((l) => l.startsWith('-D '))).toEqual([`-D BERTH-EGRESS -s 10.213.0.9/32 -g ${sandboxChain(id('o'))}`]);
    expect(lines).toContain(`-I BERTH-EGRESS 1 -s 10.213.0.9/32 -g ${sandboxChain(id('n'))}`);
    expect(lines.slice(-4)).toEqual([`:${sandboxChain(id('o'))} - [0:0]`, `-X ${sandboxChain(id('o'))}`, 'COMMIT', '']);
  });

  it('takeBatch stops before a second change of the same sandbox and at the limit', () => {
    const item = (sandboxID: string): { change: RuleChange } => ({ change: { kind: 'remove', sandboxID } });
    const pending = [item('a'), item('b'), item('a'), item('c')];
    expect(takeBatch(pending, 10).map((i) => i.change.sandboxID)).toEqual(['a', 'b']);
    expect(takeBatch(pending, 1).map((i) => i.change.sandboxID)).toEqual(['a']);
    expect(pending.map((i) => i.change.sandboxID)).toEqual(['c']);
  });
});

describe('firewall.remove of a name that cannot be a chain', () => {
  it('is a no-op (a destroy by container ID must not fail on it)', async () => {
    const fake = fakeIptables();
    const firewall = createFirewall(config, createLogger('silent', 'test'), fake.iptables);
    await expect(firewall.remove('1b2d46d5f6cd932809b4e08a002e042e255e70dcc7649d6e6d05abeb02252259')).resolves.toBeUndefined();
    expect(fake.restores).toEqual([]);
  });
});

describe('firewall.prefetch', () => {
  /** Counts the listings of BERTH-EGRESS. */
  function counting() {
    const fake = fakeIptables();
    let listings = 0;
    const run = fake.iptables.run.bind(fake.iptables);
    fake.iptables.run = async (args) => {
      if (args[0] === '-S' && args[1] === CHAINS.egress) listings++;
      return run(args);
    };
    return { ...fake, listings: () => listings };
  }

  it("an install uses the listing read while the container started, when this worker changed nothing since", async () => {
    const fake = counting();
    const firewall = createFirewall(config, createLogger('silent', 'test'), fake.iptables);
    firewall.prefetch();
    await firewall.install(id('a'), '10.213.0.2', POLICY, NONE);
    expect(fake.listings()).toBe(1);
    // Used once: the next change lists again.
    await firewall.remove(id('a'));
    expect(fake.listings()).toBe(2);
  });

  it('a listing read while a restore of this worker ran is not used (it may predate that change)', async () => {
    const fake = counting();
    const firewall = createFirewall(config, createLogger('silent', 'test'), fake.iptables);
    const first = firewall.install(id('a'), '10.213.0.2', POLICY, NONE);
    await new Promise((r) => setTimeout(r, 1)); // the restore (5 ms in the fake) is in flight
    firewall.prefetch();
    await first;
    await firewall.install(id('b'), '10.213.0.2', POLICY, NONE);
    expect(fake.listings()).toBe(3);
    // b took a's address: a's jump went, b's is the only one.
    expect(fake.jumps).toEqual([`-s 10.213.0.2/32 -g ${sandboxChain(id('b'))}`]);
  });
});
