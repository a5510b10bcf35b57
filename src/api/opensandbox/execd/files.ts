/**
 * execd files: info, list, search, upload (multipart metadata + file parts), download (with
 * Range), remove, mv, permissions, replace; directories create and remove. On berth's FileOps
 * through the interaction gate.
 */
import { pipeline } from 'node:stream/promises';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { InvalidArgumentError, NotFoundError, NotSupportedError, PayloadTooLargeError } from '../../../errors.js';
import type { EntryInfo, FileAttributes, FileOps, OpenFile } from '../../../dataplane/files.js';
import { replaceLiteral } from '../../../dataplane/replace.js';
import { parseByteRange, parseMode, parseOwner, sandboxPath } from '../../../dataplane/paths.js';
import type { InteractionGate } from '../../../service/interaction-gate.js';
import type { StreamSlots } from '../../../service/stream-slots.js';
import { callerOf } from '../../auth.js';
import { mountParam } from '../auth.js';
import { parseOr400 } from '../errors.js';

const TYPES: Record<EntryInfo['type'], string> = { file: 'file', dir: 'directory', symlink: 'symlink', other: 'other' };

/** berth's entry in execd's FileInfo shape (snake_case; mode as octal digits in an integer, e.g. 755). */
function fileInfo(e: EntryInfo) {
  return { path: e.path, size: e.size, modified_at: e.modifiedAt, created_at: e.modifiedAt, owner: e.owner, group: e.group, mode: Number(e.mode), type: TYPES[e.type] };
}

const attrSchema = z.object({
  mode: z.number().int().min(0).max(7777).optional(),
  owner: z.string().nullable().optional(),
  group: z.string().nullable().optional(),
});
const attrMapSchema = z.record(z.string(), attrSchema);
const moveSchema = z.array(z.object({ src: z.string(), dest: z.string() })).min(1);
const replaceSchema = z.record(z.string(), z.object({ old: z.string().min(1), new: z.string() }));

function attributes(raw: z.infer<typeof attrSchema>): FileAttributes {
  return {
    ...(raw.mode !== undefined ? { mode: parseMode(String(raw.mode).padStart(3, '0')) } : {}),
    ...(raw.owner ? { owner: parseOwner(raw.owner, 'owner') } : {}),
    ...(raw.group ? { group: parseOwner(raw.group, 'group') } : {}),
  };
}

/** `?path=a&path=b` → validated absolute paths. */
function paths(raw: unknown): string[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new InvalidArgumentError('path is required (repeat ?path= for several)');
  return list.map((p) => sandboxPath(p));
}

/** The execd file and directory routes. */
export function fileRoutes(gate: InteractionGate, files: FileOps, limits: { maxUploadBytes: number; fileEditCapBytes: number }, slots: StreamSlots): Router {
  const router = Router({ mergeParams: true });
  const begin = async (req: Request) => gate.beginInteraction(callerOf(req).owner, mountParam(req, 'id'));

  router.get('/files/info', async (req, res) => {
    const wanted = paths(req.query.path);
    const info = await begin(req);
    const found = await files.stat(info.sandboxID, wanted);
    const out: Record<string, ReturnType<typeof fileInfo>> = {};
    for (const p of wanted) {
      const entry = found[p];
      if (!entry) throw new NotFoundError(`${p} does not exist`);
      out[p] = fileInfo(entry);
    }
    res.json(out);
  });

  router.get('/directories/list', async (req, res) => {
    const [path = '/'] = paths(req.query.path);
    const depth = req.query.depth === undefined ? 1 : Number(req.query.depth);
    if (!Number.isInteger(depth) || depth < 1 || depth > 64) throw new InvalidArgumentError('depth must be 1 to 64');
    const info = await begin(req);
    res.json((await files.list(info.sandboxID, path, depth)).entries.map(fileInfo));
  });

  router.get('/files/search', async (req, res) => {
    const [path = '/'] = paths(req.query.path);
    const pattern = typeof req.query.pattern === 'string' && req.query.pattern ? req.query.pattern : '*';
    const info = await begin(req);
    res.json((await files.search(info.sandboxID, path, pattern, 32)).entries.map(fileInfo));
  });

  router.get('/files/download', async (req, res) => {
    const [path = '/'] = paths(req.query.path);
    if (req.query.offset !== undefined || req.query.limit !== undefined) {
      throw new NotSupportedError('line-based reads (offset/limit) are not supported by berth: read a byte range (range_header="bytes=0-1023") instead');
    }
    const releaseSlot = slots.hold(callerOf(req).owner, 'file download', res);
    let file: OpenFile | undefined;
    let stop = () => undefined as void;
    try {
      const info = await begin(req);
      stop = gate.keepAlive(info.sandboxID, info.timeout);
      file = await files.open(info.sandboxID, path);
      const range = parseByteRange(req.get('range'), file.size);
      if (range === 'unsatisfiable') {
        res.status(416).setHeader('content-range', `bytes */${file.size}`);
        res.json({ code: 'RANGE_NOT_SATISFIABLE', message: `${path} has ${file.size} bytes` });
        return;
      }
      const offset = range?.start ?? 0;
      const length = range ? range.end - range.start + 1 : file.size;
      const body = file.content(offset, length);
      res.status(range ? 206 : 200);
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('accept-ranges', 'bytes');
      res.setHeader('content-length', String(length));
      if (range) res.setHeader('content-range', `bytes ${range.start}-${range.end}/${file.size}`);
      await pipeline(body, res);
    } finally {
      file?.cancel();
      stop();
      releaseSlot();
    }
  });

  router.post('/files/upload', async (req, res) => {
    const type = req.get('content-type') ?? '';
    if (!/^multipart\/form-data/i.test(type)) throw new InvalidArgumentError('upload is multipart/form-data with "metadata" and "file" parts (files.write_file does this)');
    const declared = Number(req.get('content-length') ?? NaN);
    if (declared > limits.maxUploadBytes) throw new PayloadTooLargeError(`the upload is ${declared} bytes; this server accepts at most ${limits.maxUploadBytes} (BERTH_MAX_UPLOAD_BYTES)`);
    // The multipart body is read into memory (at most BERTH_MAX_UPLOAD_BYTES), then parsed.
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limits.maxUploadBytes) throw new PayloadTooLargeError(`the upload is larger than ${limits.maxUploadBytes} bytes (BERTH_MAX_UPLOAD_BYTES); nothing was written`);
      chunks.push(chunk);
    }
    let form: FormData;
    try {
      form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': type } }).formData();
    } catch {
      throw new InvalidArgumentError('the multipart body could not be parsed');
    }
    const metas = form.getAll('metadata');
    const contents = form.getAll('file');
    if (metas.length === 0 || metas.length !== contents.length) throw new InvalidArgumentError('send one "metadata" part before each "file" part');
    const info = await begin(req);
    for (let i = 0; i < metas.length; i++) {
      const metaPart = metas[i];
      const metaText = typeof metaPart === 'string' ? metaPart : await (metaPart as Blob).text();
      let meta: unknown;
      try {
        meta = JSON.parse(metaText);
      } catch {
        throw new InvalidArgumentError('a "metadata" part is not JSON ({"path": ..., "mode": ...})');
      }
      const parsed = parseOr400(attrSchema.extend({ path: z.string() }), meta, 'file metadata');
      const content = contents[i];
      const data = typeof content === 'string' ? Buffer.from(content) : Buffer.from(await (content as Blob).arrayBuffer());
      await files.write(info.sandboxID, sandboxPath(parsed.path), data, attributes(parsed));
    }
    res.json({});
  });

  router.delete('/files', async (req, res) => {
    const wanted = paths(req.query.path);
    const info = await begin(req);
    for (const p of wanted) await files.remove(info.sandboxID, p, false);
    res.json({});
  });

  router.post('/directories', async (req, res) => {
    const body = parseOr400(attrMapSchema, req.body, 'directories');
    const info = await begin(req);
    for (const [p, a] of Object.entries(body)) await files.mkdir(info.sandboxID, sandboxPath(p), attributes(a));
    res.json({});
  });

  router.delete('/directories', async (req, res) => {
    const wanted = paths(req.query.path);
    const info = await begin(req);
    for (const p of wanted) await files.remove(info.sandboxID, p, true);
    res.json({});
  });

  router.post('/files/mv', async (req, res) => {
    const moves = parseOr400(moveSchema, req.body, 'moves');
    const info = await begin(req);
    for (const m of moves) await files.move(info.sandboxID, sandboxPath(m.src, 'src'), sandboxPath(m.dest, 'dest'), true);
    res.json({});
  });

  router.post('/files/permissions', async (req, res) => {
    const body = parseOr400(attrMapSchema, req.body, 'permissions');
    const info = await begin(req);
    for (const [p, a] of Object.entries(body)) await files.chmod(info.sandboxID, sandboxPath(p), attributes(a), false);
    res.json({});
  });

  router.post('/files/replace', async (req, res) => {
    const body = parseOr400(replaceSchema, req.body, 'replacements');
    const info = await begin(req);
    const out: Record<string, { replacedCount: number }> = {};
    for (const [raw, r] of Object.entries(body)) {
      const p = sandboxPath(raw);
      const text = (await files.readSmall(info.sandboxID, p)).toString('utf8');
      const { replacements, updated } = replaceLiteral(text, r.old, r.new, true, limits.fileEditCapBytes);
      if (replacements > 0) await files.write(info.sandboxID, p, Buffer.from(updated));
      out[p] = { replacedCount: replacements };
    }
    res.json(out);
  });

  return router;
}

