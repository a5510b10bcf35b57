/**
 * envd's HTTP file API: `GET /files?path=&username=` downloads a file (streamed), `POST /files`
 * uploads either one raw body (`application/octet-stream`, `path` in the query, streamed and
 * optionally gzip-encoded) or `multipart/form-data` parts (each part's filename is its path
 * unless `path` is given for a single part; held in memory, up to {@link MULTIPART_MAX_BYTES}).
 * Answers `[{name, type, path}]`. Errors are `{code: <HTTP status>, message}` like envd's.
 */
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Request, Response } from 'express';
import type { FileOps } from '../../../dataplane/files.js';
import { ConnectError, readBody } from './connect.js';
import { writeInfo } from './entry.js';
import { boundaryOf, parseMultipart } from './multipart.js';
import { resolvePath } from './messages.js';
import type { EnvdCall } from './call.js';

/** multipart uploads are parsed in memory: at most this much. */
export const MULTIPART_MAX_BYTES = 64 * 1024 * 1024;

function queryString(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new ConnectError('invalid_argument', `query parameter ${name} must be given once`);
  return v;
}

/** The `path` query parameter resolved for the call's user. */
function pathParam(req: Request, call: EnvdCall, required: boolean): string | undefined {
  const raw = queryString(req, 'path');
  if (!raw) {
    if (required) throw new ConnectError('invalid_argument', 'the path query parameter is required, e.g. /files?path=/home/user/a.txt');
    return undefined;
  }
  return resolvePath(raw, call.user);
}

export class FileTransfer {
  constructor(private readonly files: FileOps) {}

  async download(call: EnvdCall, req: Request, res: Response): Promise<void> {
    const path = pathParam(req, call, true)!;
    const file = await this.files.open(call.sandboxID, path);
    try {
      res.status(200);
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('content-length', String(file.size));
      res.setHeader('content-disposition', `attachment; filename="${encodeURIComponent(path.split('/').pop() ?? 'file')}"`);
      await pipeline(file.content(0, file.size), res);
    } finally {
      file.cancel();
    }
  }

  async upload(call: EnvdCall, req: Request, res: Response, maxUploadBytes: number): Promise<void> {
    const type = (req.get('content-type') ?? '').toLowerCase();
    const attrs = call.user === 'root' ? {} : { owner: call.user };
    if (type.startsWith('multipart/form-data')) {
      const body = await readBody(req, Math.min(MULTIPART_MAX_BYTES, maxUploadBytes));
      const parts = parseMultipart(body, boundaryOf(req.get('content-type') ?? '')).filter((p) => p.filename !== undefined || p.name === 'file');
      if (parts.length === 0) throw new ConnectError('invalid_argument', 'the multipart body has no file part (send parts named "file" whose filename is the path)');
      const single = pathParam(req, call, false);
      const written = [];
      for (const part of parts) {
        const target = parts.length === 1 && single ? single : resolvePath(part.filename || undefined, call.user);
        if (!target) throw new ConnectError('invalid_argument', 'a file part has no filename: give its path as the filename or in the path query parameter');
        written.push(writeInfo(await this.files.write(call.sandboxID, target, part.data, attrs)));
      }
      res.status(200).json(written);
      return;
    }
    const path = pathParam(req, call, true)!;
    const encoding = (req.get('content-encoding') ?? 'identity').toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip') throw new ConnectError('invalid_argument', `content-encoding ${encoding} is not supported (identity or gzip)`);
    const length = req.get('content-length');
    const size = encoding === 'identity' && length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    const body = encoding === 'gzip' ? req.pipe(createGunzip()) : req;
    if (encoding === 'gzip') req.once('error', (e) => body.destroy(e));
    const entry = await this.files.write(call.sandboxID, path, body, attrs, size);
    res.status(200).json([writeInfo(entry)]);
  }
}
