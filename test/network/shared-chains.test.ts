/**
 * Two Docker engines on one machine (two berth networks, each its own bridge and subnet) share
 * berth's iptables chains. A worker's start-up restore removes the rules of sandboxes that are
 * gone from ITS network: it must not take another engine's sandboxes for gone (that would leave
 * them without their egress chain until their own worker restarts). Pure: a fake iptables.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { cidrContains } from '../../src/network/cidr.js';
import { createFirewall } from '../../src/network/firewall.js';
import type { Iptables } from '../../src/network/iptables.js';

const A = 'aaaaaaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbbbbbb';
const ORPHAN = 'cccccccccccccccccccc';

/** iptables -S as two engines' workers left it: A on 10.213/16, B on 10.215.7/24, a chain with no jump. */
function fakeIptables(): Iptables {
  const egress = ['-N BERTH-EGRESS', `-A BERTH-EGRESS -s 10.213.0.5/32 -g BERTH-${A}`, `-A BERTH-EGRESS -s 10.215.7.2/32 -g BERTH-${B}`, '-A BERTH-EGRESS -j DROP'].join('\n');
  const all = ['-P INPUT ACCEPT', '-N BERTH-EGRESS', `-N BERTH-${A}`, `-N BERTH-${B}`, `-N BERTH-${ORPHAN}`].join('\n');
  return {
    async run(args) {
      if (args.join(' ') === '-S BERTH-EGRESS') return egress;
      if (args.join(' ') === '-S') return all;
      throw new Error(`unexpected iptables ${args.join(' ')}`);
    },
    async attempt() {
      return true;
    },
    async restore() {},
  };
}

describe('berth chains shared by two engines', () => {
  it("a network's sandboxes with rules are those whose jump is in its subnet (and chains without a jump)", async () => {
    const logger = createLogger('silent', 'test');
    const engineA = createFirewall({ bridge: 'berth0', subnet: '10.213.0.0/16', blockedCidrs: [], dnsServers: [] }, logger, fakeIptables());
    const engineB = createFirewall({ bridge: 'bs2-x', subnet: '10.215.7.0/24', blockedCidrs: [], dnsServers: [] }, logger, fakeIptables());
    expect((await engineA.sandboxesWithRules()).sort()).toEqual([A, ORPHAN]);
    expect((await engineB.sandboxesWithRules()).sort()).toEqual([B, ORPHAN]);
  });

  it('cidrContains', () => {
    expect(cidrContains('10.213.0.0/16', '10.213.255.1/32')).toBe(true);
    expect(cidrContains('10.213.0.0/16', '10.215.7.2/32')).toBe(false);
    expect(cidrContains('10.215.7.0/24', '10.215.7.0/16')).toBe(false);
    expect(cidrContains('10.215.7.0/24', 'nonsense')).toBe(false);
  });
});
