/**
 * Files inside a sandbox, through the Docker exec API with POSIX sh and busybox-level tools
 * only (stat, find, mkdir, mv, rm, chmod, chown, cat, tail, head). Paths are arguments, never
 * spliced into a script. Content streams through exec stdin/stdout: nothing is buffered whole.
 * Everything runs inside the container's own mount namespace, so nothing on the host is reachable.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { collect, execCollect, ROOT, startExec } from './exec.js';

/** One file system entry. */
export interface EntryInfo {
  path: string;
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  /** Permission bits as octal text, e.g. `"644"`. */
  mode: string;
  uid: number;
  gid: number;
  owner: string;
  group: string;
  modifiedAt: string;
}

/** Attributes applied to a written file or a created folder. */
export interface FileAttributes {
  mode?: string;
  owner?: string;
  group?: string;
}

// Exit codes of the helper scripts, mapped to HTTP errors by `check`.
const E_MISSING = 44;
const E_IS_DIR = 45;
const E_NOT_DIR = 46;
const E_NOT_EMPTY = 47;
const E_EXISTS = 48;

const STAT_FORMAT = '%s %f %u %g %Y %U %G %n';
const STAT_LINE = /^(\d+) ([0-9a-f]+) (\d+) (\d+) (\d+) (\S+) (\S+) (.*)$/;

// $1 = "-L" to follow symlinks, or "-" not to; then the paths.
const STAT = `l=$1; shift; [ "$l" = - ] && l=
for p do
  if [ -e "$p" ] || [ -L "$p" ]; then stat $l -c '${STAT_FORMAT}' "$p" 2>/dev/null || printf '? %s\\n' "$p"; else printf '? %s\\n' "$p"; fi
done`;

const LIST = `[ -e "$1" ] || exit ${E_MISSING}; [ -d "$1" ] || exit ${E_NOT_DIR}
find "$1" -mindepth 1 -maxdepth "$2" -exec stat -c '${STAT_FORMAT}' {} + 2>/dev/null | head -n "$3"; exit 0`;

const SEARCH = `[ -e "$1" ] || exit ${E_MISSING}; [ -d "$1" ] || exit ${E_NOT_DIR}
find "$1" -mindepth 1 -maxdepth "$3" -name "$2" -exec stat -c '${STAT_FORMAT}' {} + 2>/dev/null | head -n "$4"; exit 0`;

// Always bounded by a length, so a file that grows (or a device) cannot stream forever.
const READ = `[ -e "$1" ] || exit ${E_MISSING}; [ -d "$1" ] && exit ${E_IS_DIR}
if [ "$2" = 0 ]; then exec head -c "$3" "$1"; fi
tail -c +$(($2 + 1)) "$1" | head -c "$3"`;

// Upload, phase 1: stream stdin into a temporary file next to the target.
const UPLOAD = `p=$1; tmp=$2
[ -d "$p" ] && { echo "$p is a directory" >&2; exit ${E_IS_DIR}; }
d=$(dirname "$p"); mkdir -p "$d" || exit ${E_NOT_DIR}
cat > "$tmp"`;

// Upload, phase 2: keep an existing file's mode and owner unless told otherwise, then rename.
const COMMIT = `p=$1; tmp=$2; mode=$3; own=$4
if [ -e "$p" ]; then chmod "$(stat -c %a "$p")" "$tmp"; chown "$(stat -c %u:%g "$p")" "$tmp"; fi
[ -n "$mode" ] && { chmod "$mode" "$tmp" || { rm -f "$tmp"; exit 1; }; }
[ -n "$own" ] && { chown "$own" "$tmp" || { rm -f "$tmp"; exit 1; }; }
mv -f "$tmp" "$p"`;

const DISCARD = 'rm -f "$1"';

const MKDIR = `p=$1; mode=$2; own=$3
[ -e "$p" ] && [ ! -d "$p" ] && exit ${E_EXISTS}
mkdir -p "$p" || exit 1
[ -n "$mode" ] && { chmod "$mode" "$p" || exit 1; }
[ -n "$own" ] && { chown "$own" "$p" || exit 1; }
exit 0`;

const REMOVE = `[ -e "$1" ] || [ -L "$1" ] || exit ${E_MISSING}
if [ -d "$1" ] && [ ! -L "$1" ]; then
  if [ "$2" = 1 ]; then rm -rf "$1"; else rmdir "$1" 2>/dev/null || exit ${E_NOT_EMPTY}; fi
else rm -f "$1"; fi`;

const MOVE = `[ -e "$1" ] || [ -L "$1" ] || exit ${E_MISSING}
[ -e "$2" ] && [ "$3" != 1 ] && exit ${E_EXISTS}
mkdir -p "$(dirname "$2")" && mv -f "$1" "$2"`;

const CHMOD = `p=$1; mode=$2; own=$3; r=
[ -e "$p" ] || [ -L "$p" ] || exit ${E_MISSING}
[ "$4" = 1 ] && r=-R
[ -n "$mode" ] && { chmod $r "$mode" "$p" || exit 1; }
[ -n "$own" ] && { chown $r "$own" "$p" || exit 1; }
exit 0`;

/** File operations on sandboxes. Every method takes validated absolute paths (see `sandboxPath`). */
export class FileOps {
  constructor(
    private readonly docker: Docker,
    private readonly limits: { listEntriesCap: number; fileEditCapBytes: number },
  ) {}

  /** Info about each path; `null` for a missing one. */
  async stat(sandboxID: string, paths: string[], followLinks = false): Promise<Record<string, EntryInfo | null>> {
    const res = await this.run(sandboxID, STAT, [followLinks ? '-L' : '-', ...paths]);
    const out: Record<string, EntryInfo | null> = {};
    const lines = res.stdout.toString('utf8').split('\n');
    let i = 0;
    for (const p of paths) {
      const line = lines[i++] ?? '';
      out[p] = line.startsWith('? ') ? null : parseStatLine(line);
    }
    return out;
  }

  /** One entry; 404 when missing. With `followLinks`, a symlink is described by its target (404 when dangling). */
  async info(sandboxID: string, path: string, followLinks = false): Promise<EntryInfo> {
    const entry = (await this.stat(sandboxID, [path], followLinks))[path];
    if (!entry) throw new NotFoundError(`${path} does not exist`);
    return entry;
  }

  /** The entries under a folder, up to `depth` levels (1 = direct children). */
  async list(sandboxID: string, path: string, depth: number): Promise<{ entries: EntryInfo[]; truncated: boolean }> {
    const cap = this.limits.listEntriesCap;
    const res = await this.run(sandboxID, LIST, [path, String(depth), String(cap + 1)]);
    check(res, path);
    return capEntries(parseStatLines(res.stdout), cap);
  }

  /** Entries under `path` whose name matches the glob `pattern` (find -name). */
  async search(sandboxID: string, path: string, pattern: string, depth: number): Promise<{ entries: EntryInfo[]; truncated: boolean }> {
    const cap = this.limits.listEntriesCap;
    const res = await this.run(sandboxID, SEARCH, [path, pattern, String(depth), String(cap + 1)]);
    check(res, path);
    return capEntries(parseStatLines(res.stdout), cap);
  }

  /**
   * Streams a file (or `length` bytes from `offset`). Resolves once the stream is open;
   * `done` rejects with 404/400 when the file is missing or a folder; `cancel` stops reading.
   */
  async read(sandboxID: string, path: string, offset: number, length: number): Promise<{ stream: Readable; done: Promise<void>; cancel: () => void }> {
    const handle = await startExec(this.docker, sandboxID, {
      cmd: ['/bin/sh', '-c', READ, 'berth', path, String(offset), String(length)],
      user: ROOT,
    });
    const stderr = collect(handle.stderr, 64 * 1024);
    const done = handle.exit.then(async (exitCode) => {
      check({ exitCode, stderr: (await stderr).data.toString('utf8') }, path);
    });
    done.catch(() => undefined);
    return { stream: handle.stdout, done, cancel: handle.detach };
  }

  /** Reads a whole file into memory, refusing files above the edit cap (413). */
  async readSmall(sandboxID: string, path: string): Promise<Buffer> {
    const entry = await this.info(sandboxID, path, true);
    if (entry.type !== 'file') throw new InvalidArgumentError(`${path} is not a regular file (${entry.type})`);
    if (entry.size > this.limits.fileEditCapBytes) {
      throw new InvalidArgumentError(`${path} is ${entry.size} bytes; in-place edits are limited to ${this.limits.fileEditCapBytes} bytes`, 'payload_too_large');
    }
    const { stream, done } = await this.read(sandboxID, path, 0, entry.size);
    const data = await collect(stream, this.limits.fileEditCapBytes);
    await done;
    return data.data;
  }

  /**
   * Writes `content` to `path` (parents created). The bytes stream into a temporary file that
   * is renamed over the target only once all arrived, so an aborted upload leaves nothing
   * behind. An existing file keeps its mode and owner unless `attrs` say otherwise.
   */
  async write(sandboxID: string, path: string, content: Readable | Buffer, attrs: FileAttributes = {}): Promise<EntryInfo> {
    const tmp = posix.join(posix.dirname(path), `.berth-upload-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
    let aborted = false;
    if (!Buffer.isBuffer(content)) {
      content.once('aborted', () => (aborted = true));
      content.once('error', () => (aborted = true));
    }
    const upload = await this.run(sandboxID, UPLOAD, [path, tmp], content);
    const incomplete = aborted || (!Buffer.isBuffer(content) && (content as Readable & { complete?: boolean }).complete === false);
    if (upload.exitCode !== 0 || incomplete) {
      await this.run(sandboxID, DISCARD, [tmp]);
      if (incomplete) throw new InvalidArgumentError('upload aborted before the whole body arrived; nothing was written');
      check(upload, path);
    }
    check(await this.run(sandboxID, COMMIT, [path, tmp, attrs.mode ?? '', ownerSpec(attrs)]), path);
    return this.info(sandboxID, path);
  }

  /** Creates a folder and its parents (like `mkdir -p`). */
  async mkdir(sandboxID: string, path: string, attrs: FileAttributes = {}): Promise<EntryInfo> {
    check(await this.run(sandboxID, MKDIR, [path, attrs.mode ?? '', ownerSpec(attrs)]), path);
    return this.info(sandboxID, path);
  }

  /** Deletes a file, or a folder (`recursive` for a non-empty one). */
  async remove(sandboxID: string, path: string, recursive: boolean): Promise<void> {
    if (path === '/') throw new InvalidArgumentError('refusing to delete /');
    check(await this.run(sandboxID, REMOVE, [path, recursive ? '1' : '0']), path);
  }

  /** Moves or renames; the destination's parents are created. */
  async move(sandboxID: string, source: string, destination: string, overwrite: boolean): Promise<EntryInfo> {
    check(await this.run(sandboxID, MOVE, [source, destination, overwrite ? '1' : '0']), source, destination);
    return this.info(sandboxID, destination);
  }

  /** Sets mode and/or owner. */
  async chmod(sandboxID: string, path: string, attrs: FileAttributes, recursive: boolean): Promise<EntryInfo> {
    check(await this.run(sandboxID, CHMOD, [path, attrs.mode ?? '', ownerSpec(attrs), recursive ? '1' : '0']), path);
    return this.info(sandboxID, path);
  }

  private async run(sandboxID: string, script: string, args: string[], stdin?: Readable | Buffer) {
    return execCollect(this.docker, sandboxID, { cmd: ['/bin/sh', '-c', script, 'berth', ...args], user: ROOT, ...(stdin ? { stdin } : {}) });
  }
}

function ownerSpec(attrs: FileAttributes): string {
  if (attrs.owner && attrs.group) return `${attrs.owner}:${attrs.group}`;
  if (attrs.owner) return attrs.owner;
  if (attrs.group) return `:${attrs.group}`;
  return '';
}

function check(res: { exitCode: number; stderr: string }, path: string, other?: string): void {
  switch (res.exitCode) {
    case 0:
      return;
    case E_MISSING:
      throw new NotFoundError(`${path} does not exist`);
    case E_IS_DIR:
      throw new InvalidArgumentError(`${path} is a directory`);
    case E_NOT_DIR:
      throw new InvalidArgumentError(`${path} is not a directory (or a parent is a file)`);
    case E_NOT_EMPTY:
      throw new ConflictError(`${path} is a non-empty directory: pass recursive=true to delete it with its contents`);
    case E_EXISTS:
      throw new ConflictError(`${other ?? path} already exists${other ? ': pass overwrite=true to replace it' : ' and is not a directory'}`);
    default:
      throw new InvalidArgumentError(`operation on ${path} failed: ${res.stderr.trim() || `exit code ${res.exitCode}`}`, 'operation_failed');
  }
}

/** Parses one `stat -c '%s %f %u %g %Y %U %G %n'` line. */
export function parseStatLine(line: string): EntryInfo | null {
  const m = STAT_LINE.exec(line);
  if (!m) return null;
  const raw = Number.parseInt(m[2] ?? '0', 16);
  const kind = raw & 0o170000;
  const type = kind === 0o040000 ? 'dir' : kind === 0o100000 ? 'file' : kind === 0o120000 ? 'symlink' : 'other';
  const path = m[8] ?? '';
  return {
    path,
    name: posix.basename(path) || '/',
    type,
    size: Number(m[1]),
    mode: (raw & 0o7777).toString(8),
    uid: Number(m[3]),
    gid: Number(m[4]),
    owner: m[6] ?? '',
    group: m[7] ?? '',
    modifiedAt: new Date(Number(m[5]) * 1000).toISOString(),
  };
}

/** Parses many stat lines; lines that do not parse (names with newlines) are skipped. */
export function parseStatLines(out: Buffer): EntryInfo[] {
  return out
    .toString('utf8')
    .split('\n')
    .map(parseStatLine)
    .filter((e): e is EntryInfo => e !== null);
}

function capEntries(entries: EntryInfo[], cap: number): { entries: EntryInfo[]; truncated: boolean } {
  entries.sort((a, b) => a.path.localeCompare(b.path));
  return { entries: entries.slice(0, cap), truncated: entries.length > cap };
}
