import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { normalizeCidr } from '../../src/network/cidr.js';
import { cidrsFromLabel, DEFAULT_NETWORK_POLICY, policyFromLabel, PRIVATE_CIDRS } from '../../src/network/policy.js';
import { createFirewall } from '../../src/network/firewall.js';
import type { Iptables } from '../../src/network/iptables.js';
import { createLogger } from '../../src/logger.js';
import { CHAINS, fixedChainsScript, hooks, parseEgressJumps, parseSandboxChains, sandboxChain, sandboxRules } from '../../src/network/rules.js';
import { batchRestoreScript } from '../../src/network/rule-batch.js';
import '../../src/api/app.js'; // registers every route module's operations
import { openApiDocument } from '../../src/api/rest/openapi.js';
import { createSandboxSchema } from '../../src/service/schemas.js';

const base = { subnet: '10.213.0.0/16', blockedCidrs: [], dnsServers: ['10.255.255.53/32'] };
const ID = 'abcdefghij0123456789';

describe('CIDRs', () => {
  it('normalises addresses and ranges as iptables writes them, and refuses anything else', () => {
    expect(normalizeCidr('203.0.113.7')).toBe('203.0.113.7/32');
    expect(normalizeCidr('10.1.2.3/8')).toBe('10.0.0.0/8');
    expect(normalizeCidr('0.0.0.0/0')).toBe('0.0.0.0/0');
    for (const bad of ['256.0.0.1', '1.2.3.4/33', '1.2.3', 'example.com', '::1', '1.2.3.4/']) expect(normalizeCidr(bad)).toBeNull();
  });
});

describe('sandbox rules', () => {
  it('blocks the sandbox subnet, link-local and configured ranges first, then allow beats deny, private ranges, internet', () => {
    const rules = sandboxRules({ ...base, blockedCidrs: ['198.51.100.0/24'], policy: { allowInternet: true, allowOut: ['10.1.0.0/16'], denyOut: ['203.0.113.0/24'] } });
    const targets = rules.map((r) => r.join(' '));
    expect(targets.slice(0, 3)).toEqual(['-d 10.213.0.0/16 -j DROP', '-d 169.254.0.0/16 -j DROP', '-d 198.51.100.0/24 -j DROP']);
    expect(targets.slice(3, 5)).toEqual(['-d 10.255.255.53/32 -p udp --dport 53 -j RETURN', '-d 10.255.255.53/32 -p tcp --dport 53 -j RETURN']);
    expect(targets.indexOf('-d 10.1.0.0/16 -j RETURN')).toBeLessThan(targets.indexOf('-d 203.0.113.0/24 -j DROP'));
    expect(targets.indexOf('-d 203.0.113.0/24 -j DROP')).toBeLessThan(targets.indexOf('-d 10.0.0.0/8 -j DROP'));
    for (const cidr of PRIVATE_CIDRS) expect(targets).toContain(`-d ${cidr} -j DROP`);
    expect(targets.at(-1)).toBe('-j RETURN');
  });

  it('allowInternet:false ends in DROP and gets no DNS exception', () => {
    const rules = sandboxRules({ ...base, policy: { allowInternet: false, allowOut: [], denyOut: [] } }).map((r) => r.join(' '));
    expect(rules.at(-1)).toBe('-j DROP');
    expect(rules.some((r) => r.includes('--dport 53'))).toBe(false);
  });

  it('installs atomically: flush by declaring the chain, stale jumps out, its jump on top', () => {
    const stale = { source: '10.213.0.9/32', chain: sandboxChain('zzzzzzzzzzzzzzzzzzzz'), rule: ['-s', '10.213.0.9/32', '-g', sandboxChain('zzzzzzzzzzzzzzzzzzzz')] };
    const script = batchRestoreScript([stale], [{ kind: 'install', sandboxID: ID, ip: '10.213.0.9', rules: [['-j', 'DROP']] }]);
    expect(script.split('\n')).toEqual([
      '*filter',
      `:BERTH-${ID} - [0:0]`,
      `-A BERTH-${ID} -j DROP`,
      '-D BERTH-EGRESS -s 10.213.0.9/32 -g BERTH-zzzzzzzzzzzzzzzzzzzz',
      `-I BERTH-EGRESS 1 -s 10.213.0.9/32 -g BERTH-${ID}`,
      'COMMIT',
      '',
    ]);
    expect(sandboxChain(ID).length).toBeLessThanOrEqual(28);
  });

  it("reads back jumps and sandbox chains from iptables -S, ignoring other chains' rules", () => {
    const listing = [
      '-N BERTH-EGRESS',
      `-N BERTH-${ID}`,
      '-N DOCKER-USER',
      `-A BERTH-EGRESS -s 10.213.0.2/32 -g BERTH-${ID}`,
      '-A BERTH-EGRESS -j DROP',
      '-A DOCKER-USER -j RETURN',
    ].join('\n');
    expect(parseEgressJumps(listing)).toEqual([{ source: '10.213.0.2/32', chain: `BERTH-${ID}`, rule: ['-s', '10.213.0.2/32', '-g', `BERTH-${ID}`] }]);
    expect(parseSandboxChains(listing)).toEqual([`BERTH-${ID}`]);
  });

  it("hooks only berth's bridge, and the host is closed to it except for replies", () => {
    expect(hooks('berth0').every((h) => h.rule.slice(0, 2).join(' ') === '-i berth0' || h.rule.slice(0, 2).join(' ') === '-o berth0')).toBe(true);
    expect(fixedChainsScript()).toContain('-A BERTH-INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n-A BERTH-INPUT -j DROP');
  });
});

describe('policy labels', () => {
  it('round-trips a policy; an unreadable label gives the most restrictive one', () => {
    const policy = { allowInternet: false, allowOut: ['203.0.113.0/24'], denyOut: [] };
    expect(policyFromLabel(JSON.stringify(policy))).toEqual(policy);
    expect(policyFromLabel(undefined)).toEqual(DEFAULT_NETWORK_POLICY);
    expect(policyFromLabel('{not json')).toEqual({ allowInternet: false, allowOut: [], denyOut: [] });
    expect(cidrsFromLabel('198.51.100.0/24,bogus,')).toEqual(['198.51.100.0/24']);
  });
});

describe('network config and request validation', () => {
  const env = { BERTH_API_KEYS: 'test-key-1:o', BERTH_SECRET_KEY: '0'.repeat(64) };
  it('defaults to berth0 on 10.213.0.0/16 with enforcement on', () => {
    expect(loadConfig(env).network).toEqual({ name: 'berth0', subnet: '10.213.0.0/16', blockedCidrs: [], enforce: true, dnsServers: undefined });
  });
  it('reads extra blocked ranges and refuses bad ones by name', () => {
    expect(loadConfig({ ...env, BERTH_NETWORK_BLOCKED_CIDRS: '198.51.100.7, 192.0.2.0/24' }).network.blockedCidrs).toEqual(['198.51.100.7/32', '192.0.2.0/24']);
    expect(() => loadConfig({ ...env, BERTH_NETWORK_BLOCKED_CIDRS: 'nope' })).toThrow(/BERTH_NETWORK_BLOCKED_CIDRS/);
    expect(() => loadConfig({ ...env, BERTH_NETWORK_SUBNET: '10.213.0.1/16' })).toThrow(/BERTH_NETWORK_SUBNET/);
    expect(() => loadConfig({ ...env, BERTH_NETWORK_NAME: 'a-name-longer-than-15' })).toThrow(/BERTH_NETWORK_NAME/);
  });
  it('fills policy defaults and normalises CIDRs in a create request', () => {
    expect(createSandboxSchema.parse({ network: { allowOut: ['203.0.113.7'] } }).network).toEqual({ allowInternet: true, allowOut: ['203.0.113.7/32'], denyOut: [] });
    expect(createSandboxSchema.safeParse({ network: { allowOut: Array(65).fill('203.0.113.7') } }).success).toBe(false);
  });
  it('documents the network field in the OpenAPI document', () => {
    const doc = openApiDocument('http://localhost') as { paths: Record<string, Record<string, any>> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const schema = doc.paths['/sandboxes']?.post.requestBody.content['application/json'].schema;
    expect(Object.keys(schema.properties.network.properties)).toEqual(['allowInternet', 'allowOut', 'denyOut']);
  });
});

describe('firewall.remove', () => {
  const id = 'a'.repeat(20);
  /** An iptables that lists what it holds and whose restores fail (a busy lock, a broken binary). */
  function stuckIptables(holds: { jump: boolean }, restores: string[]): Iptables {
    return {
      async run(args) {
        if (args[0] === '-S' && args[1] === CHAINS.egress) return holds.jump ? `-N ${CHAINS.egress}\n-A ${CHAINS.egress} -s 10.213.0.9/32 -g ${sandboxChain(id)}\n` : `-N ${CHAINS.egress}\n`;
        throw new Error(`iptables ${args.join(' ')} failed`);
      },
      async attempt(args) {
        return this.run(args).then(
          () => true,
          () => false,
        );
      },
      async restore(script) {
        restores.push(script);
        throw new Error('iptables-restore: line 3 failed');
      },
    };
  }
  const config = { bridge: 'berth0', subnet: '10.213.0.0/16', blockedCidrs: [], dnsServers: undefined };

  it("fails when the sandbox's jump or chain could not be removed (so the destroy retries)", async () => {
    const restores: string[] = [];
    const firewall = createFirewall(config, createLogger('silent', 'test'), stuckIptables({ jump: true }, restores));
    await expect(firewall.remove(id)).rejects.toThrow(/could not remove the packet-filter rules/);
    expect(restores.length).toBeGreaterThan(1);
  });

  it('removes its jump and its chain in one atomic restore (the chain is declared first, so an absent one is no error)', () => {
    const jump = { source: '10.213.0.9/32', chain: sandboxChain(id), rule: ['-s', '10.213.0.9/32', '-g', sandboxChain(id)] };
    expect(batchRestoreScript([jump], [{ kind: 'remove', sandboxID: id }]).split('\n')).toEqual([
      '*filter',
      `-D BERTH-EGRESS -s 10.213.0.9/32 -g BERTH-${id}`,
      `:BERTH-${id} - [0:0]`,
      `-X BERTH-${id}`,
      'COMMIT',
      '',
    ]);
    expect(batchRestoreScript([], [{ kind: 'remove', sandboxID: id }])).not.toMatch(/^-D /m);
  });
});

describe('createFirewall install', () => {
  it('retries when another worker deleted a stale jump between listing and restoring (the restore failed as a whole)', async () => {
    const id = 'b'.repeat(20);
    let listed = 0;
    const scripts: string[] = [];
    const racing: Iptables = {
      async run(args) {
        if (args[0] === '-S' && args[1] === CHAINS.egress) {
          // First listing: an earlier sandbox's jump for this address; gone by the second.
          return listed++ === 0 ? `-N ${CHAINS.egress}\n-A ${CHAINS.egress} -s 10.213.0.7/32 -g BERTH-${'c'.repeat(20)}\n` : `-N ${CHAINS.egress}\n`;
        }
        return '';
      },
      async attempt() {
        return true;
      },
      async restore(script) {
        scripts.push(script);
        if (scripts.length === 1) throw new Error('iptables-restore: line 17 failed: Bad rule (does a matching rule exist in that chain?)');
      },
    };
    const firewall = createFirewall(
      { bridge: 'berth0', subnet: '10.213.0.0/16', blockedCidrs: [], dnsServers: [] },
      createLogger('silent', 'test'),
      racing,
    );
    await firewall.install(id, '10.213.0.7', { allowInternet: true, allowOut: [], denyOut: [] }, { blocked: [], dnsServers: [] });
    expect(scripts).toHaveLength(2);
    expect(scripts[0]).toMatch(/^-D /m);
    expect(scripts[1]).not.toMatch(/^-D /m);
  });
});
