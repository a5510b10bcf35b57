/**
 * The Connect protocol (connectrpc.com) over HTTP/1.1 with the JSON codec, as E2B's envd
 * clients speak it: unary calls (`application/json` body in, JSON out, errors as
 * `{code, message}` with Connect's string codes and their HTTP statuses) and server streams
 * (`application/connect+json`: one enveloped request message in; enveloped messages out, each
 * with a 5-byte prefix (flags, big-endian length), ending with an end-of-stream envelope
 * (flag 0x02) that carries the error, if any). Pure helpers; no sandbox knowledge.
 */
import type { Request, Response } from 'express';
import { BerthError } from '../../../errors.js';

/** Connect's error codes (the string form is what goes on the wire). */
export type ConnectCode =
  | 'canceled'
  | 'unknown'
  | 'invalid_argument'
  | 'deadline_exceeded'
  | 'not_found'
  | 'already_exists'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'aborted'
  | 'out_of_range'
  | 'unimplemented'
  | 'internal'
  | 'unavailable'
  | 'data_loss'
  | 'unauthenticated';

/** The HTTP status of each code for unary errors (Connect protocol specification). */
export const HTTP_STATUS: Record<ConnectCode, number> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

/** An error with a Connect code, thrown by envd handlers. */
export class ConnectError extends Error {
  constructor(
    readonly code: ConnectCode,
    message: string,
  ) {
    super(message);
  }
}

/** Maps any error to a Connect code and a message a client can act on. Unknown errors are `internal` with a generic message. */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof BerthError) return new ConnectError(codeForBerthError(err), err.message);
  return new ConnectError('internal', 'internal error in berth envd; see the API log');
}

function codeForBerthError(err: BerthError): ConnectCode {
  switch (err.status) {
    case 400:
      return 'invalid_argument';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 409:
      // A paused sandbox (no auto-resume) is a precondition; an existing path is already_exists.
      return /paused/i.test(err.message) ? 'failed_precondition' : 'already_exists';
    case 413:
    case 429:
      return 'resource_exhausted';
    case 502:
    case 503:
      return 'unavailable';
    case 504:
      return 'deadline_exceeded';
    default:
      return 'internal';
  }
}

/** Writes a unary error response. */
export function sendUnaryError(res: Response, err: ConnectError): void {
  res.status(HTTP_STATUS[err.code]).type('application/json').send(JSON.stringify({ code: err.code, message: err.message }));
}

/** Envelope flags. */
export const FLAG_COMPRESSED = 0x01;
export const FLAG_END_STREAM = 0x02;

/** One enveloped message. */
export function envelope(flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** Splits a complete body into its envelopes. @throws ConnectError on a truncated or compressed envelope */
export function parseEnvelopes(body: Buffer): Array<{ flags: number; payload: Buffer }> {
  const out: Array<{ flags: number; payload: Buffer }> = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 5) throw new ConnectError('invalid_argument', 'truncated Connect envelope (need 5 header bytes)');
    const flags = body.readUInt8(at);
    const size = body.readUInt32BE(at + 1);
    if (body.length - at - 5 < size) throw new ConnectError('invalid_argument', `truncated Connect envelope (${size} bytes announced)`);
    if (flags & FLAG_COMPRESSED) throw new ConnectError('unimplemented', 'compressed messages are not supported: send connect-content-encoding: identity');
    out.push({ flags, payload: body.subarray(at + 5, at + 5 + size) });
    at += 5 + size;
  }
  return out;
}

/** Parses a JSON message (an empty payload is `{}`). */
export function parseJsonMessage(payload: Buffer): Record<string, unknown> {
  if (payload.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ConnectError('invalid_argument', 'the request message is not valid JSON: send the Connect JSON codec (content-type application/json)');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConnectError('invalid_argument', 'the request message must be a JSON object');
  return value as Record<string, unknown>;
}

/** Reads a request body to memory, refusing more than `maxBytes`. */
export async function readBody(req: Request, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) throw new ConnectError('resource_exhausted', `the request message is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The single request message of a unary call (`application/json`). */
export async function readUnaryRequest(req: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ConnectError('invalid_argument', `unsupported content-type "${type ?? ''}": berth envd speaks the Connect JSON codec (application/json for unary calls)`);
  }
  return parseJsonMessage(await readBody(req, maxBytes));
}

/** The single request message of a server-streaming call (`application/connect+json`, one envelope). */
export async function readStreamRequest(req: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/connect+json') {
    throw new ConnectError('invalid_argument', `unsupported content-type "${type ?? ''}": streaming calls take application/connect+json (enveloped JSON)`);
  }
  const encoding = req.get('connect-content-encoding');
  if (encoding && encoding !== 'identity') throw new ConnectError('unimplemented', `connect-content-encoding ${encoding} is not supported: use identity`);
  const messages = parseEnvelopes(await readBody(req, maxBytes)).filter((m) => !(m.flags & FLAG_END_STREAM));
  if (messages.length !== 1) throw new ConnectError('invalid_argument', `a server-streaming call takes exactly one request message (got ${messages.length})`);
  return parseJsonMessage(messages[0]!.payload);
}

/** An open server stream. */
export interface ConnectStream {
  /** Sends one message; resolves once the socket took it (backpressure) or the client left. */
  send(message: unknown): Promise<void>;
  /** Ends the stream, with an error when given. Idempotent. */
  end(err?: ConnectError): void;
  /** True once the client went away or the stream ended. */
  readonly closed: boolean;
  /** Bytes queued in the response and not yet taken by the socket. */
  readonly buffered: number;
  /** Registers a callback for the client going away. */
  onClose(listener: () => void): void;
}

/** Starts a server-stream response (HTTP 200, `application/connect+json`). */
export function openStream(res: Response): ConnectStream {
  res.status(200);
  res.setHeader('content-type', 'application/connect+json');
  res.setHeader('cache-control', 'no-cache, no-transform');
  res.setHeader('x-accel-buffering', 'no');
  res.flushHeaders();
  let closed = false;
  let ended = false;
  const listeners: Array<() => void> = [];
  res.on('close', () => {
    closed = true;
    for (const l of listeners.splice(0)) l();
  });
  return {
    get closed() {
      return closed || ended;
    },
    get buffered() {
      return res.writableLength;
    },
    onClose(listener) {
      if (closed) listener();
      else listeners.push(listener);
    },
    async send(message) {
      if (closed || ended) return;
      if (!res.write(envelope(0, Buffer.from(JSON.stringify(message))))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
    },
    end(err) {
      if (ended) return;
      ended = true;
      if (closed) return;
      const trailer = err ? { error: { code: err.code, message: err.message } } : {};
      res.end(envelope(FLAG_END_STREAM, Buffer.from(JSON.stringify(trailer))));
    },
  };
}

/**
 * The deadline a client asked for (`connect-timeout-ms`), in ms; undefined when none.
 * @throws ConnectError for a malformed value
 */
export function requestTimeoutMs(req: Request): number | undefined {
  const raw = req.get('connect-timeout-ms');
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d{1,10}$/.test(raw)) throw new ConnectError('invalid_argument', `connect-timeout-ms must be a positive integer of at most 10 digits, got "${raw}"`);
  const ms = Number(raw);
  return ms > 0 ? ms : undefined;
}

/** The keepalive interval a client asked for (`Keepalive-Ping-Interval`, seconds), in ms; default 50 s, at least 1 s. */
export function keepaliveIntervalMs(req: Request): number {
  const raw = Number(req.get('keepalive-ping-interval'));
  if (!Number.isFinite(raw) || raw <= 0) return 50_000;
  return Math.max(1000, Math.min(raw * 1000, 300_000));
}
