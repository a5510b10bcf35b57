/**
 * The little bit of tar the data plane needs to talk to Docker's archive API: write a one-file
 * archive around a streamed body (header, body, padding, end blocks) and read the first entry
 * of an archive incrementally (ustar, GNU long names, pax headers), streaming its content.
 */
import { Readable } from 'node:stream';

export const BLOCK = 512;

/** What a tar header says about an entry. */
export interface TarEntry {
  name: string;
  /** `file`, `dir`, `symlink`, `hardlink` or `other` (devices, fifos, …). */
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  let total = len + String(len).length;
  if (String(total).length !== String(len).length) total = len + String(total).length;
  len = total;
  return Buffer.from(`${len}${body}`, 'utf8');
}

function rawHeader(name: Buffer, type: string, mode: number, uid: number, gid: number, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  name.copy(h, 0, 0, Math.min(100, name.length));
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(uid, 8), 108, 'ascii');
  h.write(octal(gid, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** Zero bytes that pad `size` bytes of content up to a whole block. */
export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK, 0);
}

/**
 * The header block(s) of a regular file: one ustar block, preceded by a pax header when the
 * name is longer than 100 bytes or the size does not fit 11 octal digits.
 */
export function fileHeader(opts: { name: string; size: number; mode?: number; uid?: number; gid?: number; mtime?: number }): Buffer {
  const { name, size } = opts;
  const mode = opts.mode ?? 0o644;
  const uid = opts.uid ?? 0;
  const gid = opts.gid ?? 0;
  const mtime = opts.mtime ?? Date.now() / 1000;
  const nameBytes = Buffer.from(name, 'utf8');
  const records: Buffer[] = [];
  if (nameBytes.length > 100) records.push(paxRecord('path', name));
  const bigSize = size > 0o77777777777;
  if (bigSize) records.push(paxRecord('size', String(size)));
  const main = rawHeader(nameBytes.subarray(0, 100), '0', mode, uid, gid, bigSize ? 0 : size, mtime);
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  return Buffer.concat([rawHeader(Buffer.from('PaxHeader'), 'x', 0o644, 0, 0, pax.length, mtime), pax, padding(pax.length), main]);
}

/** The two zero blocks that end an archive. */
export const END = Buffer.alloc(2 * BLOCK, 0);

/**
 * A one-file archive around `body`, streamed: header, the body's chunks as they come, padding,
 * end blocks. Errors (and the archive is left unfinished) when the body does not hold exactly
 * `size` bytes, so a truncated upload can never be extracted as complete.
 */
export function tarStream(header: Parameters<typeof fileHeader>[0], body: AsyncIterable<Buffer | Uint8Array> | Buffer): Readable {
  const size = header.size;
  async function* gen(): AsyncGenerator<Buffer> {
    yield fileHeader(header);
    let n = 0;
    if (Buffer.isBuffer(body)) {
      n = body.length;
      if (n > 0) yield body;
    } else {
      for await (const chunk of body) {
        n += chunk.length;
        if (n > size) throw new Error(`body is longer than the announced ${size} bytes`);
        yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      }
    }
    if (n !== size) throw new Error(`body ended after ${n} of ${size} bytes`);
    yield Buffer.concat([padding(size), END]);
  }
  return Readable.from(gen(), { objectMode: false });
}

function parseNumber(buf: Buffer): number {
  const first = buf[0] ?? 0;
  if (first & 0x80) {
    // base-256 (GNU): big-endian, high bit of the first byte is the marker
    let v = first & 0x7f;
    for (let i = 1; i < buf.length; i++) v = v * 256 + (buf[i] ?? 0);
    return v;
  }
  const text = buf.toString('ascii').replace(/[\0 ].*$/s, '').trim();
  return text ? Number.parseInt(text, 8) : 0;
}

function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString('utf8');
}

/** Parses one header block; `null` for an end (zero) block. Throws on a bad checksum. */
export function parseHeader(block: Buffer): (TarEntry & { typeflag: string }) | null {
  if (block.length < BLOCK) throw new Error('short tar header');
  if (block.every((b) => b === 0)) return null;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  if (sum !== parseNumber(block.subarray(148, 156))) throw new Error('bad tar header checksum');
  const typeflag = String.fromCharCode(block[156] ?? 0);
  let name = cString(block.subarray(0, 100));
  if (block.subarray(257, 262).toString('ascii') === 'ustar') {
    const prefix = cString(block.subarray(345, 500));
    if (prefix) name = `${prefix}/${name}`;
  }
  const type: TarEntry['type'] =
    typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file' : typeflag === '5' ? 'dir' : typeflag === '2' ? 'symlink' : typeflag === '1' ? 'hardlink' : 'other';
  return {
    typeflag,
    name,
    type,
    mode: parseNumber(block.subarray(100, 108)),
    uid: parseNumber(block.subarray(108, 116)),
    gid: parseNumber(block.subarray(116, 124)),
    size: parseNumber(block.subarray(124, 136)),
    mtime: parseNumber(block.subarray(136, 148)),
    linkname: cString(block.subarray(157, 257)),
  };
}

/** Parses pax records (`"<len> key=value\n"`…). */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const space = data.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number.parseInt(data.subarray(i, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(space + 1, i + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Pulls bytes from an async iterator, keeping what was read too far. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer | Uint8Array>) {}

  /** Exactly `n` bytes (fewer only at the end of the stream). */
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n && !this.done) await this.fill();
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Up to `max` bytes, at least one unless the stream ended. */
  async some(max: number): Promise<Buffer> {
    if (this.buf.length === 0 && !this.done) await this.fill();
    const out = this.buf.subarray(0, max);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  private async fill(): Promise<void> {
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
  }
}

/**
 * Reads the header(s) of the first entry of a tar stream (skipping pax and GNU long-name
 * headers) and returns it with a reader of its content: `content(offset, length)` streams
 * `length` bytes from `offset` (clipped to the entry), reading no further than the entry.
 */
export async function firstEntry(source: AsyncIterable<Buffer | Uint8Array>): Promise<{ entry: TarEntry; content: (offset: number, length: number) => Readable }> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: Record<string, string> = {};
  for (;;) {
    const block = await reader.take(BLOCK);
    if (block.length < BLOCK) throw new Error('tar stream ended inside a header');
    const h = parseHeader(block);
    if (!h) throw new Error('empty tar archive');
    if (h.typeflag === 'x' || h.typeflag === 'g' || h.typeflag === 'L' || h.typeflag === 'K') {
      const data = await reader.take(h.size);
      if (data.length < h.size) throw new Error('tar stream ended inside an extended header');
      await reader.take(padding(h.size).length);
      if (h.typeflag === 'x') pax = { ...pax, ...parsePax(data) };
      else if (h.typeflag === 'L') longName = cString(data);
      else if (h.typeflag === 'K') longLink = cString(data);
      continue;
    }
    const { typeflag: _t, ...entry } = h;
    if (longName !== undefined) entry.name = longName;
    if (longLink !== undefined) entry.linkname = longLink;
    if (pax.path !== undefined) entry.name = pax.path;
    if (pax.linkpath !== undefined) entry.linkname = pax.linkpath;
    if (pax.size !== undefined) entry.size = Number(pax.size);
    if (pax.mtime !== undefined) entry.mtime = Number(pax.mtime);
    const size = entry.type === 'file' ? entry.size : 0;
    const content = (offset: number, length: number): Readable => {
      async function* gen(): AsyncGenerator<Buffer> {
        const start = Math.min(Math.max(0, offset), size);
        const end = Math.min(size, start + Math.max(0, length));
        let pos = 0;
        while (pos < end) {
          const chunk = await reader.some(Math.min(end, pos < start ? start : end) - pos);
          if (chunk.length === 0) throw new Error(`tar stream ended after ${pos} of ${size} content bytes`);
          pos += chunk.length;
          if (pos > start) yield pos - chunk.length >= start ? chunk : chunk.subarray(start - (pos - chunk.length));
        }
      }
      return Readable.from(gen(), { objectMode: false });
    };
    return { entry, content };
  }
}
