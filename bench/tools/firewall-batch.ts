/**
 * Interleaved micro-measurement of the packet filter's install / remove: this checkout's
 * firewall against another checkout's (`--other DIR`, e.g. `git archive <commit> | tar -x -C DIR`),
 * on the real iptables, rounds alternating. Each round installs `--concurrent` sandboxes at once,
 * then removes them at once (a burst's shape; `--concurrent 1` is a single create / kill).
 *
 * The rules are real but inert: every "sandbox" has a source address from 198.18.0.0/15 (the
 * benchmarking range), which never appears on berth's bridge, so no packet ever matches them,
 * and another engine's start-up restore leaves them alone (not its subnet). All are removed at
 * the end, also on failure.
 *
 *   node --import tsx bench/tools/firewall-batch.ts --other /tmp/old [--rounds 30] [--concurrent 20]
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createLogger } from '../../src/logger.js';
import { createFirewall, type Firewall } from '../../src/network/firewall.js';
import { summarize } from '../lib/stats.js';

const { values } = parseArgs({ options: { other: { type: 'string' }, rounds: { type: 'string', default: '30' }, concurrent: { type: 'string', default: '20' } } });
if (!values.other) throw new Error('usage: firewall-batch.ts --other DIR [--rounds N] [--concurrent K]');
const rounds = Number(values.rounds);
const k = Number(values.concurrent);
const logger = createLogger('silent', 'firewall-batch');
// The stand-in addresses' subnet: the firewall's own subnet rules name it, never berth's real one.
const config = { bridge: 'berth0', subnet: '198.18.0.0/15', blockedCidrs: [], dnsServers: ['198.18.255.53/32'] };
const other = (await import(path.resolve(values.other, 'src/network/firewall.ts'))) as { createFirewall: typeof createFirewall };
const sides: { label: string; fw: Firewall }[] = [
  { label: 'A (this checkout)', fw: createFirewall(config, logger) },
  { label: `B (${values.other})`, fw: other.createFirewall(config, logger) },
];
const policy = { allowInternet: false, allowOut: [], denyOut: [] };
const live = new Map<Firewall, Set<string>>(sides.map((s) => [s.fw, new Set<string>()]));
const t: Record<string, number[]> = {};
const rec = (key: string, ms: number) => (t[key] ??= []).push(ms);
const newId = () => randomBytes(10).toString('hex').replace(/[^a-z0-9]/g, 'a').slice(0, 20);

try {
  for (let round = 0; round < rounds + 1; round++) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const { label, fw } of order) {
      const ids = Array.from({ length: k }, newId);
      const started = performance.now();
      await Promise.all(ids.map((id, i) => (live.get(fw)?.add(id), fw.install(id, `198.18.${(round % 200) + 1}.${i + 1}`, policy, { blocked: [], dnsServers: [] }))));
      const installed = performance.now();
      await Promise.all(ids.map((id) => fw.remove(id).then(() => live.get(fw)?.delete(id))));
      const removed = performance.now();
      if (round > 0) {
        rec(`install ×${k} ${label}`, installed - started);
        rec(`remove ×${k} ${label}`, removed - installed);
      }
    }
  }
  console.log(`interleaved, ${rounds} rounds of ${k} concurrent (p50 / p90 ms per round), load ${os.loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  for (const key of Object.keys(t).sort()) {
    const s = summarize(t[key] ?? []);
    console.log(`  ${key.padEnd(44)} ${s.p50.toFixed(1).padStart(8)} / ${s.p90.toFixed(1).padStart(8)}`);
  }
} finally {
  for (const [fw, ids] of live) for (const id of ids) await fw.remove(id).catch(() => undefined);
}
