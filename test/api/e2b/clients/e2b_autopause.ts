/**
 * The e2b npm SDK's lifecycle: { onTimeout: 'pause', autoResume: true } with a 4 s timeout:
 * polls getInfo (which must not keep it alive) until it is paused, then connect resumes it.
 * Prints one JSON line.
 */
import { loadE2B } from './load-e2b.js';

const { Sandbox } = loadE2B();

async function main() {
  const sbx = await Sandbox.create('base', { timeoutMs: 4000, lifecycle: { onTimeout: 'pause', autoResume: true } });
  const out: Record<string, unknown> = { sandboxId: sbx.sandboxId, polls: 0 };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const info = await sbx.getInfo();
    out.polls = (out.polls as number) + 1;
    if (info.state === 'paused' || Date.now() > deadline) {
      out.stateSeen = info.state;
      break;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const again = await Sandbox.connect(sbx.sandboxId, { timeoutMs: 60_000 });
  out.stateAfterConnect = (await again.getInfo()).state;
  out.kill = await again.kill();
  console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
