/**
 * Volumes with the real `e2b` npm SDK against berth (run by volumes.test.ts with `node --import tsx`).
 * Env: E2B_API_URL, E2B_API_KEY, E2B_SANDBOX_URL, BERTH_E2B_JS_DIR. argv[2]: a volume name. Prints one JSON line.
 */
import { loadE2B } from './load-e2b.js';

const { Sandbox, Volume } = loadE2B();

async function main() {
  const name = process.argv[2] ?? '';
  const out: Record<string, unknown> = {};
  const vol = await Volume.create(name);
  out.created = { volumeId: vol.volumeId, name: vol.name };
  out.listed = (await Volume.list()).filter((v: { name: string }) => v.name === name);
  out.info = await Volume.getInfo(vol.volumeId);
  const writer = await Sandbox.create('base', { timeoutMs: 120_000, volumeMounts: { '/data': vol } });
  try {
    await writer.commands.run('echo from-js > /data/f');
  } finally {
    await writer.kill();
  }
  const reader = await Sandbox.create('base', { timeoutMs: 120_000, volumeMounts: { '/v': name } });
  try {
    out.readByLaterSandbox = (await reader.commands.run('cat /v/f')).stdout;
  } finally {
    await reader.kill();
  }
  out.destroy = await Volume.destroy(vol.volumeId);
  out.destroyAgain = await Volume.destroy(vol.volumeId);
  try {
    await Volume.getInfo(vol.volumeId);
    out.infoAfterDestroy = 'found';
  } catch (err) {
    out.infoAfterDestroy = (err as Error).name;
  }
  console.log(JSON.stringify(out));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
