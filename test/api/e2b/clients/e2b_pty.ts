/** pty flow with the real `e2b` npm SDK against berth's envd (run by envd-sdk.test.ts). Prints one JSON line. */
import { loadE2B } from './load-e2b.js';

const { Sandbox } = loadE2B();

async function main() {
  const out: Record<string, unknown> = {};
  const sbx = await Sandbox.create('base', { timeoutMs: 300_000 });
  try {
    const decoder = new TextDecoder();
    let text = '';
    const term = await sbx.pty.create({ cols: 80, rows: 24, onData: (d: Uint8Array) => (text += decoder.decode(d, { stream: true })) });
    await sbx.pty.sendInput(term.pid, new TextEncoder().encode('echo $((6*7)); stty size\n'));
    for (let i = 0; i < 40 && !text.includes('24 80'); i++) await new Promise((r) => setTimeout(r, 250));
    await sbx.pty.resize(term.pid, { cols: 100, rows: 30 });
    await sbx.pty.sendInput(term.pid, new TextEncoder().encode('stty size; exit 4\n'));
    const result = await term.wait().catch((e: { exitCode?: number }) => ({ exitCode: e.exitCode }));
    out.output = text;
    out.exitCode = result.exitCode;
    const term2 = await sbx.pty.create({ cols: 80, rows: 24, onData: () => undefined });
    out.kill = await sbx.pty.kill(term2.pid);
  } finally {
    out.killed = await sbx.kill();
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
