/** `/sandboxes/{id}/files…`: read (streamed, ranges), write (streamed), stat, list, mkdir, delete, move, chmod, search, replace. */
import { pipeline } from 'node:stream/promises';
import { TextDecoder } from 'node:util';
import { Router, type Request } from 'express';
import { z } from 'zod';
import { InvalidArgumentError, PayloadTooLargeError } from '../../errors.js';
import type { FileAttributes, FileOps, OpenFile } from '../../dataplane/files.js';
import { replaceInFile } from '../../dataplane/replace.js';
import { MAX_PATH_BYTES, parseByteRange, parseMode, parseOwner, sandboxPath } from '../../dataplane/paths.js';
import { callerOf } from '../auth.js';
import type { Op } from './openapi.js';
import { endpoint, mount, param } from './endpoint.js';
import { entriesSchema, entryInfoSchema, replaceResultSchema, statEntriesSchema, writtenFilesSchema } from './response-schemas.js';
import type { InteractionGate } from '../../service/interaction-gate.js';
import type { StreamSlots } from '../../service/stream-slots.js';

const MODE = /^0?[0-7]{3,4}$/;
const OWNER = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,31}$/;
/** An absolute path inside the sandbox (sandboxPath() normalizes it and checks its byte lengths). */
const pathField = z
  .string()
  // eslint-disable-next-line no-control-regex -- NUL is refused
  .regex(/^[/][^\n\r\x00]*$/, 'must be absolute (start with /) without line breaks or NUL bytes')
  .max(MAX_PATH_BYTES)
  .describe('Absolute path inside the sandbox.');
const attrs = {
  mode: z
    .union([z.string().regex(MODE, 'mode must be octal like "644" or "0755"'), z.number().int().min(0).max(7777)])
    .optional()
    .describe('Octal permissions, e.g. "644" (a number is read as octal digits).'),
  owner: z.string().regex(OWNER, 'must be a user name or numeric ID').optional().describe('User name or uid.'),
  group: z.string().regex(OWNER, 'must be a group name or numeric ID').optional().describe('Group name or gid.'),
};

/** Body of `POST /files/batch`. */
export const writeBatchSchema = z
  .object({
    files: z
      .array(
        z
          .object({ path: pathField, content: z.string().default(''), encoding: z.enum(['utf8', 'base64']).default('utf8'), ...attrs })
          .strict(),
      )
      .min(1)
      .max(1000),
  })
  .strict();

/** Body of `POST /files/mkdir`. */
export const mkdirSchema = z.object({ path: pathField, ...attrs }).strict();
/** Body of `POST /files/move`. */
export const moveSchema = z.object({ source: pathField, destination: pathField, overwrite: z.boolean().default(false) }).strict();
/** Body of `POST /files/chmod`. */
export const chmodSchema = z.object({ path: pathField, recursive: z.boolean().default(false), ...attrs }).strict();
/** Body of `POST /files/replace`. */
export const replaceSchema = z
  .object({
    path: pathField,
    old: z.string().min(1).describe('Literal text to find (not a regex).'),
    new: z.string().describe('Replacement text.'),
    all: z.boolean().default(true).describe('Replace every occurrence (default) or only the first.'),
  })
  .strict();
/** Body of `POST /files/stat`. */
export const statSchema = z.object({ paths: z.array(pathField).min(1).max(1000) }).strict();

const depthSchema = z.coerce.number().int().min(1).max(64);
const readQuery = z.object({ path: pathField, encoding: z.string().min(1).optional().describe('Answer as text/plain in UTF-8, decoding the file from this encoding (e.g. utf-8, latin1).') });
const writeQuery = z.object({ path: pathField, ...attrs, mode: z.string().regex(MODE, 'mode must be octal like "644" or "0755"').optional().describe('Octal permissions, e.g. 644.') });
const statQuery = z.object({ path: pathField });
const listQuery = z.object({ path: pathField, depth: depthSchema.default(1).describe('1 (default) to 64.') });
const searchQuery = z.object({ path: pathField, pattern: z.string().min(1).describe('Name glob, e.g. *.py.'), depth: depthSchema.default(32).describe('1 to 64, default 32.') });
const deleteQuery = z.object({ path: pathField, recursive: z.enum(['true', 'false']).default('false').describe('true to delete a non-empty folder.') });

const id = '/sandboxes/{sandboxID}/files';
const err: Op['errors'] = [
  [404, 'Sandbox or path not found'],
  [409, 'Sandbox paused, or conflicting state (e.g. destination exists)'],
];
const entry = (description: string) => ({ description, json: entryInfoSchema });
const read = endpoint({
  method: 'get',
  path: id,
  summary: 'Read a file (raw bytes, streamed; Range supported; ?encoding=utf-8|latin1|… for text)',
  query: readQuery,
  responses: {
    '200': { description: 'File content', other: { 'application/octet-stream': { type: 'string', format: 'binary' }, 'text/plain': { type: 'string' } } },
    '206': { description: 'Partial content (Range)', other: { 'application/octet-stream': { type: 'string', format: 'binary' } } },
  },
  errors: [...err, 416, [429, 'Owner stream cap reached (BERTH_MAX_STREAMS_PER_OWNER)']],
});
const write = endpoint({
  method: 'put',
  path: id,
  summary: 'Write a file from the raw request body (streamed; parents created)',
  query: writeQuery,
  rawBody: { contentType: 'application/octet-stream', description: 'The file content (any media type but application/json).' },
  responses: { '201': entry('The written file') },
  errors: [...err, [413, 'Larger than BERTH_MAX_UPLOAD_BYTES'], [429, 'Owner stream cap reached (BERTH_MAX_STREAMS_PER_OWNER)'], 507],
});
const remove = endpoint({ method: 'delete', path: id, summary: 'Delete a file or folder', query: deleteQuery, responses: { '204': { description: 'Deleted' } }, errors: err });
const batch = endpoint({
  method: 'post',
  path: `${id}/batch`,
  summary: 'Write many small files (JSON, 1 MB total)',
  body: writeBatchSchema,
  bodyName: 'files',
  responses: { '201': { description: 'The written files', json: writtenFilesSchema } },
  errors: err,
});
const statOne = endpoint({ method: 'get', path: `${id}/stat`, summary: 'Info for one path', query: statQuery, responses: { '200': entry('The entry') }, errors: err });
const statMany = endpoint({
  method: 'post',
  path: `${id}/stat`,
  summary: 'Info for many paths (null for missing ones)',
  body: statSchema,
  bodyName: 'stat request',
  responses: { '200': { description: 'Entries by path', json: statEntriesSchema } },
  errors: err,
});
const list = endpoint({ method: 'get', path: `${id}/list`, summary: 'List a folder', query: listQuery, responses: { '200': { description: 'Entries', json: entriesSchema } }, errors: err });
const search = endpoint({
  method: 'get',
  path: `${id}/search`,
  summary: 'Find entries by name glob',
  query: searchQuery,
  responses: { '200': { description: 'Matching entries', json: entriesSchema } },
  errors: err,
});
const mkdir = endpoint({ method: 'post', path: `${id}/mkdir`, summary: 'Create a folder and its parents', body: mkdirSchema, bodyName: 'mkdir request', responses: { '201': entry('The folder') }, errors: err });
const move = endpoint({ method: 'post', path: `${id}/move`, summary: 'Move or rename', body: moveSchema, bodyName: 'move request', responses: { '200': entry('The entry at its destination') }, errors: err });
const chmod = endpoint({ method: 'post', path: `${id}/chmod`, summary: 'Set mode and/or owner', body: chmodSchema, bodyName: 'chmod request', responses: { '200': entry('The entry') }, errors: err });
const replace = endpoint({
  method: 'post',
  path: `${id}/replace`,
  summary: 'Replace literal text in a file',
  body: replaceSchema,
  bodyName: 'replace request',
  responses: { '200': { description: 'How many replacements, and the entry', json: replaceResultSchema } },
  errors: [...err, [413, 'The file, or the result, is larger than BERTH_FILE_EDIT_CAP_BYTES']],
});

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
export function fileRoutes(gate: InteractionGate, files: FileOps, limits: { fileEditCapBytes: number; maxUploadBytes: number }, slots: StreamSlots): Router {
  const router = Router();
  const editCapBytes = limits.fileEditCapBytes;
  const beginInfo = (req: Request) => gate.beginInteraction(callerOf(req).owner, param(req, 'sandboxID'));
  const begin = async (req: Request) => (await beginInfo(req)).sandboxID;

  mount(router, read, async (req, res, { query: q }) => {
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
      stop = gate.keepAlive(sandboxID, info.timeout);
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

  mount(router, write, async (req, res, { query: q }) => {
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
        const stop = gate.keepAlive(info.sandboxID, info.timeout);
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

  mount(router, batch, async (req, res, { body }) => {
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

  mount(router, statOne, async (req, res, { query }) => {
    const path = sandboxPath(query.path);
    res.json(await files.info(await begin(req), path));
  });

  mount(router, statMany, async (req, res, { body }) => {
    const paths = body.paths.map((p) => sandboxPath(p, 'paths[]'));
    res.json({ entries: await files.stat(await begin(req), paths) });
  });

  mount(router, list, async (req, res, { query: q }) => {
    const path = sandboxPath(q.path);
    res.json(await files.list(await begin(req), path, q.depth));
  });

  mount(router, search, async (req, res, { query: q }) => {
    const path = sandboxPath(q.path);
    res.json(await files.search(await begin(req), path, q.pattern, q.depth));
  });

  mount(router, mkdir, async (req, res, { body }) => {
    const path = sandboxPath(body.path);
    res.status(201).json(await files.mkdir(await begin(req), path, attributes(body)));
  });

  mount(router, remove, async (req, res, { query: q }) => {
    const path = sandboxPath(q.path);
    await files.remove(await begin(req), path, q.recursive === 'true');
    res.status(204).end();
  });

  mount(router, move, async (req, res, { body }) => {
    const source = sandboxPath(body.source, 'source');
    const destination = sandboxPath(body.destination, 'destination');
    res.json(await files.move(await begin(req), source, destination, body.overwrite));
  });

  mount(router, chmod, async (req, res, { body }) => {
    const path = sandboxPath(body.path);
    const a = attributes(body);
    if (!a.mode && !a.owner && !a.group) throw new InvalidArgumentError('give mode, owner and/or group');
    res.json(await files.chmod(await begin(req), path, a, body.recursive));
  });

  mount(router, replace, async (req, res, { body }) => {
    const path = sandboxPath(body.path);
    res.json(await replaceInFile(files, await begin(req), path, body, editCapBytes));
  });

  return router;
}
