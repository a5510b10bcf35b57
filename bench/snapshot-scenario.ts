/**
 * 10. snapshots: taking one (the `snapshot` update + a docker commit) versus a raw `docker commit`
 * of an equivalent container, and booting a sandbox from it versus create + start of the
 * committed image. Both sides hold the same 1 MB file. Each snapshot is deleted after its
 * round, so the per-owner cap never applies. The raw containers have no network (`none`): the
 * floor is the filesystem work alone, a little lower than the other scenarios' bridge floor.
 */
import { randomBytes } from 'node:crypto';
import { containerSpec } from '../src/activities/container-spec.js';
import { BENCH_IMAGE, BENCH_LABEL, BENCH_TEMPLATE } from './lib/raw.js';
import { summarize, timed } from './lib/stats.js';
import type { Metric } from './lib/types.js';
import type { Ctx, ScenarioOutput } from './scenarios.js';

const WRITE_1MB = ['/bin/sh', '-c', 'head -c 1048576 /dev/zero > /tmp/bench.bin'];

function additive(id: string, label: string, berth: number[], floor: number[], addMs: number): Metric {
  const b = summarize(berth);
  const f = summarize(floor);
  const ratio = f.p50 > 0 ? Math.round((b.p50 / f.p50) * 1000) / 1000 : null;
  return { id, label, unit: 'ms', berth: b, floor: f, ratio, target: `p50 ≤ floor + ${addMs} ms`, met: b.p50 <= f.p50 + addMs };
}

function ratio(id: string, label: string, berth: number[], floor: number[], factor: number): Metric {
  const b = summarize(berth);
  const f = summarize(floor);
  const r = f.p50 > 0 ? Math.round((b.p50 / f.p50) * 1000) / 1000 : null;
  return { id, label, unit: 'ms', berth: b, floor: f, ratio: r, target: `p50 ≤ ${factor}× floor`, met: r === null ? null : r <= factor };
}

async function ok<T extends { status: number; body: unknown }>(label: string, p: Promise<T>): Promise<T> {
  const res = await p;
  if (res.status >= 300) throw new Error(`${label} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res;
}

/** docker create + start with berth's spec for `tiny`, without a network; answers the name. */
async function rawContainer(ctx: Ctx, image: string): Promise<string> {
  const name = `bench-raw-${randomBytes(8).toString('hex')}`;
  const spec = containerSpec(
    { sandboxID: name, owner: ctx.raw.owner, templateID: BENCH_TEMPLATE, image, resources: { cpu: 0.5, memoryMB: 64 } },
    { pidsLimit: 512, envs: {}, networkName: 'none', blockedCidrs: [] },
  );
  spec.Labels = { ...spec.Labels, [BENCH_LABEL]: ctx.raw.runId };
  await (await ctx.docker.createContainer(spec)).start();
  return name;
}

export async function snapshotScenario(ctx: Ctx): Promise<ScenarioOutput> {
  if (!ctx.dataPlane) return { metrics: [], details: {}, skipped: 'skipped: data plane not available' };
  const { docker, raw, stack } = ctx;
  const t = { take: [] as number[], commit: [] as number[], boot: [] as number[], createStart: [] as number[], create: [] as number[] };
  const sizes: number[] = [];
  const sandboxes: string[] = [];
  const containers: string[] = [];
  const images: string[] = [];
  const source = await ok('create', stack.call('POST', '/sandboxes?wait=true', { templateID: BENCH_TEMPLATE, timeout: 600 }));
  const id = (source.body as { sandboxID: string }).sandboxID;
  sandboxes.push(id);
  const rawSource = await rawContainer(ctx, BENCH_IMAGE);
  containers.push(rawSource);
  try {
    await ok('write', stack.call('POST', `/sandboxes/${id}/commands`, { cmd: WRITE_1MB }));
    await raw.exec(rawSource, WRITE_1MB);
    const rounds = ctx.sizes.snapshotN + 1; // the first round warms up and is not counted
    for (let i = 0; i < rounds; i++) {
      const counted = i > 0;
      // Floor: docker commit (paused for the commit, like berth), then create + start from the image.
      const repo = `berth-bench-snap/${randomBytes(6).toString('hex')}`;
      const commit = await timed(() =>
        docker.getContainer(rawSource).commit({ _query: { container: rawSource, repo, tag: 'latest', pause: true, changes: [`LABEL ${BENCH_LABEL}=${raw.runId}`] }, _body: {} }),
      );
      images.push(`${repo}:latest`);
      const createStart = await timed(() => rawContainer(ctx, `${repo}:latest`));
      const name = createStart.value;
      containers.push(name);

      // berth: the snapshot update, then a create from the snapshot.
      const take = await timed(() => ok('snapshot', stack.call('POST', `/sandboxes/${id}/snapshots`)));
      const snap = take.value.body as { snapshotID: string; sizeBytes: number };
      const boot = await timed(() => ok('boot from snapshot', stack.call('POST', '/sandboxes?wait=true', { templateID: snap.snapshotID, timeout: 600 })));
      const bootedID = (boot.value.body as { sandboxID: string }).sandboxID;
      // berth's own create of the template, for what booting from a snapshot adds to it.
      const plain = await timed(() => ok('create', stack.call('POST', '/sandboxes?wait=true', { templateID: BENCH_TEMPLATE, timeout: 600 })));
      await stack.call('DELETE', `/sandboxes/${(plain.value.body as { sandboxID: string }).sandboxID}`);
      if (counted) {
        t.commit.push(commit.ms);
        t.createStart.push(createStart.ms);
        t.take.push(take.ms);
        t.boot.push(boot.ms);
        t.create.push(plain.ms);
        sizes.push(snap.sizeBytes);
      }
      // Clean up the round: the booted sandbox, then its snapshot (409 while it lives).
      await stack.call('DELETE', `/sandboxes/${bootedID}`);
      await ok('delete snapshot', stack.call('DELETE', `/snapshots/${snap.snapshotID}`));
      await raw.remove(name).catch(() => undefined);
      containers.splice(containers.indexOf(name), 1);
    }
  } finally {
    await Promise.all(sandboxes.map((s) => stack.call('DELETE', `/sandboxes/${s}`).catch(() => undefined)));
    await Promise.all(containers.map((c) => raw.remove(c).catch(() => undefined)));
    await Promise.all(images.map((img) => docker.getImage(img).remove({ force: true }).catch(() => undefined)));
  }
  return {
    metrics: [
      additive('snapshot', 'snapshot (API) vs docker commit', t.take, t.commit, 100),
      // The create scenario's target; this floor has no network (berth attaches one and installs its rules).
      ratio('boot', 'boot from snapshot (API) vs create + start of the image', t.boot, t.createStart, 1.15),
      additive('bootVsCreate', 'boot from snapshot vs create from its template (both berth)', t.boot, t.create, 100),
    ],
    details: { snapshotSizeBytes: sizes },
  };
}
