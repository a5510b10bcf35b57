/**
 * envd flow with the real `e2b` npm SDK against berth (run by envd-sdk.test.ts). Env: E2B_API_URL,
 * E2B_API_KEY, E2B_SANDBOX_URL, BERTH_E2B_JS_DIR. Prints one JSON line.
 */
import { loadE2B } from './load-e2b.js';

const { Sandbox, CommandExitError } = loadE2B();

async function main() {
  const out: Record<string, unknown> = {};
  const sbx = await Sandbox.create('base', { timeoutMs: 300_000, envs: { GREETING: 'hello' } });
  out.sandboxId = sbx.sandboxId;
  try {
    const streamed: string[] = [];
    const streamedErr: string[] = [];
    const r = await sbx.commands.run('echo $GREETING; echo oops >&2; whoami', { onStdout: (d: string) => streamed.push(d), onStderr: (d: string) => streamedErr.push(d) });
    out.run = { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, streamed: streamed.join(''), streamedErr: streamedErr.join('') };
    try {
      await sbx.commands.run('exit 5');
      out.exit5 = null;
    } catch (e) {
      out.exit5 = e instanceof CommandExitError ? (e as { exitCode: number }).exitCode : String(e);
    }
    const bg = await sbx.commands.run('for i in 1 2; do echo bg$i; sleep 0.3; done', { background: true });
    out.bgListed = (await sbx.commands.list()).some((p: { pid: number }) => p.pid === bg.pid);
    out.bgStdout = (await bg.wait()).stdout;
    const h = await sbx.commands.run('read line; echo got:$line', { background: true, stdin: true });
    await sbx.commands.sendStdin(h.pid, 'js stdin\n');
    out.stdin = (await h.wait()).stdout;
    const sleeper = await sbx.commands.run('sleep 60', { background: true });
    out.kill = await sbx.commands.kill(sleeper.pid);

    const w = await sbx.files.write('/home/user/js/a.txt', 'alpha');
    out.write = { name: w.name, path: w.path, type: w.type };
    out.read = await sbx.files.read('/home/user/js/a.txt');
    out.makeDir = await sbx.files.makeDir('/home/user/js/sub');
    out.makeDirAgain = await sbx.files.makeDir('/home/user/js/sub');
    out.list = (await sbx.files.list('/home/user/js')).map((e: { name: string; type: string; path: string }) => [e.name, e.type, e.path]).sort();
    out.rename = (await sbx.files.rename('/home/user/js/a.txt', '/home/user/js/b.txt')).path;
    await sbx.files.remove('/home/user/js/b.txt');
    out.existsRemoved = await sbx.files.exists('/home/user/js/b.txt');
    const events: Array<[string, string]> = [];
    const handle = await sbx.files.watchDir('/home/user/js', (e: { name: string; type: string }) => events.push([e.name, e.type]));
    await sbx.files.write('/home/user/js/watched.txt', 'x');
    for (let i = 0; i < 40 && !events.some(([n]) => n === 'watched.txt'); i++) await new Promise((r) => setTimeout(r, 250));
    await handle.stop();
    out.watch = events;
  } finally {
    out.killed = await sbx.kill();
  }
  console.log(JSON.stringify(out));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
