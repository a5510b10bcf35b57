/** Lifecycle commands: create, ls, info, pause, resume, kill, events, timeout, refresh. */
import { Sandbox } from '../sandbox.js';
import type { SandboxInfo, SandboxStatus } from '../types.js';
import { durationMs, flag, option, options, pairs, positiveInt, UsageError, type ParsedArgs } from './args.js';
import { printJson, type CliContext } from './context.js';
import { keyValues, metadataText, table, withSpinner } from './output.js';

function one(args: ParsedArgs, usage: string): string {
  const [id, ...rest] = args.positionals;
  if (!id || rest.length) throw new UsageError(`usage: ${usage}`);
  return id;
}

function printInfo(ctx: CliContext, info: SandboxInfo): void {
  if (ctx.json) return printJson(ctx, info);
  ctx.stdout.write(
    keyValues([
      ['ID', info.sandboxID],
      ['TEMPLATE', info.templateID],
      ['STATUS', info.status],
      ['CREATED', info.createdAt],
      ['END AT', info.endAt ?? '-'],
      ['TIMEOUT', `${info.timeout}s`],
      ['LIFECYCLE', `onTimeout=${info.lifecycle.onTimeout} autoResume=${info.lifecycle.autoResume} timeoutMode=${info.timeoutMode}`],
      ['RESOURCES', `cpu=${info.resources.cpu} memoryMB=${info.resources.memoryMB}`],
      ['METADATA', metadataText(info.metadata) || '-'],
      ...(info.stopReason ? ([['STOP REASON', `${info.stopReason}${info.stopDetail ? ` (${info.stopDetail})` : ''}`]] as Array<[string, string]>) : []),
      ['HISTORY', info.historyURL],
    ]),
  );
}

export const createSpec = {
  template: 'string',
  timeout: 'string',
  metadata: 'list',
  env: 'list',
  cpu: 'string',
  'memory-mb': 'string',
  'on-timeout': 'string',
  'timeout-mode': 'string',
  'auto-resume': 'boolean',
  'no-wait': 'boolean',
  quiet: 'boolean',
} as const;

export async function create(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [positional, ...rest] = args.positionals;
  if (rest.length) throw new UsageError('usage: berth create [TEMPLATE] [options]');
  const onTimeout = option(args, 'on-timeout');
  if (onTimeout !== undefined && onTimeout !== 'kill' && onTimeout !== 'pause') throw new UsageError('--on-timeout is kill or pause');
  const timeoutMode = option(args, 'timeout-mode');
  if (timeoutMode !== undefined && timeoutMode !== 'idle' && timeoutMode !== 'absolute') throw new UsageError('--timeout-mode is idle or absolute');
  const cpu = option(args, 'cpu');
  if (cpu !== undefined && !(Number(cpu) > 0)) throw new UsageError('--cpu must be a positive number');
  const memoryMB = positiveInt(option(args, 'memory-mb'), '--memory-mb');
  const template = option(args, 'template') ?? positional;
  const timeout = option(args, 'timeout');
  const work = Sandbox.create({
    ...ctx.conn,
    signal: ctx.signal,
    ...(template ? { template } : {}),
    ...(timeout !== undefined ? { timeoutMs: durationMs(timeout, '--timeout') } : {}),
    metadata: pairs(options(args, 'metadata'), '--metadata'),
    envs: pairs(options(args, 'env'), '--env'),
    ...(timeoutMode ? { timeoutMode } : {}),
    ...(cpu !== undefined || memoryMB !== undefined ? { resources: { ...(cpu !== undefined ? { cpu: Number(cpu) } : {}), ...(memoryMB ? { memoryMB } : {}) } } : {}),
    ...(onTimeout !== undefined || flag(args, 'auto-resume')
      ? { lifecycle: { ...(onTimeout ? { onTimeout } : {}), ...(flag(args, 'auto-resume') ? { autoResume: true } : {}) } }
      : {}),
    wait: !flag(args, 'no-wait'),
  });
  const sbx = await withSpinner(ctx.stderr, `creating sandbox${template ? ` (${template})` : ''}`, work);
  if (flag(args, 'quiet')) ctx.stdout.write(`${sbx.sandboxID}\n`);
  else if (sbx.lastInfo) printInfo(ctx, sbx.lastInfo);
  return 0;
}

export const lsSpec = { status: 'list', metadata: 'list', limit: 'string' } as const;

export async function ls(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.positionals.length) throw new UsageError('usage: berth ls [--status S[,S]] [--metadata K=V]… [--limit N]');
  const status = options(args, 'status').flatMap((s) => s.split(',')).filter(Boolean) as SandboxStatus[];
  const limit = positiveInt(option(args, 'limit'), '--limit');
  const items = [];
  for await (const item of Sandbox.list({
    ...ctx.conn,
    signal: ctx.signal,
    ...(status.length ? { status } : {}),
    metadata: pairs(options(args, 'metadata'), '--metadata'),
    ...(limit !== undefined ? { limit: Math.min(limit, 1000) } : {}),
  }).items()) {
    items.push(item);
    if (limit !== undefined && items.length >= limit) break;
  }
  if (ctx.json) {
    printJson(ctx, items);
    return 0;
  }
  ctx.stdout.write(
    table(
      ['ID', 'TEMPLATE', 'STATUS', 'CREATED', 'STOP REASON', 'METADATA'],
      items.map((s) => [s.sandboxID, s.templateID ?? '-', s.status, s.createdAt, s.stopReason ?? '', metadataText(s.metadata)]),
    ),
  );
  return 0;
}

export async function info(ctx: CliContext, args: ParsedArgs): Promise<number> {
  printInfo(ctx, await Sandbox.getInfo(one(args, 'berth info ID'), { ...ctx.conn, signal: ctx.signal }));
  return 0;
}

export async function pause(ctx: CliContext, args: ParsedArgs): Promise<number> {
  printInfo(ctx, await Sandbox.ref(one(args, 'berth pause ID'), ctx.conn).pause({ signal: ctx.signal }));
  return 0;
}

export async function resume(ctx: CliContext, args: ParsedArgs): Promise<number> {
  printInfo(ctx, await Sandbox.ref(one(args, 'berth resume ID'), ctx.conn).resume({ signal: ctx.signal }));
  return 0;
}

export async function kill(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (!args.positionals.length) throw new UsageError('usage: berth kill ID [ID…]');
  let code = 0;
  const results = [];
  for (const id of args.positionals) {
    const killed = await Sandbox.kill(id, { ...ctx.conn, signal: ctx.signal });
    results.push({ sandboxID: id, killed });
    if (!killed) code = 1;
    if (!ctx.json) {
      if (killed) ctx.stdout.write(`killed ${id}\n`);
      else ctx.stderr.write(`berth: ${id} not found (already stopped, or never existed)\n`);
    }
  }
  if (ctx.json) printJson(ctx, results);
  return code;
}

export async function events(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const result = await Sandbox.ref(one(args, 'berth events ID'), ctx.conn).events({ signal: ctx.signal });
  if (ctx.json) printJson(ctx, result);
  else ctx.stdout.write(table(['AT', 'STATUS', 'REASON', 'DETAIL'], result.events.map((e) => [e.at, e.status, e.reason, e.detail ?? ''])));
  return 0;
}

function idAndDuration(args: ParsedArgs, usage: string): [string, number] {
  const [id, duration, ...rest] = args.positionals;
  if (!id || !duration || rest.length) throw new UsageError(`usage: ${usage}`);
  return [id, durationMs(duration, 'the duration')];
}

export async function timeout(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id, ms] = idAndDuration(args, 'berth timeout ID DURATION   (e.g. 300, 90s, 5m: the sandbox ends that long from now)');
  printInfo(ctx, await Sandbox.ref(id, ctx.conn).setTimeout(ms, { signal: ctx.signal }));
  return 0;
}

export async function refresh(ctx: CliContext, args: ParsedArgs): Promise<number> {
  const [id, ms] = idAndDuration(args, 'berth refresh ID DURATION   (keeps it alive at least that long from now)');
  printInfo(ctx, await Sandbox.ref(id, ctx.conn).refresh(ms, { signal: ctx.signal }));
  return 0;
}
