/**
 * Files inside a sandbox. Metadata operations run through the Docker exec API with POSIX sh and
 * busybox-level tools only (stat, find, mkdir, mv, rm, chmod, chown, readlink). Paths are
 * arguments, never spliced into a script. File content goes through Docker's archive API
 * (a one-file tar made on the fly, see tar.ts), spooled in the API first (spool.ts); files
 * under /dev, /proc and /sys through exec. Everything is resolved inside the container, so
 * nothing on the host is reachable.
 */
import { posix } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import type Docker from 'dockerode';
import { BerthError, ConflictError, InsufficientStorageError, InvalidArgumentError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import { collect, execCollect, ROOT, startExec } from './exec.js';
import { agentAvailable, agentTargetFor } from './agent-route.js';
import { agentReadFile, agentWriteFile } from './agent-files.js';
import { dataPlaneError, PathMissingError } from '../docker/errors.js';
import type { Spool, Spooler } from './spool.js';
import { firstEntry, tarStream, type TarEntry } from './tar.js';

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
const E_DEST_NOT_EMPTY = 49;
const E_PARENT_IS_FILE = 50;
/** The sandbox's disk (or quota) is full (berth-agent's file writes, agent/files.go). */
const E_NO_SPACE = 51;

const STAT_FORMAT = '%s %f %u %g %Y %U %G %n';
const STAT_LINE = /^(\d+) ([0-9a-f]+) (\d+) (\d+) (\d+) (\S+) (\S+) (.*)$/;

// $1 = "-L" to follow symlinks, or "-" not to; then the paths.
const STAT = `l=$1; shift; [ "$l" = - ] && l=
for p do
  if [ -e "$p" ] || [ -L "$p" ]; then stat $l -c '${STAT_FORMAT}' "$p" 2>/dev/null || printf '? %s\\n' "$p"; else printf '? %s\\n' "$p"; fi
done`;

// A starting folder that is a symlink (/bin on merged-/usr systems) is listed through the link.
const LIST = `[ -e "$1" ] || exit ${E_MISSING}; [ -d "$1" ] || exit ${E_NOT_DIR}
s=$1; [ -L "$s" ] && s="$s/"
find "$s" -mindepth 1 -maxdepth "$2" -exec stat -c '${STAT_FORMAT}' {} + 2>/dev/null | head -n "$3"; exit 0`;

const SEARCH = `[ -e "$1" ] || exit ${E_MISSING}; [ -d "$1" ] || exit ${E_NOT_DIR}
s=$1; [ -L "$s" ] && s="$s/"
find "$s" -mindepth 1 -maxdepth "$3" -name "$2" -exec stat -c '${STAT_FORMAT}' {} + 2>/dev/null | head -n "$4"; exit 0`;

// Always bounded by a length, so a file that grows (or a device) cannot stream forever.
const READ = `[ -e "$1" ] || exit ${E_MISSING}; [ -d "$1" ] && exit ${E_IS_DIR}
if [ "$2" = 0 ]; then exec head -c "$3" "$1"; fi
tail -c +$(($2 + 1)) "$1" | head -c "$3"`;

/** Ranges starting further into a file than this are read by exec (seek) instead of skipped in the archive stream. */
const ARCHIVE_SKIP_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * Reads larger than this stream through exec (no container lock, first byte at once) instead
 * of being spooled from the archive API (which would first copy them whole to the API's disk).
 */
const ARCHIVE_READ_MAX_BYTES = 256 * 1024 * 1024;

// Kernel and runtime mounts the archive API does not see (it works on the image's rootfs and
// volumes): files there are read and written through exec.
const EXEC_ONLY = /^\/(dev|proc|sys)(\/|$)/;

// Upload through exec (paths the archive API does not see), phase 1: stream exec stdin into a
// temporary file next to the target.
const UPLOAD = `p=$1; tmp=$2
[ -d "$p" ] && { echo "$p is a directory" >&2; exit ${E_IS_DIR}; }
d=$(dirname "$p"); mkdir -p "$d" || exit ${E_NOT_DIR}
cat > "$tmp"`;

// Upload, phase 2: keep an existing file's mode and owner unless told otherwise, rename, and
// describe the result (saves a stat exec).
// A symlink is written through: its final target is replaced, the link stays.
const COMMIT = `p=$1; tmp=$2; mode=$3; own=$4
if [ -L "$p" ]; then
  t=$(readlink -f "$p") && [ -n "$t" ] || { rm -f "$tmp"; echo "$p is a symlink that cannot be resolved" >&2; exit 1; }
  p=$t; td=$(dirname "$p")
  # The final rename happens in the target's folder (atomic even when it is another mount).
  if [ "$td" != "$(dirname "$tmp")" ]; then nt=$td/\${tmp##*/}; mv -f "$tmp" "$nt" || { rm -f "$tmp"; exit 1; }; tmp=$nt; fi
fi
[ -d "$p" ] && { rm -f "$tmp"; echo "$p is a directory" >&2; exit ${E_IS_DIR}; }
if [ -e "$p" ]; then chmod "$(stat -c %a "$p")" "$tmp"; chown "$(stat -c %u:%g "$p")" "$tmp"; fi
[ -n "$mode" ] && { chmod "$mode" "$tmp" || { rm -f "$tmp"; exit 1; }; }
[ -n "$own" ] && { chown "$own" "$tmp" || { rm -f "$tmp"; exit 1; }; }
mv -f "$tmp" "$p" || { rm -f "$tmp"; exit 1; }
stat -c '${STAT_FORMAT}' "$p"`;

const DISCARD = 'rm -f "$1"';

// The final target of a symlink (all links resolved); fails when it dangles.
const RESOLVE = `t=$(readlink -f "$1") && [ -n "$t" ] && [ -e "$t" ] || exit ${E_MISSING}; printf '%s' "$t"`;

const MKDIR = `p=$1; mode=$2; own=$3
[ -e "$p" ] && [ ! -d "$p" ] && exit ${E_EXISTS}
mkdir -p "$p" 2>/dev/null || { q=$p; while [ "$q" != / ] && [ ! -e "$q" ]; do q=$(dirname "$q"); done; [ -d "$q" ] || exit ${E_PARENT_IS_FILE}; mkdir -p "$p" || exit 1; }
[ -n "$mode" ] && { chmod "$mode" "$p" || exit 1; }
[ -n "$own" ] && { chown "$own" "$p" || exit 1; }
exit 0`;

const REMOVE = `[ -e "$1" ] || [ -L "$1" ] || exit ${E_MISSING}
if [ -d "$1" ] && [ ! -L "$1" ]; then
  if [ "$2" = 1 ]; then rm -rf "$1"; else rmdir "$1" 2>/dev/null || exit ${E_NOT_EMPTY}; fi
else rm -f "$1"; fi`;

// With overwrite, an existing destination is replaced: an empty folder is removed first (mv
// would move the source into it), a non-empty one is refused.
const MOVE = `[ -e "$1" ] || [ -L "$1" ] || exit ${E_MISSING}
if [ -e "$2" ] || [ -L "$2" ]; then
  [ "$3" = 1 ] || exit ${E_EXISTS}
  if [ -L "$2" ]; then rm -f "$2"
  elif [ -d "$2" ]; then rmdir "$2" 2>/dev/null || exit ${E_DEST_NOT_EMPTY}; fi
fi
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
    private readonly limits: { listEntriesCap: number; fileEditCapBytes: number; maxUploadBytes: number },
    private readonly spooler: Spooler,
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
   * Opens a regular file for reading through the archive API (symlinks followed): 404 when
   * missing, 400 for a folder or a device. `content(offset, length)` streams that byte range;
   * call `cancel` once done (or to stop early) to drop the archive stream.
   */
  async open(sandboxID: string, path: string): Promise<OpenFile> {
    // With the sandbox's agent, a stat and a streamed `head` beat the archive API plus the
    // spool at every size (docs/benchmarks/agent.md), and hold no container lock.
    if (EXEC_ONLY.test(path) || agentAvailable(this.docker, sandboxID)) return this.openByExec(sandboxID, path);
    let opened;
    try {
      opened = await this.archive(sandboxID, path);
    } catch (err) {
      // Not in the rootfs or a volume: maybe on a mount only the container sees; exec decides.
      if (err instanceof PathMissingError) return this.openByExec(sandboxID, path);
      throw err;
    }
    let resolved = path;
    if (opened.entry.type === 'symlink') {
      opened.cancel();
      const res = await this.run(sandboxID, RESOLVE, [path]);
      check(res, path);
      resolved = res.stdout.toString('utf8');
      if (EXEC_ONLY.test(resolved)) return this.openByExec(sandboxID, resolved, path);
      opened = await this.archive(sandboxID, resolved);
    }
    const { entry, content, cancel } = opened;
    if (entry.type !== 'file') {
      cancel();
      throw notRegular(path, entry.type);
    }
    // The archive stream can only skip by reading: a range far into a file is read with an
    // exec'd `tail -c +N`, which seeks.
    const byExec = this.execRanges(sandboxID, resolved, path);
    return {
      size: entry.size,
      modifiedAt: new Date(entry.mtime * 1000).toISOString(),
      content: (offset, length) => {
        const bytes = Math.max(0, Math.min(length, entry.size - offset));
        if (offset > ARCHIVE_SKIP_LIMIT_BYTES || bytes > ARCHIVE_READ_MAX_BYTES) {
          cancel();
          return byExec.content(offset, length);
        }
        // Spooled, then the archive stream is closed: Docker holds the container's lock while
        // it is open, and the client may read slowly.
        return this.spooler.spooledReadable(content(offset, length), bytes, cancel);
      },
      cancel: () => {
        cancel();
        byExec.cancel();
      },
    };
  }

  /** `open` through exec: a stat exec, then one bounded `head`/`tail` exec per content read. */
  private async openByExec(sandboxID: string, path: string, shown = path): Promise<OpenFile> {
    const entry = await this.info(sandboxID, path, true);
    if (entry.type !== 'file') throw notRegular(shown, entry.type);
    if (entry.size === 0) return this.openGenerated(sandboxID, path, shown, entry.modifiedAt);
    return { size: entry.size, modifiedAt: entry.modifiedAt, ...this.execRanges(sandboxID, path, shown) };
  }

  /**
   * Byte ranges of a file: streamed by the sandbox's agent itself when it can (no process, no
   * frames: docs/agent.md), else each read by one bounded `head`/`tail` exec.
   */
  private execRanges(sandboxID: string, path: string, shown: string): Pick<OpenFile, 'content' | 'cancel'> {
    const detach: Array<() => void> = [];
    const target = EXEC_ONLY.test(path) ? null : agentTargetFor(this.docker, sandboxID);
    const content = (offset: number, length: number): Readable => {
      if (!target) return byProcess(offset, length, new PassThrough());
      const out = new PassThrough({ highWaterMark: 1024 * 1024 });
      agentReadFile(target, path, offset, length, out)
        .then((read) => {
          if (read === null) return void byProcess(offset, length, out);
          if ('exitCode' in read) return void out.destroy(checkError(read, shown) ?? undefined);
          detach.push(read.cancel);
        })
        .catch((e: unknown) => out.destroy(e as Error));
      return out;
    };
    const byProcess = (offset: number, length: number, out: PassThrough): Readable => {
      startExec(this.docker, sandboxID, { cmd: ['/bin/sh', '-c', READ, 'berth', path, String(offset), String(length)], user: ROOT })
        .then((handle) => {
          detach.push(handle.detach);
          const stderr = collect(handle.stderr, 64 * 1024);
          handle.stdout.pipe(out, { end: false });
          void handle.exit
            .then(async (exitCode) => {
              check({ exitCode, stderr: (await stderr).data.toString('utf8') }, shown);
              out.end();
            })
            .catch((e: unknown) => out.destroy(e as Error));
        })
        .catch((e: unknown) => out.destroy(e as Error));
      return out;
    };
    return { content, cancel: () => detach.forEach((d) => d()) };
  }

  /**
   * Kernel files (/proc, /sys) report size 0 but have content: read them to EOF once, up to
   * the edit cap, and serve that snapshot.
   */
  private async openGenerated(sandboxID: string, path: string, shown: string, modifiedAt: string): Promise<OpenFile> {
    const cap = this.limits.fileEditCapBytes;
    const res = await this.run(sandboxID, READ, [path, '0', String(cap + 1)]);
    check(res, shown);
    if (res.stdout.length > cap) throw new PayloadTooLargeError(`${shown} is larger than ${cap} bytes`);
    const data = res.stdout;
    return {
      size: data.length,
      modifiedAt,
      content: (offset, length) => Readable.from([data.subarray(offset, offset + length)]),
      cancel: () => undefined,
    };
  }

  /** Reads a whole file into memory, refusing files above the edit cap (413). */
  async readSmall(sandboxID: string, path: string): Promise<Buffer> {
    return this.readAll(path, await this.open(sandboxID, path));
  }

  /** Reads an opened file into memory (up to the edit cap, else 413) and closes it. */
  async readAll(path: string, file: OpenFile): Promise<Buffer> {
    try {
      if (file.size > this.limits.fileEditCapBytes) {
        throw new PayloadTooLargeError(`${path} is ${file.size} bytes; reading it as text or editing it in place is limited to ${this.limits.fileEditCapBytes} bytes (read it as bytes instead)`);
      }
      return (await collect(file.content(0, file.size), this.limits.fileEditCapBytes)).data;
    } finally {
      file.cancel();
    }
  }

  /** GET /containers/{id}/archive of one path, parsed up to the first entry's content. */
  private async archive(sandboxID: string, path: string): Promise<{ entry: TarEntry; content: OpenFile['content']; cancel: () => void }> {
    let stream: Readable;
    try {
      stream = (await this.docker.getContainer(sandboxID).getArchive({ path })) as unknown as Readable;
    } catch (err) {
      throw dataPlaneError(err, sandboxID, { path });
    }
    const cancel = () => stream.destroy();
    try {
      const { entry, content } = await firstEntry(stream);
      return { entry, content, cancel };
    } catch (err) {
      cancel();
      throw err;
    }
  }

  /**
   * Writes `content` to `path` (parents created). A streamed body is first spooled in the API
   * (memory or a temporary file, see spool.ts): Docker locks the container while an archive
   * upload is open, and a slow client must not freeze the sandbox. The bytes then go into a
   * temporary file in the sandbox that is renamed over the target only once complete, so an
   * aborted upload leaves nothing behind. An existing file keeps its mode and owner unless
   * `attrs` say otherwise.
   */
  async write(sandboxID: string, path: string, content: Readable | Buffer, attrs: FileAttributes = {}, size?: number): Promise<EntryInfo> {
    const tmp = posix.join(posix.dirname(path), `.berth-upload-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
    const length = Buffer.isBuffer(content) ? content.length : size;
    if (length !== undefined && length > this.limits.maxUploadBytes) {
      throw new PayloadTooLargeError(`the upload is ${length} bytes; this server accepts at most ${this.limits.maxUploadBytes} (BERTH_MAX_UPLOAD_BYTES); nothing was written`);
    }
    const withAgent = !EXEC_ONLY.test(path) && agentAvailable(this.docker, sandboxID);
    // Written by the sandbox's agent itself when the length is known: no process, no spool, no
    // container lock (the fastest path, docs/agent.md). It may decline (an older agent).
    const byAgent = withAgent && length !== undefined && (await this.uploadByAgent(sandboxID, path, tmp, content, length));
    if (byAgent) {
      // The content is in tmp.
    } else if (withAgent || EXEC_ONLY.test(path)) {
      // Through a process's stdin (no spool, no container lock) for kernel paths, and for uploads
      // of unknown length when the sandbox has its agent (faster than spool + archive).
      await this.uploadByExec(sandboxID, path, tmp, Buffer.isBuffer(content) ? content : capped(content, this.limits.maxUploadBytes, size));
    } else if (Buffer.isBuffer(content)) {
      await this.uploadByArchive(sandboxID, path, tmp, content, content.length);
    } else {
      const spool = await spoolUpload(this.spooler, content, size, this.limits.maxUploadBytes);
      try {
        await this.uploadByArchive(sandboxID, path, tmp, spool.open(), spool.size);
      } finally {
        await spool.release();
      }
    }
    const res = await this.run(sandboxID, COMMIT, [path, tmp, attrs.mode ?? '', ownerSpec(attrs)]);
    check(res, path);
    const entry = parseStatLine(res.stdout.toString('utf8').split('\n')[0] ?? '') ?? (await this.info(sandboxID, path, true));
    // Written through a symlink, the entry describes the target under the path the caller gave.
    return { ...entry, path, name: posix.basename(path) };
  }

  /**
   * Streams `content` (exactly `size` bytes, already spooled) into `tmp` with one PUT /archive
   * at `/`: a tar made on the fly (header, body chunks, padding). Docker creates missing
   * parents. A body that fails midway leaves the archive unfinished, so Docker fails the
   * extraction and the partial temporary file is removed.
   */
  private async uploadByArchive(sandboxID: string, path: string, tmp: string, content: Readable | Buffer, size: number): Promise<void> {
    const tar = tarStream({ name: tmp.replace(/^\/+/, ''), size, mode: 0o644 }, content);
    let bodyError: unknown;
    // A body that breaks off must also end the request to Docker: piping stops on the error
    // but leaves the request open, and the engine would wait for the rest forever.
    const upload = new AbortController();
    tar.once('error', (e) => {
      bodyError = e;
      upload.abort();
    });
    try {
      await this.docker.getContainer(sandboxID).putArchive(tar, { path: '/', noOverwriteDirNonDir: true, abortSignal: upload.signal });
    } catch (err) {
      tar.destroy();
      const discard = () => this.run(sandboxID, DISCARD, [tmp]).catch(() => undefined);
      await discard();
      // Docker may still be tearing the extraction down: sweep once more a little later.
      setTimeout(() => void discard(), 1000).unref();
      if (bodyError !== undefined) {
        throw new InvalidArgumentError('upload aborted before the whole body arrived; nothing was written');
      }
      throw dataPlaneError(err, sandboxID, { path });
    }
  }

  /**
   * Streams exactly `length` bytes of `content` into `tmp` through the sandbox's agent (no
   * process): false when the agent declined (nothing consumed). A body that breaks off or ends
   * short leaves nothing behind (400); a full disk is a 507.
   */
  private async uploadByAgent(sandboxID: string, path: string, tmp: string, content: Readable | Buffer, length: number): Promise<boolean> {
    const target = agentTargetFor(this.docker, sandboxID);
    const result = target ? await agentWriteFile(target, { path, tmp, size: length }, content) : null;
    if (result === null) return false;
    if ('aborted' in result) {
      await this.run(sandboxID, DISCARD, [tmp]).catch(() => undefined);
      if (result.error instanceof BerthError) throw result.error;
      throw new InvalidArgumentError(`upload ended before its ${length} bytes arrived; nothing was written`);
    }
    if (result.exitCode !== 0) {
      await this.run(sandboxID, DISCARD, [tmp]).catch(() => undefined);
      check(result, path);
    }
    return true;
  }

  /** Streams `content` into `tmp` through exec stdin (paths under /dev, /proc, /sys). */
  private async uploadByExec(sandboxID: string, path: string, tmp: string, content: Readable | Buffer): Promise<void> {
    let aborted = false;
    let refused: BerthError | undefined;
    if (!Buffer.isBuffer(content)) {
      content.once('aborted', () => (aborted = true));
      content.once('error', (e) => {
        aborted = true;
        if (e instanceof BerthError) refused = e;
      });
    }
    const upload = await this.run(sandboxID, UPLOAD, [path, tmp], content);
    const incomplete = aborted || (!Buffer.isBuffer(content) && (content as Readable & { complete?: boolean }).complete === false);
    if (upload.exitCode !== 0 || incomplete) {
      await this.run(sandboxID, DISCARD, [tmp]);
      if (refused) throw refused;
      if (incomplete) throw new InvalidArgumentError('upload aborted before the whole body arrived; nothing was written');
      check(upload, path);
    }
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

/** Spools an upload body; a body that breaks off (or is shorter than announced) is a 400. */
async function spoolUpload(spooler: Spooler, body: Readable, size: number | undefined, maxBytes: number): Promise<Spool> {
  let spool: Spool;
  try {
    spool = await spooler.spoolStream(body, size, maxBytes);
  } catch (err) {
    if (err instanceof BerthError) throw err; // too large (413), spool full (503)
    throw new InvalidArgumentError('upload aborted before the whole body arrived; nothing was written');
  }
  if (size !== undefined && spool.size !== size) {
    await spool.release();
    throw new InvalidArgumentError(`upload ended after ${spool.size} of ${size} bytes; nothing was written`);
  }
  return spool;
}

/**
 * `body` passed through, failing with 413 once more than `maxBytes` went by (uploads that
 * stream through exec and are not spooled).
 */
function capped(body: Readable, maxBytes: number, size?: number): Readable {
  let total = 0;
  const out = new Transform({
    flush(callback) {
      // A declared length (Content-Length) the body fell short of: nothing is written.
      if (size !== undefined && total !== size) callback(new InvalidArgumentError(`upload ended after ${total} of ${size} bytes; nothing was written`));
      else callback();
    },
    transform(chunk: Buffer, _enc, callback) {
      total += chunk.length;
      if (total > maxBytes) {
        callback(new PayloadTooLargeError(`the upload is larger than this server accepts (${maxBytes} bytes, BERTH_MAX_UPLOAD_BYTES); nothing was written`));
        return;
      }
      callback(null, chunk);
    },
  });
  body.once('error', (e) => out.destroy(e));
  body.once('aborted', () => out.destroy(new Error('aborted')));
  return body.pipe(out);
}

/** An open file (see `FileOps.open`). */
export interface OpenFile {
  size: number;
  modifiedAt: string;
  content: (offset: number, length: number) => Readable;
  cancel: () => void;
}

function notRegular(path: string, type: string): Error {
  if (type === 'dir') return new InvalidArgumentError(`${path} is a directory: list it with GET /files/list`);
  return new InvalidArgumentError(`${path} is not a regular file (device, socket or pipe)`);
}

function ownerSpec(attrs: FileAttributes): string {
  if (attrs.owner && attrs.group) return `${attrs.owner}:${attrs.group}`;
  if (attrs.owner) return attrs.owner;
  if (attrs.group) return `:${attrs.group}`;
  return '';
}

function check(res: { exitCode: number; stderr: string }, path: string, other?: string): void {
  const err = checkError(res, path, other);
  if (err) throw err;
}

/** What a full file system (or quota) says in a helper's stderr. */
const NO_SPACE = /No space left on device|Disk quota exceeded/i;

function noSpace(path: string): BerthError {
  return new InsufficientStorageError(`the sandbox's disk is full: ${path} was not written (nothing was left behind); free space in the sandbox or write less`);
}

/** The error a helper's exit code stands for, or null for success. */
function checkError(res: { exitCode: number; stderr: string }, path: string, other?: string): BerthError | null {
  switch (res.exitCode) {
    case 0:
      return null;
    case E_MISSING:
      return new NotFoundError(`${path} does not exist`);
    case E_IS_DIR:
      return new InvalidArgumentError(`${path} is a directory`);
    case E_NOT_DIR:
      return new InvalidArgumentError(`${path} is not a directory (or a parent is a file)`);
    case E_NOT_EMPTY:
      return new ConflictError(`${path} is a non-empty directory: pass recursive=true to delete it with its contents`);
    case E_PARENT_IS_FILE:
      return new ConflictError(`a file is in the way of ${path}: one of its parents is not a directory`);
    case E_DEST_NOT_EMPTY:
      return new ConflictError(`${other ?? path} is a non-empty directory; it cannot be replaced`);
    case E_EXISTS:
      return new ConflictError(`${other ?? path} already exists${other ? ': pass overwrite=true to replace it' : ' and is not a directory'}`);
    case E_NO_SPACE:
      return noSpace(path);
    default:
      if (NO_SPACE.test(res.stderr)) return noSpace(path);
      return new InvalidArgumentError(`operation on ${path} failed: ${res.stderr.trim() || `exit code ${res.exitCode}`}`, 'operation_failed');
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
