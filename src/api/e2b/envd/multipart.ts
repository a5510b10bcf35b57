/** A small parser of `multipart/form-data` bodies held in memory (E2B's `/files` uploads of str/bytes data). */
import { ConnectError } from './connect.js';

export interface Part {
  name: string | undefined;
  filename: string | undefined;
  contentType: string | undefined;
  data: Buffer;
}

/** The boundary of a `multipart/form-data` content type. @throws ConnectError when missing */
export function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw new ConnectError('invalid_argument', 'multipart/form-data without a boundary parameter');
  return boundary;
}

function param(header: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header) ?? new RegExp(`(?:^|;)\\s*${name}=([^;\\s]+)`, 'i').exec(header);
  return m?.[1]?.replace(/\\(.)/g, '$1');
}

/** Splits a body into its parts. @throws ConnectError for a malformed body */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new ConnectError('invalid_argument', 'multipart body without its boundary');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') break;
    if (body.subarray(at, at + 2).toString() !== '\r\n') throw new ConnectError('invalid_argument', 'malformed multipart body (expected CRLF after the boundary)');
    at += 2;
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd < 0) throw new ConnectError('invalid_argument', 'malformed multipart body (part headers do not end)');
    const headers = body.subarray(at, headEnd).toString('utf8').split('\r\n');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd + 4);
    if (next < 0) throw new ConnectError('invalid_argument', 'malformed multipart body (a part does not end with the boundary)');
    let disposition = '';
    let contentType: string | undefined;
    for (const h of headers) {
      const [k = '', ...v] = h.split(':');
      if (k.trim().toLowerCase() === 'content-disposition') disposition = v.join(':').trim();
      if (k.trim().toLowerCase() === 'content-type') contentType = v.join(':').trim();
    }
    parts.push({ name: param(disposition, 'name'), filename: param(disposition, 'filename'), contentType, data: body.subarray(headEnd + 4, next) });
    at = next + 2;
  }
  return parts;
}
