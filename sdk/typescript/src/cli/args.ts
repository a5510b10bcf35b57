/** A small argv parser: long flags (`--name value`, `--name=value`), repeatable flags, `--`. */

export type FlagKind = 'boolean' | 'string' | 'list';

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[] | true>;
}

/** The command line was wrong: print usage, exit 2. */
export class UsageError extends Error {}

/**
 * Parses `argv` against `spec` (flag name → kind; `-x` aliases map to names). Parsing stops at
 * `--` or, with `stopAfter`, once that many positionals were seen (the rest stays verbatim).
 */
export function parseArgs(argv: string[], spec: Record<string, FlagKind>, aliases: Record<string, string> = {}, stopAfter = Infinity): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string[] | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (positionals.length >= stopAfter || arg === '--') {
      positionals.push(...argv.slice(arg === '--' ? i + 1 : i));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const rawName = eq === -1 ? arg : arg.slice(0, eq);
    const name = aliases[rawName] ?? rawName.replace(/^--?/, '');
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option ${rawName}`);
    if (kind === 'boolean') {
      if (eq !== -1) throw new UsageError(`${rawName} takes no value`);
      flags.set(name, true);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) throw new UsageError(`${rawName} needs a value`);
    const prev = flags.get(name);
    flags.set(name, kind === 'list' && Array.isArray(prev) ? [...prev, value] : [value]);
  }
  return { positionals, flags };
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.flags.get(name) === true;
}

export function option(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return Array.isArray(v) ? v[0] : undefined;
}

export function options(args: ParsedArgs, name: string): string[] {
  const v = args.flags.get(name);
  return Array.isArray(v) ? v : [];
}

/** `k=v` pairs into a record. */
export function pairs(list: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`${what} must be KEY=VALUE, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** A duration: plain seconds, or with a unit `ms`, `s`, `m`, `h` (e.g. `90`, `90s`, `5m`). Returns milliseconds. */
export function durationMs(text: string | undefined, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec((text ?? '').trim());
  if (!m) throw new UsageError(`${what} must be a duration like 300, 90s, 5m or 1h, got "${text ?? ''}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000;
  const ms = Number(m[1]) * unit;
  if (ms <= 0) throw new UsageError(`${what} must be positive`);
  return ms;
}

/** A positive integer option. */
export function positiveInt(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${what} must be a positive integer, got "${text}"`);
  return Number(text);
}
