/**
 * Control-plane flow with the real `e2b` npm SDK against berth (run by control-plane.test.ts
 * with `node --import tsx`). Env: E2B_API_URL, E2B_API_KEY, BERTH_E2B_JS_DIR (the folder whose
 * node_modules holds `e2b`). Prints one JSON line.
 */
import { loadE2B } from './load-e2b.js';

const { Sandbox } = loadE2B();

async function main() {
  const tag = process.argv[2];
  const out: Record<string, unknown> = {};
  const sbx = await Sandbox.create('base', { timeoutMs: 120_000, metadata: { suite: 'e2b-js', tag }, envs: { GREETING: 'hello' } });
  out.sandboxId = sbx.sandboxId;
  const info = await sbx.getInfo();
  out.info = { sandboxId: info.sandboxId, templateId: info.templateId, metadata: info.metadata, state: info.state, startedAt: info.startedAt.getTime(), endAt: info.endAt.getTime() };
  await sbx.setTimeout(60_000);
  out.endAtAfterSetTimeout = (await sbx.getInfo()).endAt.getTime();
  out.nowAfterSetTimeout = Date.now();
  out.pause = await sbx.pause();
  out.stateAfterPause = (await Sandbox.getInfo(sbx.sandboxId)).state;
  out.pauseAgain = await sbx.pause();
  const again = await Sandbox.connect(sbx.sandboxId);
  out.connectId = again.sandboxId;
  out.stateAfterConnect = (await again.getInfo()).state;
  const listed: { sandboxId: string }[] = [];
  const paginator = Sandbox.list({ query: { metadata: { tag } }, limit: 1 });
  while (paginator.hasNext) listed.push(...(await paginator.nextItems()));
  out.listed = listed.map((s) => s.sandboxId);
  out.listedPaused = (await Sandbox.list({ query: { metadata: { tag }, state: ['paused'] } }).nextItems()).map((s: { sandboxId: string }) => s.sandboxId);
  const metrics = await sbx.getMetrics();
  out.metrics = metrics.map((m: { cpuCount: number; memTotal: number }) => ({ cpuCount: m.cpuCount, memTotal: m.memTotal }));
  out.kill = await sbx.kill();
  out.killAgain = await sbx.kill();
  out.killById = await Sandbox.kill(sbx.sandboxId);
  try {
    await Sandbox.getInfo(sbx.sandboxId);
    out.getAfterKill = 'found';
  } catch (err) {
    out.getAfterKill = (err as Error).name;
  }
  console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
