/**
 * Spooling: Docker's archive API holds the container's lock for as long as an archive
 * upload or download stream is open, so a slow (or stalled) client on the other side of the
 * API would freeze every other operation on that sandbox (commands, pause, even kill). File
 * bytes therefore never stream between a client and Docker directly: they are first spooled
 * into the API's memory (small) or a temporary file (large), at local speed, and the archive
 * call only ever reads from or writes to that spool.
 *
 * Spools are bounded: every spooled byte (memory or disk) counts against one budget per API
 * process (503 with Retry-After when it is used up), and spool files live in a folder berth
 * owns (`<data dir>/spool/api-<pid>-<random>`), so files left by a crashed API are removed
 * when the next one starts.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PayloadTooLargeError, UnavailableError } from '../errors.js';

/** Bodies up to this size are spooled in memory; larger ones to a temporary file. */
export const SPOOL_MEMORY_MAX_BYTES = 4 * 1024 * 1024;

/** Seconds a client is told to wait (Retry-After) when the spool budget is used up. */
export const SPOOL_RETRY_AFTER_S = 5;

/** Spooled bytes: read them as often as needed, then `release` (removes a temporary file, frees the budget). */
export interface Spool {
  size: number;
  open(): Readable;
  release(): Promise<void>;
}

export interface SpoolerOptions {
  /** berth's data folder; spool files go under `<dataDir>/spool`. */
  dataDir: string;
  /** Most bytes this process may hold in spools at once (memory and disk). */
  budgetBytes: number;
}

/** Spool folders of the spoolers alive in this process (never removed as leftovers). */
const liveDirs = new Set<string>();

/**
 * Removes spool folders left by API processes that are gone: a folder whose process is not
 * running, or one named after this process that no spooler here owns (a previous process
 * with the same pid, e.g. pid 1 in a restarted container). Folders of live API processes
 * sharing the data folder are kept. Answers how many folders were removed.
 */
export function removeLeftoverSpools(root: string): number {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = /^api-(\d+)-/.exec(name);
    if (!m) continue;
    const dir = path.join(root, name);
    const pid = Number(m[1]);
    const leftover = pid === process.pid ? !liveDirs.has(dir) : !processAlive(pid);
    if (!leftover) continue;
    rmSync(dir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A claim on part of the spool budget; `grow` claims more, `release` gives it all back. */
interface Reservation {
  grow(bytes: number): void;
  release(): void;
}

/** The spools of one API process: where their files go and how many bytes they may hold. */
export class Spooler {
  private readonly dir: string;
  private readonly budgetBytes: number;
  private usedBytes = 0;

  /** Creates this process's spool folder after removing leftovers of crashed API processes. */
  constructor(options: SpoolerOptions) {
    const root = path.join(options.dataDir, 'spool');
    mkdirSync(root, { recursive: true, mode: 0o700 });
    removeLeftoverSpools(root);
    this.dir = path.join(root, `api-${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(this.dir, { mode: 0o700 });
    liveDirs.add(this.dir);
    this.budgetBytes = options.budgetBytes;
  }

  /** Bytes currently held in spools. */
  get inUseBytes(): number {
    return this.usedBytes;
  }

  /** Removes this process's spool folder (spools still open lose their files). */
  close(): void {
    liveDirs.delete(this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Claims `bytes` of the budget now (503 when they do not fit); more may be claimed later. */
  reserve(bytes: number): Reservation {
    this.take(bytes);
    let held = bytes;
    let released = false;
    return {
      grow: (more) => {
        this.take(more);
        held += more;
      },
      release: () => {
        if (released) return;
        released = true;
        this.usedBytes -= held;
      },
    };
  }

  private take(bytes: number): void {
    if (this.usedBytes + bytes > this.budgetBytes) {
      throw new SpoolFullError(
        `the API host's transfer spool is full (${this.usedBytes} of ${this.budgetBytes} bytes in use by other uploads and downloads); ` +
          `retry in ${SPOOL_RETRY_AFTER_S} s`,
      );
    }
    this.usedBytes += bytes;
  }

  /**
   * Reads `source` to its end into a spool. `expectedSize` (when known) is claimed from the
   * budget at once and picks memory or disk up front; otherwise the bytes start in memory and
   * move to a file past the memory limit, claimed as they arrive. More than `maxBytes` is a
   * 413; a full budget a 503. Rejects with the source's error (an aborted upload) and leaves
   * nothing behind.
   */
  async spoolStream(source: Readable, expectedSize: number | undefined, maxBytes = Number.MAX_SAFE_INTEGER): Promise<Spool> {
    if (expectedSize !== undefined && expectedSize > maxBytes) throw tooLarge(maxBytes);
    return this.fill(source, expectedSize, maxBytes, this.reserve(expectedSize ?? 0));
  }

  /**
   * Downloads: claims `length` bytes of the budget at once (503 before anything is sent when
   * they do not fit), fills a spool from `source` (a range of an archive stream) at local
   * speed, then calls `done` (which closes the archive stream and so releases the container's
   * lock) and streams the spool to the returned Readable, removing it (and freeing the budget)
   * once read or abandoned.
   */
  spooledReadable(source: Readable, length: number, done: () => void): Readable {
    const reservation = this.reserve(length);
    const out = new PassThrough();
    let ready = false;
    // The client left before the spool was full: stop reading from Docker.
    out.once('close', () => {
      if (!ready) source.destroy();
    });
    void this.fill(source, length, length, reservation)
      .finally(done)
      .then(
        (spool) => {
          ready = true;
          const release = () => void spool.release();
          if (out.destroyed) return release(); // the client left while the spool filled
          out.once('close', release);
          pipeline(spool.open(), out).catch(() => undefined);
        },
        (err: unknown) => out.destroy(err as Error),
      );
    return out;
  }

  /** Reads `source` into a spool under `reservation` (released with the spool, or on failure). */
  private async fill(source: Readable, expectedSize: number | undefined, maxBytes: number, reservation: Reservation): Promise<Spool> {
    const overflow = expectedSize === undefined ? tooLarge(maxBytes) : new Error('body is longer than the announced size');
    const counted = limitBytes(source, expectedSize === undefined ? reservation.grow : () => undefined, expectedSize ?? maxBytes, overflow);
    let dir: string | undefined;
    try {
      const head: Buffer[] = [];
      let headBytes = 0;
      if (expectedSize === undefined || expectedSize <= SPOOL_MEMORY_MAX_BYTES) {
        for (;;) {
          const next = await counted.next();
          if (next.done) return memorySpool(Buffer.concat(head), reservation.release);
          head.push(next.value);
          headBytes += next.value.length;
          if (headBytes > SPOOL_MEMORY_MAX_BYTES) break;
        }
      }
      dir = await mkdtemp(path.join(this.dir, 'spool-'));
      const file = path.join(dir, 'body');
      const rest = Readable.from(
        (async function* () {
          yield* head;
          for (;;) {
            const next = await counted.next();
            if (next.done) return;
            yield next.value;
          }
        })(),
      );
      await pipeline(rest, createWriteStream(file, { mode: 0o600 }));
      const { size } = await stat(file);
      const spoolDir = dir;
      return {
        size,
        open: () => createReadStream(file),
        release: async () => {
          reservation.release();
          await rm(spoolDir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      reservation.release();
      if (dir) await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
}

/** 503 when the spool budget is used up; clients should retry after {@link SPOOL_RETRY_AFTER_S}. */
export class SpoolFullError extends UnavailableError {
  override readonly retryAfterS = SPOOL_RETRY_AFTER_S;
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the upload is larger than this server accepts (${maxBytes} bytes, BERTH_MAX_UPLOAD_BYTES); nothing was written`);
}

/**
 * Iterates `source`, calling `onBytes` for each chunk and failing with `overflow` once more
 * than `maxBytes` arrived.
 */
function limitBytes(source: Readable, onBytes: (n: number) => void, maxBytes: number, overflow: Error): AsyncIterator<Buffer> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let total = 0;
  return {
    async next() {
      const next = await it.next();
      if (next.done) return next;
      total += next.value.length;
      if (total > maxBytes) throw overflow;
      onBytes(next.value.length);
      return next;
    },
  };
}

function memorySpool(data: Buffer, release: () => void): Spool {
  return {
    size: data.length,
    open: () => Readable.from([data]),
    release: async () => release(),
  };
}
