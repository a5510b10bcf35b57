/** Pure helpers of the data plane: path validation, byte ranges, modes, log cursors. */
import path from 'node:path';
import { InvalidArgumentError } from '../errors.js';

/** Longest path accepted (Linux PATH_MAX). */
export const MAX_PATH_BYTES = 4096;

/** Longest name of one path component (Linux NAME_MAX). */
export const MAX_NAME_BYTES = 255;

/**
 * Validates a path inside a sandbox and returns it normalized. It must be absolute, free
 * of NUL bytes and at most {@link MAX_PATH_BYTES}; `..` segments are resolved lexically (they
 * can never climb above `/`). The path is only ever interpreted inside the container.
 * @throws InvalidArgumentError (400) otherwise.
 */
export function sandboxPath(raw: unknown, what = 'path'): string {
  if (typeof raw !== 'string' || raw.length === 0) throw new InvalidArgumentError(`${what} is required (an absolute path such as /home/user/file.txt)`);
  if (raw.includes('\0')) throw new InvalidArgumentError(`${what} must not contain NUL bytes`);
  // Legal on Linux, but berth's helpers read one entry per line: refused rather than misread.
  if (/[\n\r]/.test(raw)) throw new InvalidArgumentError(`${what} must not contain line breaks`);
  if (!raw.startsWith('/')) throw new InvalidArgumentError(`${what} must be absolute (start with /): got "${raw}"`);
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) throw new InvalidArgumentError(`${what} is longer than ${MAX_PATH_BYTES} bytes`);
  const tooLong = raw.split('/').find((name) => Buffer.byteLength(name) > MAX_NAME_BYTES);
  if (tooLong !== undefined) throw new InvalidArgumentError(`${what} has a component longer than ${MAX_NAME_BYTES} bytes: "${tooLong.slice(0, 40)}…"`);
  const normalized = path.posix.normalize(raw);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

/** A resolved byte range `[start, end]` (inclusive) of a file of known size. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses an HTTP `Range` header (`bytes=a-b`, `bytes=a-`, `bytes=-n`; one range only).
 * Returns `undefined` when there is no header, `'unsatisfiable'` when it cannot be served.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | undefined | 'unsatisfiable' {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) throw new InvalidArgumentError(`unsupported Range "${header}": use one range, e.g. bytes=0-1023`);
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

/** Parses a file mode given as octal text (`"755"`, `"0644"`) or a number written in octal digits. */
export function parseMode(raw: unknown): string {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw : '';
  if (!/^0?[0-7]{3,4}$/.test(text)) throw new InvalidArgumentError(`mode must be octal like "644" or "0755": got ${JSON.stringify(raw)}`);
  return text.replace(/^0(?=[0-7]{3,4}$)/, '') || '0';
}

/** A user or group name or numeric ID as `chown` accepts it. */
export function parseOwner(raw: unknown, what: string): string {
  if (typeof raw !== 'string' || !/^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31}$/.test(raw)) {
    throw new InvalidArgumentError(`${what} must be a user/group name or numeric ID: got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** Background-log cursor: byte offsets into stdout and stderr, written `"<out>.<err>"`. */
export interface LogCursor {
  stdout: number;
  stderr: number;
}

/** Parses a log cursor (empty → start of both streams). */
export function parseLogCursor(raw: unknown): LogCursor {
  if (raw === undefined || raw === '') return { stdout: 0, stderr: 0 };
  const m = typeof raw === 'string' ? /^(\d{1,15})\.(\d{1,15})$/.exec(raw) : null;
  if (!m) throw new InvalidArgumentError('cursor must be the "cursor" value a previous logs call returned (e.g. "0.0")');
  return { stdout: Number(m[1]), stderr: Number(m[2]) };
}

/** Formats a log cursor. */
export function formatLogCursor(cursor: LogCursor): string {
  return `${cursor.stdout}.${cursor.stderr}`;
}

/**
 * How many leading bytes of `data` end on a UTF-8 character boundary: an incomplete
 * multi-byte character at the end (a read cut in the middle of it) is left out, so text
 * reads can hold those bytes back for the next read instead of corrupting them.
 */
export function utf8CompleteLength(data: Buffer): number {
  const len = data.length;
  let i = len - 1;
  while (i >= 0 && i > len - 4 && ((data[i] ?? 0) & 0xc0) === 0x80) i--;
  if (i < 0) return len;
  const lead = data[i] ?? 0;
  const needed = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return len - i < needed ? i : len;
}

/**
 * A background-log read made safe for text: unless `final`, an incomplete UTF-8 character at
 * the end of either stream is held back and the cursor points at its first byte.
 */
export function trimLogsToUtf8(logs: { stdout: Buffer; stderr: Buffer }, from: LogCursor, final: boolean): { stdout: Buffer; stderr: Buffer; cursor: string } {
  const stdout = final ? logs.stdout : logs.stdout.subarray(0, utf8CompleteLength(logs.stdout));
  const stderr = final ? logs.stderr : logs.stderr.subarray(0, utf8CompleteLength(logs.stderr));
  return { stdout, stderr, cursor: formatLogCursor({ stdout: from.stdout + stdout.length, stderr: from.stderr + stderr.length }) };
}

/** Output encodings a client can ask for. */
export type OutputEncoding = 'utf8' | 'base64';

/** Encodes bytes for JSON: UTF-8 text (invalid sequences replaced) or base64 (exact bytes). */
export function encodeOutput(data: Buffer, encoding: OutputEncoding): string {
  return data.toString(encoding === 'base64' ? 'base64' : 'utf8');
}

/** Signals a client may send to a command. */
export const SIGNALS = ['TERM', 'KILL', 'INT', 'HUP', 'QUIT', 'USR1', 'USR2', 'STOP', 'CONT'] as const;
export type SignalName = (typeof SIGNALS)[number];

/** Normalizes `SIGTERM`, `term`, `TERM` → `TERM`; 400 for anything else. */
export function parseSignal(raw: unknown): SignalName {
  const name = typeof raw === 'string' ? raw.toUpperCase().replace(/^SIG/, '') : 'TERM';
  if (!(SIGNALS as readonly string[]).includes(name)) throw new InvalidArgumentError(`signal must be one of ${SIGNALS.join(', ')}`);
  return name as SignalName;
}
