import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { collect } from '../../src/dataplane/exec.js';
import { BLOCK, END, fileHeader, firstEntry, padding, parseHeader, parsePax, tarStream } from '../../src/dataplane/tar.js';

async function bytes(stream: Readable): Promise<Buffer> {
  return (await collect(stream, 1 << 30)).data;
}

/** Re-chunks a buffer into pieces of `size` bytes (exercises headers split across chunks). */
function chunked(buf: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

/** A raw header block with any type flag, for GNU long-name and device entries. */
function block(name: string, typeflag: string, size: number): Buffer {
  const h = fileHeader({ name, size, mtime: 0 });
  h[156] = typeflag.charCodeAt(0);
  h.write('        ', 148, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

describe('tar writer', () => {
  it('writes a ustar header with name, mode, ids, size and mtime', () => {
    const h = fileHeader({ name: 'tmp/a.txt', size: 1234, mode: 0o640, uid: 1000, gid: 100, mtime: 1_700_000_000 });
    expect(h.length).toBe(BLOCK);
    expect(parseHeader(h)).toMatchObject({ name: 'tmp/a.txt', type: 'file', mode: 0o640, uid: 1000, gid: 100, size: 1234, mtime: 1_700_000_000 });
  });

  it('streams header, body, padding and end blocks; the length is a whole number of blocks', async () => {
    const body = Buffer.from('hello world');
    const tar = await bytes(tarStream({ name: 'x', size: body.length }, Readable.from([body.subarray(0, 5), body.subarray(5)])));
    expect(tar.length).toBe(BLOCK + BLOCK + END.length);
    expect(tar.subarray(BLOCK, BLOCK + body.length).toString()).toBe('hello world');
    expect(padding(body.length).length).toBe(BLOCK - body.length);
    expect(padding(BLOCK).length).toBe(0);
  });

  it('fails (archive left unfinished) when the body is shorter or longer than announced', async () => {
    await expect(bytes(tarStream({ name: 'x', size: 10 }, Readable.from([Buffer.alloc(4)])))).rejects.toThrow(/4 of 10/);
    await expect(bytes(tarStream({ name: 'x', size: 2 }, Readable.from([Buffer.alloc(4)])))).rejects.toThrow(/longer/);
  });

  it('uses a pax header for names over 100 bytes', async () => {
    const name = `deep/${'d'.repeat(150)}/file.bin`;
    const tar = await bytes(tarStream({ name, size: 3 }, Buffer.from('abc')));
    expect(parseHeader(tar.subarray(0, BLOCK))?.name).toBe('PaxHeader');
    const { entry, content } = await firstEntry(chunked(tar, 7));
    expect(entry).toMatchObject({ name, type: 'file', size: 3 });
    expect((await bytes(content(0, 3))).toString()).toBe('abc');
  });

  it('parses pax records', () => {
    expect(parsePax(Buffer.from('15 path=/a/b/c\n11 size=99\n'))).toEqual({ path: '/a/b/c', size: '99' });
  });
});

describe('tar reader', () => {
  const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
  const archive = async () => bytes(tarStream({ name: 'f.bin', size: data.length, mtime: 42 }, data));

  it('streams exactly the first entry, whatever the chunking', async () => {
    for (const size of [1, 100, 511, 512, 513, 4096, 1 << 20]) {
      const { entry, content } = await firstEntry(chunked(await archive(), size));
      expect(entry).toMatchObject({ name: 'f.bin', type: 'file', size: 3000, mtime: 42 });
      expect((await bytes(content(0, entry.size))).equals(data)).toBe(true);
    }
  });

  it('skips and limits bytes for ranges', async () => {
    for (const [offset, length] of [
      [0, 10],
      [2, 4],
      [511, 3],
      [2990, 100],
      [3000, 5],
      [1000, 2000],
    ] as const) {
      const { content } = await firstEntry(chunked(await archive(), 333));
      expect((await bytes(content(offset, length))).equals(data.subarray(offset, offset + length))).toBe(true);
    }
  });

  it('skips GNU long-name headers', async () => {
    const long = `${'n'.repeat(200)}.txt`;
    const nameData = Buffer.from(`${long}\0`);
    const body = Buffer.from('xyz');
    const tar = Buffer.concat([block('././@LongLink', 'L', nameData.length), nameData, padding(nameData.length), fileHeader({ name: long.slice(0, 100), size: 3 }), body, padding(3), END]);
    const { entry, content } = await firstEntry(chunked(tar, 50));
    expect(entry.name).toBe(long);
    expect((await bytes(content(0, 3))).toString()).toBe('xyz');
  });

  it('reports symlinks, folders and devices', async () => {
    const link = block('l', '2', 0);
    link.write('target', 157, 'utf8');
    link.write('        ', 148, 'ascii');
    let sum = 0;
    for (const b of link) sum += b;
    link.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    expect((await firstEntry(Readable.from([Buffer.concat([link, END])]))).entry).toMatchObject({ type: 'symlink', linkname: 'target' });
    expect((await firstEntry(Readable.from([Buffer.concat([block('d/', '5', 0), END])]))).entry.type).toBe('dir');
    expect((await firstEntry(Readable.from([Buffer.concat([block('zero', '3', 0), END])]))).entry.type).toBe('other');
  });

  it('rejects empty, truncated and corrupt archives', async () => {
    await expect(firstEntry(Readable.from([END]))).rejects.toThrow(/empty/);
    await expect(firstEntry(Readable.from([Buffer.alloc(100)]))).rejects.toThrow(/header/);
    const bad = Buffer.from(await archive());
    bad[0] = 0x7a;
    await expect(firstEntry(Readable.from([bad]))).rejects.toThrow(/checksum/);
    const cut = (await archive()).subarray(0, BLOCK + 100);
    const { content } = await firstEntry(Readable.from([cut]));
    await expect(bytes(content(0, 3000))).rejects.toThrow(/ended after 100/);
  });
});
