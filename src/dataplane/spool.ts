/**
 * Spooling: Docker's archive API holds the container's lock for as long as an archive
 * upload or download stream is open, so a slow (or stalled) client on the other side of the
 * API would freeze every other operation on that sandbox (commands, pause, even kill). File
 * bytes therefore never stream between a client and Docker directly: they are first spooled
 * into the API's memory (small) or a temporary file (large), at local speed, and the archive
 * call only ever reads from or writes to that spool.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { collect } from './exec.js';

/** Bodies up to this size are spooled in memory; larger ones to a temporary file. */
export const SPOOL_MEMORY_MAX_BYTES = 4 * 1024 * 1024;

/** Spooled bytes: read them as often as needed, then `release` (removes a temporary file). */
export interface Spool {
  size: number;
  open(): Readable;
  release(): Promise<void>;
}

/** Where spool files go (one private folder per file). */
function spoolRoot(): string {
  return os.tmpdir();
}

/**
 * Reads `source` to its end into a spool. `expectedSize` (when known) picks memory or disk
 * up front; otherwise the bytes start in memory and move to a file past the memory limit.
 * Rejects with the source's error (an aborted upload) and leaves nothing behind.
 */
export async function spoolStream(source: Readable, expectedSize?: number): Promise<Spool> {
  if (expectedSize !== undefined && expectedSize <= SPOOL_MEMORY_MAX_BYTES) {
    const { data, truncated } = await collect(source, SPOOL_MEMORY_MAX_BYTES);
    if (truncated) throw new Error('body is longer than the announced size');
    return memorySpool(data);
  }
  const head: Buffer[] = [];
  let headBytes = 0;
  const it = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  if (expectedSize === undefined) {
    for (;;) {
      const next = await it.next();
      if (next.done) return memorySpool(Buffer.concat(head));
      head.push(next.value);
      headBytes += next.value.length;
      if (headBytes > SPOOL_MEMORY_MAX_BYTES) break;
    }
  }
  const dir = await mkdtemp(path.join(spoolRoot(), 'berth-spool-'));
  const file = path.join(dir, 'body');
  try {
    const rest = Readable.from(
      (async function* () {
        yield* head;
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          yield next.value;
        }
      })(),
    );
    await pipeline(rest, createWriteStream(file, { mode: 0o600 }));
    const { size } = await stat(file);
    return {
      size,
      open: () => createReadStream(file),
      release: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Downloads: fills a spool from `source` (a range of an archive stream) at local speed, then
 * calls `done` (which closes the archive stream and so releases the container's lock) and
 * streams the spool to the returned Readable, removing it once read or abandoned.
 */
export function spooledReadable(source: Readable, length: number, done: () => void): Readable {
  const out = new PassThrough();
  let ready = false;
  // The client left before the spool was full: stop reading from Docker.
  out.once('close', () => {
    if (!ready) source.destroy();
  });
  void spoolStream(source, length)
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

function memorySpool(data: Buffer): Spool {
  return { size: data.length, open: () => Readable.from([data]), release: async () => undefined };
}
