/**
 * IPv4 CIDR parsing for egress policies and config. Pure: no I/O.
 * berth's sandbox network is IPv4 only, so IPv6 ranges are refused with a clear message.
 */

/** Parses `a.b.c.d` or `a.b.c.d/n` into a 32-bit address and prefix length; null if invalid. */
export function parseIPv4Cidr(text: string): { address: number; prefix: number } | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text.trim());
  if (!match) return null;
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return null;
  const prefix = match[5] === undefined ? 32 : Number(match[5]);
  if (prefix > 32) return null;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { address, prefix };
}

/**
 * The canonical form iptables uses: network address with host bits cleared, and always a
 * prefix (`203.0.113.7` → `203.0.113.7/32`, `10.1.2.3/8` → `10.0.0.0/8`).
 */
export function normalizeCidr(text: string): string | null {
  const parsed = parseIPv4Cidr(text);
  if (!parsed) return null;
  const size = 2 ** (32 - parsed.prefix);
  const network = Math.floor(parsed.address / size) * size;
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join('.')}/${parsed.prefix}`;
}

/** Why `text` is not an accepted CIDR, phrased as what to do. */
export function cidrProblem(text: string): string {
  if (text.includes(':')) return `"${text}" is IPv6; sandbox networks are IPv4 only, give an IPv4 address or CIDR such as 203.0.113.0/24`;
  return `"${text}" is not an IPv4 address or CIDR; use a form such as 203.0.113.7 or 203.0.113.0/24`;
}


/** Whether `inner` (an address or CIDR) lies inside `outer`. False when either is invalid. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseIPv4Cidr(outer);
  const i = parseIPv4Cidr(inner);
  if (!o || !i || i.prefix < o.prefix) return false;
  const size = 2 ** (32 - o.prefix);
  return Math.floor(o.address / size) === Math.floor(i.address / size);
}
