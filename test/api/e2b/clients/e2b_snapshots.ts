/**
 * Snapshots with the real `e2b` npm SDK against berth (run by snapshots.test.ts with `node --import tsx`).
 * Env: E2B_API_URL, E2B_API_KEY, E2B_SANDBOX_URL, BERTH_E2B_JS_DIR. Prints one JSON line.
 */
import { loadE2B } from './load-e2b.js';

const { Sandbox } = loadE2B();

async function main() {
  const out: Record<string, unknown> = {};
  const src = await Sandbox.create('base', { timeoutMs: 120_000 });
  await src.commands.run('echo from-js > /home/user/kept.txt');
  const snap = await src.createSnapshot();
  out.snapshotId = snap.snapshotId;
  out.listedOfSandbox = (await src.listSnapshots().nextItems()).map((s: { snapshotId: string }) => s.snapshotId);
  await src.kill();
  const booted = await Sandbox.create(snap.snapshotId, { timeoutMs: 120_000 });
  try {
    out.bootedFile = (await booted.commands.run('cat /home/user/kept.txt')).stdout;
  } finally {
    await booted.kill();
  }
  out.delete = await Sandbox.deleteSnapshot(snap.snapshotId);
  out.deleteAgain = await Sandbox.deleteSnapshot(snap.snapshotId);
  console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
