/** `/sandboxes/{id}/files…`: read (streamed, ranges), write (streamed), stat, list, mkdir, delete, move, chmod, search, replace. */
import { pipeline } from 'node:stream/promises';
import { TextDecoder } from 'node:util';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { InvalidArgumentError, PayloadTooLargeError } from '../../errors.js';
import type { FileAttributes, FileOps, OpenFile } from '../../dataplane/files.js';
import { replaceLiteral } from '../../dataplane/replace.js';
import { parseByteRange, parseMode, parseOwner, sandboxPath } from '../../dataplane/paths.js';
import { callerOf } from '../auth.js';
import { registerOperations } from '../openapi.js';
import type { SandboxService } from '../sandbox-service.js';
import type { StreamSlots } from '../stream-slots.js';
import { parseOr400 } from '../validate.js';

const attrs = {
  mode: z.union([z.string(), z.number()]).optional().describe('Octal permissions, e.g. "644".'),
  owner: z.string().optional().describe('User name or uid.'),
  group: z.string().optional().describe('Group name or gid.'),
};

/** Body of `POST /files/batch`. */
export const writeBatchSchema = z
  .object({
    files: z
      .array(
        z
          .object({ path: z.string(), content: z.string().default(''), encoding: z.enum(['utf8', 'base64']).default('utf8'), ...attrs })
          .strict(),
      )
      .min(1)
      .max(1000),
  })
  .strict();

/** Body of `POST /files/mkdir`. */
export const mkdirSchema = z.object({ path: z.string(), ...attrs }).strict();
/** Body of `POST /files/move`. */
export const moveSchema = z.object({ source: z.string(), destination: z.string(), overwrite: z.boolean().default(false) }).strict();
/** Body of `POST /files/chmod`. */
export const chmodSchema = z.object({ path: z.string(), recursive: z.boolean().default(false), ...attrs }).strict();
/** Body of `POST /files/replace`. */
export const replaceSchema = z
  .object({
    path: z.string(),
    old: z.string().min(1).describe('Literal text to find (not a regex).'),
    new: z.string().describe('Replacement text.'),
    all: z.boolean().default(true).describe('Replace every occurrence (default) or only the first.'),
  })
  .strict();
/** Body of `POST /files/stat`. */
export const statSchema = z.object({ paths: z.array(z.string()).min(1).max(1000) }).strict();

const depthSchema = z.coerce.number().int().min(1).max(64);
const readQuery = z.object({ path: z.string(), encoding: z.string().optional() });
const writeQuery = z.object({ path: z.string(), ...attrs, mode: z.string().optional() });
const listQuery = z.object({ path: z.string(), depth: depthSchema.default(1) });
const searchQuery = z.object({ path: z.string(), pattern: z.string().min(1), depth: depthSchema.default(32) });
const deleteQuery = z.object({ path: z.string(), recursive: z.enum(['true', 'false']).default('false') });

const id = '/sandboxes/{sandboxID}/files';
const err = { '400': 'Invalid request or path (must be absolute)', '404': 'Sandbox or path not found', '409': 'Sandbox paused, or conflicting state' };
registerOperations(id, {
  get: {
    summary: 'Read a file (raw bytes, streamed; Range supported; ?encoding=utf-8|latin1|… for text)',
    query: [['path', 'absolute path'], ['encoding', 'answer as text/plain in UTF-8, decoding the file from this encoding']],
    responses: { '200': 'File content', '206': 'Partial content', '416': 'Range not satisfiable', '429': 'Stream cap reached', '503': 'Transfer spool full (Retry-After)', ...err },
  },
  put: {
    summary: 'Write a file from the raw request body (streamed; parents created; use Content-Type application/octet-stream)',
    query: [['path', 'absolute path'], ['mode', 'octal, e.g. 644'], ['owner', 'user'], ['group', 'group']],
    responses: { '201': 'EntryInfo', '413': 'Larger than BERTH_MAX_UPLOAD_BYTES', '429': 'Stream cap reached', '503': 'Transfer spool full (Retry-After)', ...err },
  },
  delete: { summary: 'Delete a file or folder', query: [['path', 'absolute path'], ['recursive', 'true to delete a non-empty folder']], responses: { '204': 'Deleted', ...err } },
});
registerOperations(`${id}/batch`, { post: { summary: 'Write many small files (JSON, 1 MB total)', body: writeBatchSchema, responses: { '201': '{files}', ...err } } });
registerOperations(`${id}/stat`, {
  get: { summary: 'Info for one path', query: [['path', 'absolute path']], responses: { '200': 'EntryInfo', ...err } },
  post: { summary: 'Info for many paths (null for missing ones)', body: statSchema, responses: { '200': '{entries}', ...err } },
});
registerOperations(`${id}/list`, {
  get: { summary: 'List a folder', query: [['path', 'absolute folder'], ['depth', '1 (default) to 64']], responses: { '200': '{entries, truncated}', ...err } },
});
registerOperations(`${id}/search`, {
  get: { summary: 'Find entries by name glob', query: [['path', 'folder'], ['pattern', 'glob, e.g. *.py'], ['depth', 'default 32']], responses: { '200': '{entries, truncated}', ...err } },
});
registerOperations(`${id}/mkdir`, { post: { summary: 'Create a folder and its parents', body: mkdirSchema, responses: { '201': 'EntryInfo', ...err } } });
registerOperations(`${id}/move`, { post: { summary: 'Move or rename', body: moveSchema, responses: { '200': 'EntryInfo', ...err } } });
registerOperations(`${id}/chmod`, { post: { summary: 'Set mode and/or owner', body: chmodSchema, responses: { '200': 'EntryInfo', ...err } } });
registerOperations(`${id}/replace`, { post: { summary: 'Replace literal text in a file', body: replaceSchema, responses: { '200': '{replacements, entry}', '413': 'File, or the result, larger than BERTH_FILE_EDIT_CAP_BYTES', ...err } } });

function attributes(raw: { mode?: string | number; owner?: string; group?: string }): FileAttributes {
  return {
    ...(raw.mode !== undefined ? { mode: parseMode(raw.mode) } : {}),
    ...(raw.owner !== undefined ? { owner: parseOwner(raw.owner, 'owner') } : {}),
    ...(raw.group !== undefined ? { group: parseOwner(raw.group, 'group') } : {}),
  };
}

/** The announced body size, or undefined (chunked upload). */
function contentLength(req: Request): number | undefined {
  const raw = req.get('content-length');
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  const n = Number(raw.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

function bodyWasParsed(req: Request): boolean {
  return (req as Request & { _body?: boolean })._body === true || req.readableEnded;
}

/** The files router. */
export function fileRoutes(service: SandboxService, files: FileOps, limits: { fileEditCapBytes: number; maxUploadBytes: number }, slots: StreamSlots): Router {
  const router = Router();
  const editCapBytes = limits.fileEditCapBytes;
  const beginInfo = (req: Request) => service.beginInteraction(callerOf(req).owner, String(req.params.id));
  const begin = async (req: Request) => (await beginInfo(req)).sandboxID;

  router.get('/sandboxes/:id/files', async (req, res) => {
    const q = parseOr400(readQuery, req.query, 'query');
    const path = sandboxPath(q.path);
    let decoder: TextDecoder | undefined;
    if (q.encoding !== undefined) {
      try {
        decoder = new TextDecoder(q.encoding);
      } catch {
        throw new InvalidArgumentError(`unknown encoding "${q.encoding}"; use e.g. utf-8, latin1, utf-16le`);
      }
    }
    const releaseSlot = slots.hold(callerOf(req).owner, 'file download', res);
    let file: OpenFile | undefined;
    let stop = () => undefined as void;
    try {
      const info = await beginInfo(req);
      const sandboxID = info.sandboxID;
      file = await files.open(sandboxID, path);
      stop = service.keepAlive(sandboxID, info.timeout);
      if (decoder) {
        const data = await files.readAll(path, file);
        res.type('text/plain; charset=utf-8').send(decoder.decode(data));
        return;
      }
      const range = parseByteRange(req.get('range'), file.size);
      if (range === 'unsatisfiable') {
        res.status(416).setHeader('content-range', `bytes */${file.size}`);
        res.json({ code: 'range_not_satisfiable', message: `the file has ${file.size} bytes` });
        return;
      }
      const offset = range?.start ?? 0;
      const length = range ? range.end - range.start + 1 : file.size;
      const body = file.content(offset, length); // may refuse (spool full) before anything is sent
      res.status(range ? 206 : 200);
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('accept-ranges', 'bytes');
      res.setHeader('content-length', String(length));
      res.setHeader('last-modified', new Date(file.modifiedAt).toUTCString());
      if (range) res.setHeader('content-range', `bytes ${range.start}-${range.end}/${file.size}`);
      await pipeline(body, res);
    } finally {
      file?.cancel();
      stop();
      releaseSlot();
    }
  });

  router.put('/sandboxes/:id/files', async (req, res) => {
    const q = parseOr400(writeQuery, req.query, 'query');
    const path = sandboxPath(q.path);
    const a = attributes(q);
    if (bodyWasParsed(req)) {
      throw new InvalidArgumentError('send the file as the raw body with Content-Type application/octet-stream (JSON bodies are parsed by the API)', 'unsupported_media_type');
    }
    const size = contentLength(req);
    try {
      if (size !== undefined && size > limits.maxUploadBytes) {
        throw new PayloadTooLargeError(`the upload is ${size} bytes; this server accepts at most ${limits.maxUploadBytes} (BERTH_MAX_UPLOAD_BYTES); nothing was written`);
      }
      const releaseSlot = slots.hold(callerOf(req).owner, 'file upload', res);
      try {
        const info = await beginInfo(req);
        const stop = service.keepAlive(info.sandboxID, info.timeout);
        try {
          res.status(201).json(await files.write(info.sandboxID, path, req, a, size));
        } finally {
          stop();
        }
      } finally {
        releaseSlot();
      }
    } catch (e) {
      // A refused body is not read: close the connection after the answer instead of draining it.
      if (!req.readableEnded) res.setHeader('connection', 'close');
      throw e;
    }
  });

  router.post('/sandboxes/:id/files/batch', async (req, res) => {
    const body = parseOr400(writeBatchSchema, req.body, 'files');
    const entries = body.files.map((f) => ({
      path: sandboxPath(f.path, 'files[].path'),
      content: Buffer.from(f.content, f.encoding === 'base64' ? 'base64' : 'utf8'),
      attrs: attributes(f),
    }));
    const sandboxID = await begin(req);
    const written = [];
    for (const f of entries) written.push(await files.write(sandboxID, f.path, f.content, f.attrs));
    res.status(201).json({ files: written });
  });

  router.get('/sandboxes/:id/files/stat', async (req, res) => {
    const path = sandboxPath(parseOr400(z.object({ path: z.string() }), req.query, 'query').path);
    res.json(await files.info(await begin(req), path));
  });

  router.post('/sandboxes/:id/files/stat', async (req, res) => {
    const paths = parseOr400(statSchema, req.body, 'stat request').paths.map((p) => sandboxPath(p, 'paths[]'));
    res.json({ entries: await files.stat(await begin(req), paths) });
  });

  router.get('/sandboxes/:id/files/list', async (req, res) => {
    const q = parseOr400(listQuery, req.query, 'query');
    const path = sandboxPath(q.path);
    res.json(await files.list(await begin(req), path, q.depth));
  });

  router.get('/sandboxes/:id/files/search', async (req, res) => {
    const q = parseOr400(searchQuery, req.query, 'query');
    const path = sandboxPath(q.path);
    res.json(await files.search(await begin(req), path, q.pattern, q.depth));
  });

  router.post('/sandboxes/:id/files/mkdir', async (req, res) => {
    const body = parseOr400(mkdirSchema, req.body, 'mkdir request');
    const path = sandboxPath(body.path);
    res.status(201).json(await files.mkdir(await begin(req), path, attributes(body)));
  });

  router.delete('/sandboxes/:id/files', async (req, res) => {
    const q = parseOr400(deleteQuery, req.query, 'query');
    const path = sandboxPath(q.path);
    await files.remove(await begin(req), path, q.recursive === 'true');
    res.status(204).end();
  });

  router.post('/sandboxes/:id/files/move', async (req, res) => {
    const body = parseOr400(moveSchema, req.body, 'move request');
    const source = sandboxPath(body.source, 'source');
    const destination = sandboxPath(body.destination, 'destination');
    res.json(await files.move(await begin(req), source, destination, body.overwrite));
  });

  router.post('/sandboxes/:id/files/chmod', async (req, res) => {
    const body = parseOr400(chmodSchema, req.body, 'chmod request');
    const path = sandboxPath(body.path);
    const a = attributes(body);
    if (!a.mode && !a.owner && !a.group) throw new InvalidArgumentError('give mode, owner and/or group');
    res.json(await files.chmod(await begin(req), path, a, body.recursive));
  });

  router.post('/sandboxes/:id/files/replace', async (req, res) => {
    const body = parseOr400(replaceSchema, req.body, 'replace request');
    const path = sandboxPath(body.path);
    const sandboxID = await begin(req);
    const text = (await files.readSmall(sandboxID, path)).toString('utf8');
    const { replacements, updated } = replaceLiteral(text, body.old, body.new, body.all, editCapBytes);
    if (replacements === 0) {
      res.json({ replacements: 0, entry: await files.info(sandboxID, path) });
      return;
    }
    res.json({ replacements, entry: await files.write(sandboxID, path, Buffer.from(updated, 'utf8')) });
  });

  return router;
}
