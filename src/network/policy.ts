/**
 * Egress policies: the defaults, the ranges every sandbox is denied, and how a policy is
 * stored on its container (a label) so the worker can rebuild rules from Docker alone.
 */
import type { NetworkPolicy } from '../workflows/definitions.js';
import { normalizeCidr } from './cidr.js';

/** What a sandbox created without a `network` field gets. */
export const DEFAULT_NETWORK_POLICY: NetworkPolicy = { allowInternet: true, allowOut: [], denyOut: [] };

/** Link-local, including cloud metadata services (169.254.169.254): never reachable. */
export const LINK_LOCAL_CIDR = '169.254.0.0/16';

/**
 * Private, shared and special-purpose ranges: denied by default (they are where a host's
 * neighbours, its LAN and cloud-internal services live), reachable only when a sandbox lists
 * them (or a range inside them) in `allowOut`.
 */
export const PRIVATE_CIDRS = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
];

/**
 * Container labels carrying the policy (JSON), and the host settings in force at creation
 * (always-blocked ranges, configured DNS servers), so rules rebuilt later by any worker on
 * the host are the ones the sandbox was created with.
 */
export const NETWORK_LABELS = {
  policy: 'berth.network',
  blocked: 'berth.network.blocked',
  dns: 'berth.network.dns',
} as const;

/** Reads a policy back from its label; anything unreadable gives the most restrictive policy. */
export function policyFromLabel(value: string | undefined): NetworkPolicy {
  if (value === undefined) return DEFAULT_NETWORK_POLICY;
  try {
    const raw = JSON.parse(value) as Partial<NetworkPolicy>;
    return {
      allowInternet: raw.allowInternet === true,
      allowOut: cidrList(raw.allowOut),
      denyOut: cidrList(raw.denyOut),
    };
  } catch {
    return { allowInternet: false, allowOut: [], denyOut: [] };
  }
}

/** Reads a comma-separated list of CIDRs recorded on a container (blocked ranges, DNS servers). */
export function cidrsFromLabel(value: string | undefined): string[] {
  return cidrList((value ?? '').split(','));
}

function cidrList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v) => {
    const cidr = typeof v === 'string' ? normalizeCidr(v) : null;
    return cidr ? [cidr] : [];
  });
}
