/**
 * What the pause / resume activities cost at the engine, old path against new, interleaved
 * on one container: inspect then pause (the activity until 2026-12) against pause alone
 * (src/activities/freeze.ts), and the same for unpause.
 *
 *   node --import tsx bench/tools/freeze-path.ts [--reps 60]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { freezeContainer, thawContainer } from '../../src/activities/freeze.js';
import { createDockerClient } from '../../src/docker/client.js';
import { cleanupContainers, RawDocker } from '../lib/raw.js';
import { summarize, timed } from '../lib/stats.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '60' }, network: { type: 'string', default: 'bridge' } } });
const reps = Number(values.reps);
const docker = createDockerClient(process.env.DOCKER_SOCKET ?? '/var/run/docker.sock');
const runId = randomBytes(4).toString('hex');
const raw = new RawDocker(docker, runId, values.network ?? 'bridge');
const t: Record<string, number[]> = { 'inspect + pause': [], 'pause (fast path)': [], 'inspect + unpause': [], 'unpause (fast path)': [] };
try {
  const name = await raw.createAndStart();
  const c = docker.getContainer(name);
  for (let i = 0; i < reps + 1; i++) {
    const rec = (k: string, ms: number) => i > 0 && t[k]?.push(ms);
    rec('inspect + pause', (await timed(async () => { await c.inspect(); await c.pause(); })).ms);
    rec('inspect + unpause', (await timed(async () => { await c.inspect(); await c.unpause(); })).ms);
    rec('pause (fast path)', (await timed(() => freezeContainer(docker, name))).ms);
    rec('unpause (fast path)', (await timed(() => thawContainer(docker, name))).ms);
  }
  for (const [k, v] of Object.entries(t)) {
    const s = summarize(v);
    console.log(`${k.padEnd(22)} n=${s.n} p50 ${s.p50.toFixed(2)} p90 ${s.p90.toFixed(2)} ms`);
  }
} finally {
  await cleanupContainers(docker, runId);
}
