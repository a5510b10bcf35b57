/** A plain-HTTP Connect-RPC client for berth's envd in tests (JSON codec, enveloped server streams). */
import type { TestStack } from './stack.js';

export interface EnvdTarget {
  stack: TestStack;
  sandboxID: string;
  /** Headers sent with every call (credentials); default X-API-Key of the first owner + E2b-Sandbox-Id. */
  headers?: Record<string, string>;
}

export function envdHeaders(t: EnvdTarget): Record<string, string> {
  return t.headers ?? { 'x-api-key': Object.values(t.stack.keys)[0] ?? '', 'e2b-sandbox-id': t.sandboxID };
}

export async function unary(t: EnvdTarget, method: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.stack.envdUrl}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...envdHeaders(t), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let json: any = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, body: json, contentType: res.headers.get('content-type') };
}

export function envelope(flags: number, message: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(message));
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

export interface StreamResult {
  status: number;
  contentType: string | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  messages: any[];
  /** The end-of-stream message (`{}` or `{error: {code, message}}`), undefined when the stream was cut. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  trailer: any;
}

/**
 * Calls a server-streaming method and reads it to the end, or until `stopWhen` says so (then the
 * request is aborted, like a client going away).
 */
export async function serverStream(
  t: EnvdTarget,
  method: string,
  body: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  opts: { stopWhen?: (messages: any[]) => boolean; headers?: Record<string, string>; onMessage?: (m: any) => void | Promise<void> } = {},
): Promise<StreamResult> {
  const controller = new AbortController();
  const res = await fetch(`${t.stack.envdUrl}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/connect+json', 'connect-protocol-version': '1', ...envdHeaders(t), ...opts.headers },
    body: envelope(0, body),
    signal: controller.signal,
  });
  const result: StreamResult = { status: res.status, contentType: res.headers.get('content-type'), messages: [], trailer: undefined };
  let pending = Buffer.alloc(0);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      pending = Buffer.concat([pending, Buffer.from(chunk)]);
      while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
        const flags = pending.readUInt8(0);
        const size = pending.readUInt32BE(1);
        const msg = JSON.parse(pending.subarray(5, 5 + size).toString('utf8'));
        pending = pending.subarray(5 + size);
        if (flags & 2) result.trailer = msg;
        else {
          result.messages.push(msg);
          await opts.onMessage?.(msg);
        }
      }
      if (opts.stopWhen?.(result.messages)) {
        controller.abort();
        break;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  }
  return result;
}

/** Concatenated decoded output of a process stream. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function output(messages: any[], kind: 'stdout' | 'stderr'): string {
  return messages
    .map((m) => m.event?.data?.[kind])
    .filter((d): d is string => typeof d === 'string')
    .map((d) => Buffer.from(d, 'base64').toString('utf8'))
    .join('');
}
