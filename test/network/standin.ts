/**
 * A stand-in for "the internet" that this test owns: a network namespace joined to the host
 * by a veth pair, with an address from 203.0.113.0/24 (TEST-NET-3) and a second one from
 * 198.51.100.0/24 (TEST-NET-2, configured as an always-blocked range) and a third from
 * 198.18.0.0/15 (a private-by-default range, configured as the DNS server), and a tiny HTTP
 * server on all three, on port 8080 and on port 53 (TCP). Routes to both addresses point at the veth before any packet is sent, so
 * no test traffic can leave the machine.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

export interface StandIn {
  /** Reachable like any internet address (not private, not blocked). */
  internetIp: string;
  /** The host-side /30 holding internetIp. */
  internetCidr: string;
  /** An address a test configures as an extra always-blocked range. */
  blockedIp: string;
  /** A private-range address a test configures as the DNS server (it answers HTTP on TCP 53). */
  dnsIp: string;
  port: number;
  close(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

export async function startStandIn(): Promise<StandIn> {
  const tag = randomBytes(3).toString('hex');
  const ns = `berth-t-${tag}`;
  const hostVeth = `bth${tag}`;
  const nsVeth = `btn${tag}`;
  const base = 4 * randomInt(1, 63);
  const gateway = `203.0.113.${base + 1}`;
  const internetIp = `203.0.113.${base + 2}`;
  const blockedIp = `198.51.100.${randomInt(2, 254)}`;
  const dnsIp = `198.18.${randomInt(0, 255)}.${randomInt(2, 254)}`;
  const port = 8080;
  let server: ChildProcess | undefined;
  const close = () => {
    server?.kill('SIGKILL');
    // Deleting the namespace deletes its veth end, the peer and the routes through it.
    try {
      ip('netns', 'del', ns);
    } catch {
      /* already gone */
    }
    try {
      ip('link', 'del', hostVeth);
    } catch {
      /* went with the namespace */
    }
  };
  try {
    ip('netns', 'add', ns);
    ip('link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', nsVeth);
    ip('link', 'set', nsVeth, 'netns', ns);
    ip('addr', 'add', `${gateway}/30`, 'dev', hostVeth);
    ip('link', 'set', hostVeth, 'up');
    ip('route', 'add', `${blockedIp}/32`, 'dev', hostVeth);
    ip('route', 'add', `${dnsIp}/32`, 'dev', hostVeth);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${internetIp}/30`, 'dev', nsVeth);
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${blockedIp}/32`, 'dev', nsVeth);
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${dnsIp}/32`, 'dev', nsVeth);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', nsVeth, 'up');
    ip('netns', 'exec', ns, 'ip', 'route', 'add', 'default', 'via', gateway);
    // Never send a packet unless both addresses route into the namespace.
    for (const target of [internetIp, blockedIp, dnsIp]) {
      const route = ip('route', 'get', target);
      if (!route.includes(`dev ${hostVeth}`)) throw new Error(`${target} does not route to the stand-in: ${route}`);
    }
    const code = `for (const p of [${port}, 53]) require('http').createServer((q, r) => r.end('standin ' + q.socket.localAddress)).listen(p, '0.0.0.0')`;
    server = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ok = await fetch(`http://${internetIp}:${port}/`).then((r) => r.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error('stand-in server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    close();
    throw err;
  }
  return { internetIp, internetCidr: `203.0.113.${base}/30`, blockedIp, dnsIp, port, close };
}
