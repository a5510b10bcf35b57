/**
 * Egress policy against a stand-in "internet" this test creates (a network namespace with
 * TEST-NET addresses, see standin.ts). Never sends a packet to a real outside, private or
 * link-local address: the link-local block is checked as a rule, and the same kind of rule
 * is exercised against the stand-in's second address, configured as an always-blocked range.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startStack, type TestStack } from '../helpers/stack.js';
import { fetchFrom, sh } from './helpers.js';
import { startStandIn, type StandIn } from './standin.js';

let stack: TestStack;
let standIn: StandIn;
const sandboxes: Record<string, string> = {};

const iptables = (...args: string[]) => execFileSync('iptables', ['-w', ...args], { encoding: 'utf8' });
const rulesOf = (sandboxID: string) => iptables('-S', `BERTH-${sandboxID}`).trim().split('\n');
const reaches = async (name: string, target: string) => (await fetchFrom(stack, sandboxes[name] ?? '', target, standIn.port)) !== null;

beforeAll(async () => {
  standIn = await startStandIn();
  stack = await startStack({ env: { BERTH_NETWORK_BLOCKED_CIDRS: `${standIn.blockedIp}/32`, BERTH_NETWORK_DNS_SERVERS: standIn.dnsIp } });
  const policies: Record<string, unknown> = {
    default: undefined,
    offline: { allowInternet: false },
    offlineAllowed: { allowInternet: false, allowOut: [standIn.internetIp] },
    denied: { denyOut: ['203.0.113.0/24'] },
    deniedButAllowed: { denyOut: ['203.0.113.0/24'], allowOut: [standIn.internetCidr] },
    allowsBlocked: { allowOut: [standIn.blockedIp] },
  };
  await Promise.all(
    Object.entries(policies).map(async ([name, network]) => {
      const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 300, ...(network ? { network } : {}) } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      sandboxes[name] = res.body.sandboxID;
    }),
  );
});
afterAll(async () => {
  await stack?.stop();
  standIn?.close();
});

describe('egress policy', () => {
  it('reaches the stand-in internet with the default policy', async () => {
    expect(await fetchFrom(stack, sandboxes.default ?? '', standIn.internetIp, standIn.port)).toBe(`standin ${standIn.internetIp}`);
  });

  it('allowInternet:false denies it; the same address in allowOut makes it reachable again', async () => {
    expect(await reaches('offline', standIn.internetIp)).toBe(false);
    expect(await reaches('offlineAllowed', standIn.internetIp)).toBe(true);
  });

  it('denyOut denies it, unless allowOut also covers it (allow beats deny)', async () => {
    expect(await reaches('denied', standIn.internetIp)).toBe(false);
    expect(await reaches('deniedButAllowed', standIn.internetIp)).toBe(true);
  });

  it('shows the policy, normalised to CIDRs, in the sandbox info', async () => {
    const info = await stack.api('GET', `/sandboxes/${sandboxes.offlineAllowed}`);
    expect(info.body.network).toEqual({ allowInternet: false, allowOut: [`${standIn.internetIp}/32`], denyOut: [] });
  });

  it('always blocks link-local (checked as a rule) and configured ranges (exercised on the stand-in), even when allowOut lists them', async () => {
    const rules = rulesOf(sandboxes.allowsBlocked ?? '');
    const chain = `BERTH-${sandboxes.allowsBlocked}`;
    const linkLocal = rules.indexOf(`-A ${chain} -d 169.254.0.0/16 -j DROP`);
    const blocked = rules.indexOf(`-A ${chain} -d ${standIn.blockedIp}/32 -j DROP`);
    const allowed = rules.indexOf(`-A ${chain} -d ${standIn.blockedIp}/32 -j RETURN`);
    expect(linkLocal).toBeGreaterThan(0);
    expect(blocked).toBeGreaterThan(0);
    expect(allowed).toBeGreaterThan(blocked);
    // The same kind of rule as the link-local one, against an address this test owns.
    expect(await reaches('allowsBlocked', standIn.blockedIp)).toBe(false);
    expect(await reaches('default', standIn.blockedIp)).toBe(false);
    // The stand-in itself answers on that address (from the host, not through berth's chains).
    expect(await fetch(`http://${standIn.blockedIp}:${standIn.port}/`).then((r) => r.text())).toBe(`standin ${standIn.blockedIp}`);
  });

  it("lets Docker's embedded DNS answer, and opens port 53 (only) of the DNS servers, in a private range, only when the internet is allowed", async () => {
    const own = await sh(stack, sandboxes.default ?? '', `nslookup ${sandboxes.default} 127.0.0.11`);
    expect(own.stdout).toMatch(/Address:? .*10\.213\./);
    // Docker's resolver forwards from the sandbox's own namespace: this is the path its queries take.
    expect(await fetchFrom(stack, sandboxes.default ?? '', standIn.dnsIp, 53)).toBe(`standin ${standIn.dnsIp}`);
    expect(await fetchFrom(stack, sandboxes.default ?? '', standIn.dnsIp, standIn.port)).toBeNull();
    expect(await fetchFrom(stack, sandboxes.offline ?? '', standIn.dnsIp, 53)).toBeNull();
    expect(rulesOf(sandboxes.default ?? '')).toContain(`-A BERTH-${sandboxes.default} -d ${standIn.dnsIp}/32 -p udp -m udp --dport 53 -j RETURN`);
  });

  it("rebuilds a sandbox's rules at worker start-up; without them its traffic is denied, never allowed", async () => {
    const id = sandboxes.default ?? '';
    const before = rulesOf(id);
    const jump = iptables('-S', 'BERTH-EGRESS').split('\n').find((l) => l.includes(`BERTH-${id}`));
    expect(jump).toBeDefined();
    iptables('-D', ...(jump ?? '').split(' ').slice(1));
    iptables('-F', `BERTH-${id}`);
    iptables('-X', `BERTH-${id}`);
    // Without its chain the address falls through to BERTH-EGRESS's DROP. (Another test file's
    // worker starting right now restores the chain, which is the feature: only then may it answer.)
    if (await reaches('default', standIn.internetIp)) expect(iptables('-S')).toContain(`-N BERTH-${id}`);
    await stack.restartWorker();
    // Other test files' workers restore this chain too, adding their own DNS servers (the host's
    // resolv.conf): compare everything else exactly, and require this stack's DNS server.
    const withoutDns = (rules: string[]) => rules.filter((r) => !r.includes('--dport 53'));
    expect(withoutDns(rulesOf(id))).toEqual(withoutDns(before));
    expect(rulesOf(id)).toContain(`-A BERTH-${id} -d ${standIn.dnsIp}/32 -p tcp -m tcp --dport 53 -j RETURN`);
    expect(await reaches('default', standIn.internetIp)).toBe(true);
    expect(await reaches('offline', standIn.internetIp)).toBe(false);
    // Start-up made sure of the hooks without adding a second copy.
    const hooksNow = iptables('-S', 'DOCKER-USER').split('\n').filter((l) => l === '-A DOCKER-USER -i berth0 -j BERTH-EGRESS');
    expect(hooksNow).toHaveLength(1);
  });

  it("removes a sandbox's rules when it is killed", async () => {
    const id = sandboxes.offline ?? '';
    expect(iptables('-S')).toContain(`BERTH-${id}`);
    expect((await stack.api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
    await eventually(async () => !iptables('-S').includes(`BERTH-${id}`));
  });

  it('refuses a bad CIDR with a 400 that says what to write', async () => {
    for (const bad of ['300.1.2.3/8', '10.0.0.0/33', 'example.com', '2001:db8::/32']) {
      const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', network: { allowOut: [bad] } } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('invalid_argument');
      expect(res.body.message).toContain(bad);
      expect(res.body.message).toMatch(/IPv4/);
    }
    const extra = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', network: { allowInternet: 'no' } } });
    expect(extra.status).toBe(400);
  });
});
