/** Data-plane commands: exec (exit code passes through), logs, cp (with progress on a TTY). */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { CommandExitError } from '../errors.js';
import { Sandbox } from '../sandbox.js';
import { durationMs, flag, option, options, pairs, UsageError, type ParsedArgs } from './args.js';
import { printJson, type CliContext } from './context.js';
import { Progress } from './output.js';

export const execSpec = { cwd: 'string', user: 'string', env: 'list', timeout: 'string', background: 'boolean', stdin: 'boolean' } as const;

async function readAll(stream: NodeJS.ReadStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * `berth exec ID CMD…`: one argument is a shell string (`sh -c`), several are an argv run as is.
 * Output streams to this terminal; the exit code is the remote command's.
 */
export async function exec(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id, ...cmdArgs] = args.positionals;
  if (!id || !cmdArgs.length) throw new UsageError("usage: berth exec [options] ID CMD…   (one argument: shell string, e.g. 'ls | wc -l'; several: argv)");
  const cmd = cmdArgs.length === 1 ? (cmdArgs[0] ?? '') : cmdArgs;
  const timeout = option(args, 'timeout');
  const cwd = option(args, 'cwd');
  const user = option(args, 'user');
  const sbx = Sandbox.ref(id, ctx.conn);
  const common = {
    envs: pairs(options(args, 'env'), '--env'),
    ...(cwd !== undefined ? { cwd } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(timeout !== undefined ? { timeoutMs: durationMs(timeout, '--timeout') } : {}),
    ...(flag(args, 'stdin') ? { stdin: await readAll(ctx.stdin) } : {}),
    signal: ctx.signal,
  };
  if (flag(args, 'background')) {
    const handle = await sbx.commands.run(cmd, { ...common, background: true });
    if (ctx.json) printJson(ctx, await handle.status());
    else ctx.stdout.write(`${handle.cmdID}\n`);
    return 0;
  }
  try {
    if (ctx.json) {
      printJson(ctx, await sbx.commands.run(cmd, common));
    } else {
      await sbx.commands.run(cmd, { ...common, onStdout: (d) => void ctx.stdout.write(d), onStderr: (d) => void ctx.stderr.write(d) });
    }
    return 0;
  } catch (err) {
    if (!(err instanceof CommandExitError)) throw err;
    if (ctx.json) printJson(ctx, { exitCode: err.exitCode, stdout: err.stdout, stderr: err.stderr, timedOut: err.timedOut });
    else if (err.timedOut) ctx.stderr.write(`berth: the command timed out and was killed\n`);
    return err.exitCode;
  }
}

export const logsSpec = { follow: 'boolean' } as const;

/** `berth logs ID CMDID [--follow]`: output of a background command (follow: until it exits, with its exit code). */
export async function logs(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id, cmdID, ...rest] = args.positionals;
  if (!id || !cmdID || rest.length) throw new UsageError('usage: berth logs ID CMDID [--follow]');
  const sbx = Sandbox.ref(id, ctx.conn);
  const live = flag(args, 'follow') && !ctx.json;
  const handle = await sbx.commands.connect(cmdID, {
    signal: ctx.signal,
    ...(live ? { onStdout: (d: string) => void ctx.stdout.write(d), onStderr: (d: string) => void ctx.stderr.write(d) } : {}),
  });
  if (flag(args, 'follow')) {
    try {
      const result = await handle.wait({ signal: ctx.signal });
      if (ctx.json) printJson(ctx, result);
      return 0;
    } catch (err) {
      if (!(err instanceof CommandExitError)) throw err;
      if (ctx.json) printJson(ctx, { exitCode: err.exitCode, stdout: err.stdout, stderr: err.stderr, timedOut: err.timedOut });
      return err.exitCode;
    }
  }
  const read = await handle.logs({ signal: ctx.signal });
  if (ctx.json) printJson(ctx, read);
  else {
    ctx.stdout.write(read.stdout);
    ctx.stderr.write(read.stderr);
  }
  return 0;
}

const REMOTE = /^([A-Za-z0-9_-]+):(\/.*)$/;

/** `berth cp SRC DST`: one side is `ID:/absolute/path`, the other a local path (or `-` for stdin/stdout). */
export async function cp(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [src, dst, ...rest] = args.positionals;
  if (!src || !dst || rest.length) throw new UsageError('usage: berth cp SRC DST   (ID:/path to or from a local path; - is stdin/stdout)');
  const from = REMOTE.exec(src);
  const to = REMOTE.exec(dst);
  if (!!from === !!to) throw new UsageError('berth cp copies between this machine and a sandbox: exactly one side is ID:/path');
  if (to) {
    const [, id = '', remote = ''] = to;
    const target = remote.endsWith('/') ? `${remote}${src === '-' ? 'stdin' : path.basename(src)}` : remote;
    const size = src === '-' ? undefined : statSync(src).size;
    const progress = new Progress(ctx.stderr, `${src} → ${id}:${target}`, size);
    const source = (src === '-' ? Readable.toWeb(ctx.stdin) : Readable.toWeb(createReadStream(src))) as ReadableStream<Uint8Array>;
    const entry = await Sandbox.ref(id, ctx.conn).files.write(target, source.pipeThrough(progress.counter()), { signal: ctx.signal });
    progress.finish();
    if (ctx.json) printJson(ctx, entry);
    return 0;
  }
  const [, id = '', remote = ''] = from ?? [];
  const download = await Sandbox.ref(id, ctx.conn).files.download(remote, { signal: ctx.signal });
  let target = dst;
  if (dst !== '-') {
    try {
      if (statSync(dst).isDirectory()) target = path.join(dst, path.posix.basename(remote));
    } catch {
      // a new file
    }
  }
  const progress = new Progress(ctx.stderr, `${id}:${remote} → ${target}`, download.size);
  const sink = dst === '-' ? Writable.toWeb(ctx.stdout) : Writable.toWeb(createWriteStream(target));
  await download.stream.pipeThrough(progress.counter()).pipeTo(sink as WritableStream<Uint8Array>);
  progress.finish();
  if (ctx.json && dst !== '-') printJson(ctx, { path: target, size: download.size });
  return 0;
}
