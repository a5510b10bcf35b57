/** The `berth` CLI entry: parses the command line, runs one command, sets the exit code. */
import { BerthError } from '../errors.js';
import { parseArgs, option, flag, UsageError, type FlagKind } from './args.js';
import { cliConnection } from './config.js';
import type { CliContext } from './context.js';
import { cp, exec, execSpec, logs, logsSpec } from './data.js';
import { create, createSpec, events, info, kill, ls, lsSpec, pause, refresh, resume, timeout } from './lifecycle.js';

const USAGE = `berth — drive berth sandboxes

usage: berth COMMAND [options]

  create [TEMPLATE]       create a sandbox (--template, --timeout 5m, --metadata K=V, --env K=V,
                          --cpu N, --memory-mb N, --on-timeout kill|pause, --timeout-mode idle|absolute,
                          --auto-resume, --no-wait, -q)
  ls                      list sandboxes (--status running,paused, --metadata K=V, --limit N)
  info ID                 show one sandbox
  exec ID CMD…            run a command; exit code is the command's (--cwd, --user, --env K=V,
                          --timeout 30s, --stdin, --background)
  logs ID CMDID           output of a background command (--follow)
  cp SRC DST              copy a file: ID:/path ↔ local path (- for stdin/stdout)
  pause ID | resume ID    freeze / thaw
  kill ID…                stop and destroy (exit 1 if one was already gone)
  events ID               transitions with reasons (also after stop)
  timeout ID DURATION     the sandbox ends DURATION from now (may shorten); 300, 90s, 5m, 1h
  refresh ID DURATION     keep it alive at least DURATION from now

global options: --json (machine output), --api-url URL, --api-key KEY, -h/--help
environment: BERTH_API_URL (default http://127.0.0.1:3000), BERTH_API_KEY (default .berth/dev-api-key of npm run up)
`;

type Run = (ctx: CliContext, args: ReturnType<typeof parseArgs>) => Promise<number>;
const global = { json: 'boolean', 'api-url': 'string', 'api-key': 'string', help: 'boolean' } as const;
const COMMANDS: Record<string, { spec: Record<string, FlagKind>; run: Run; aliases?: Record<string, string>; stopAfter?: number }> = {
  create: { spec: createSpec, run: create, aliases: { '-q': 'quiet' } },
  ls: { spec: lsSpec, run: ls },
  list: { spec: lsSpec, run: ls },
  info: { spec: {}, run: info },
  exec: { spec: execSpec, run: exec, stopAfter: 1 },
  logs: { spec: logsSpec, run: logs, aliases: { '-f': 'follow' } },
  cp: { spec: {}, run: cp },
  pause: { spec: {}, run: pause },
  resume: { spec: {}, run: resume },
  kill: { spec: {}, run: kill },
  events: { spec: {}, run: events },
  timeout: { spec: {}, run: timeout },
  refresh: { spec: {}, run: refresh },
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`berth: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    const args = parseArgs(rest, { ...global, ...command.spec }, { '-h': 'help', ...command.aliases }, command.stopAfter);
    if (flag(args, 'help')) {
      process.stdout.write(USAGE);
      return 0;
    }
    const ctx: CliContext = {
      conn: cliConnection({ apiUrl: option(args, 'api-url'), apiKey: option(args, 'api-key') }),
      json: flag(args, 'json'),
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      signal: abort.signal,
    };
    return await command.run(ctx, args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`berth ${name}: ${err.message}\n`);
      return 2;
    }
    if (abort.signal.aborted) return 130;
    if (err instanceof BerthError) {
      process.stderr.write(`berth ${name}: ${err.message}${err.status ? ` (${err.code}, HTTP ${err.status})` : ''}\n`);
      return 1;
    }
    process.stderr.write(`berth ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

process.exitCode = await main(process.argv.slice(2));
