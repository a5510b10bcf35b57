/**
 * The packet-filter rules berth owns, as iptables argument lists. Pure: no I/O, so every
 * rule is unit-tested; src/network/iptables.ts runs them.
 *
 * Layout (filter table, IPv4):
 *
 *   DOCKER-USER ─ -i <bridge> ─▶ BERTH-EGRESS   per sandbox: -s <ip> -g BERTH-<id>; then DROP
 *               ─ -o <bridge> ─▶ BERTH-INGRESS  replies pass; anything new into a sandbox DROP
 *   INPUT       ─ -i <bridge> ─▶ BERTH-INPUT    replies pass (the port proxy); the rest DROP
 *
 * A sandbox's chain `BERTH-<id>` ends in RETURN (back to Docker's own FORWARD rules, which
 * accept and masquerade) or DROP. Traffic from an address without a chain (a container that
 * just started, or one whose chain was lost) hits BERTH-EGRESS's final DROP: denied, never
 * allowed. Only packets on berth's own bridge ever enter these chains.
 */
import type { NetworkPolicy } from '../workflows/definitions.js';
import { LINK_LOCAL_CIDR, PRIVATE_CIDRS } from './policy.js';

export const CHAINS = {
  egress: 'BERTH-EGRESS',
  ingress: 'BERTH-INGRESS',
  input: 'BERTH-INPUT',
} as const;

/** The per-sandbox chain (`BERTH-` + the 20-character sandbox ID: 26 of iptables' 28). */
export function sandboxChain(sandboxID: string): string {
  return `BERTH-${sandboxID}`;
}

/** Sandbox chain names are BERTH- and a lower-case sandbox ID (the shared chains are upper case). */
export const SANDBOX_CHAIN_PATTERN = /^BERTH-([a-z0-9]{20})$/;

/** A hook to make sure of: inserted at the top of a built-in or Docker chain when absent. */
export interface Hook {
  chain: string;
  rule: string[];
}

/** The jumps that send traffic on berth's bridge (and only there) into berth's chains. */
export function hooks(bridge: string): Hook[] {
  return [
    { chain: 'DOCKER-USER', rule: ['-i', bridge, '-j', CHAINS.egress] },
    { chain: 'DOCKER-USER', rule: ['-o', bridge, '-j', CHAINS.ingress] },
    { chain: 'INPUT', rule: ['-i', bridge, '-j', CHAINS.input] },
  ];
}

/** The last rule of BERTH-EGRESS: an address without its own chain is denied. */
export const EGRESS_DEFAULT = ['-j', 'DROP'];

/**
 * BERTH-INGRESS and BERTH-INPUT hold no per-sandbox state, so they are rewritten whole in one
 * atomic `iptables-restore --noflush` (declaring a chain flushes it): replies to connections
 * the host opened (the port proxy) pass, nothing new from a sandbox reaches the host, and
 * nothing new is forwarded into a sandbox.
 */
export function fixedChainsScript(): string {
  const established = ['-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED'];
  return [
    '*filter',
    `:${CHAINS.ingress} - [0:0]`,
    `:${CHAINS.input} - [0:0]`,
    ['-A', CHAINS.ingress, ...established, '-j', 'RETURN'].join(' '),
    ['-A', CHAINS.ingress, '-j', 'DROP'].join(' '),
    ['-A', CHAINS.input, ...established, '-j', 'ACCEPT'].join(' '),
    ['-A', CHAINS.input, '-j', 'DROP'].join(' '),
    'COMMIT',
    '',
  ].join('\n');
}

export interface SandboxRulesInput {
  policy: NetworkPolicy;
  /** berth's network: other sandboxes are never reachable. */
  subnet: string;
  /** Always denied (config plus what was recorded on the container), whatever the policy says. */
  blockedCidrs: string[];
  /** Upstream resolvers Docker's embedded DNS forwards to (from the container's namespace). */
  dnsServers: string[];
}

/**
 * The rules of one sandbox's chain, in order. Always-blocked ranges first (other sandboxes,
 * link-local, configured ranges); then DNS when the internet is allowed; then allow beats
 * deny: `allowOut`, `denyOut`, the private ranges (denied unless allowed), and finally the
 * internet (0.0.0.0/0) as `allowInternet` says.
 */
export function sandboxRules({ policy, subnet, blockedCidrs, dnsServers }: SandboxRulesInput): string[][] {
  const rules: string[][] = [];
  for (const cidr of unique([subnet, LINK_LOCAL_CIDR, ...blockedCidrs])) rules.push(['-d', cidr, '-j', 'DROP']);
  if (policy.allowInternet) {
    for (const server of unique(dnsServers)) {
      for (const proto of ['udp', 'tcp']) rules.push(['-d', server, '-p', proto, '--dport', '53', '-j', 'RETURN']);
    }
  }
  for (const cidr of unique(policy.allowOut)) rules.push(['-d', cidr, '-j', 'RETURN']);
  for (const cidr of unique(policy.denyOut)) rules.push(['-d', cidr, '-j', 'DROP']);
  for (const cidr of PRIVATE_CIDRS) rules.push(['-d', cidr, '-j', 'DROP']);
  rules.push(['-j', policy.allowInternet ? 'RETURN' : 'DROP']);
  return rules;
}

/** The jump from BERTH-EGRESS to a sandbox's chain, keyed by its address (goto: RETURN leaves berth's chains). */
export function sandboxJump(sandboxID: string, ip: string): string[] {
  return ['-s', `${ip}/32`, '-g', sandboxChain(sandboxID)];
}

/**
 * Parses `iptables -S BERTH-EGRESS` output into the jumps it holds:
 * `-A BERTH-EGRESS -s 10.213.0.2/32 -g BERTH-<id>` → { source, chain, rule }.
 */
export function parseEgressJumps(listing: string): Array<{ source: string; chain: string; rule: string[] }> {
  const jumps: Array<{ source: string; chain: string; rule: string[] }> = [];
  for (const line of listing.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] !== '-A' || words[1] !== CHAINS.egress) continue;
    const rule = words.slice(2);
    const source = valueAfter(rule, '-s');
    const chain = valueAfter(rule, '-g') ?? valueAfter(rule, '-j');
    if (source && chain && SANDBOX_CHAIN_PATTERN.test(chain)) jumps.push({ source, chain, rule });
  }
  return jumps;
}

/** Names of sandbox chains in `iptables -S` output (the `-N BERTH-<id>` lines). */
export function parseSandboxChains(listing: string): string[] {
  return listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words[0] === '-N' && SANDBOX_CHAIN_PATTERN.test(words[1] ?? ''))
    .map((words) => words[1] as string);
}

function valueAfter(words: string[], flag: string): string | undefined {
  const i = words.indexOf(flag);
  return i >= 0 ? words[i + 1] : undefined;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
