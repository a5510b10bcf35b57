/**
 * One HTTP call to berth with the SDK's rules: API key header, per-attempt timeout,
 * caller's AbortSignal, retries on 503 / 429 honouring `Retry-After`, and errors mapped
 * to the {@link BerthError} family.
 */
import { ConnectionConfig, type RequestOptions } from './connection.js';
import { AbortedError, BerthError, errorFromResponse, TimeoutError, UnavailableError } from './errors.js';

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface SendOptions extends RequestOptions {
  query?: Record<string, QueryValue>;
  /** JSON body. */
  json?: unknown;
  /** Raw body, sent as `application/octet-stream`. A stream body is never retried. */
  raw?: string | Uint8Array | Blob | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
  /** The answer is read as a stream: the timeout stops at the headers. */
  stream?: boolean;
}

const RETRY_STATUSES = new Set([429, 503]);
const USER_AGENT = 'berth-sdk-typescript/0.1.0';

/** Milliseconds a `Retry-After` header asks for (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function backoffMs(attempt: number): number {
  const base = 250 * 2 ** attempt;
  return base / 2 + Math.random() * (base / 2);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError('aborted by the caller', { code: 'aborted', cause: signal.reason }));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError('aborted by the caller', { code: 'aborted', cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function isConnectionRefused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return cause?.code === 'ECONNREFUSED';
}

/** One attempt's abort controller: the caller's signal plus the request timeout. */
class Attempt {
  readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort: () => void;

  constructor(
    private readonly signal: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    this.onAbort = () => this.controller.abort(new AbortedError('aborted by the caller', { code: 'aborted', cause: signal?.reason }));
    if (signal?.aborted) this.onAbort();
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (timeoutMs > 0) {
      this.timer = setTimeout(
        () => this.controller.abort(new TimeoutError(`no answer within ${timeoutMs} ms (requestTimeoutMs)`, { code: 'timeout' })),
        timeoutMs,
      );
    }
  }

  /** Stops the timeout (the caller's signal still aborts). */
  stopTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops listening entirely. */
  release(): void {
    this.stopTimer();
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  /** The error to throw for a failure during this attempt. */
  translate(err: unknown): unknown {
    const reason: unknown = this.controller.signal.reason;
    if (this.controller.signal.aborted && reason instanceof BerthError) return reason;
    return err;
  }
}

/** Sends requests for one {@link ConnectionConfig}. */
export class Transport {
  constructor(readonly config: ConnectionConfig) {}

  url(path: string, query?: Record<string, QueryValue>): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value as readonly string[]) params.append(key, v);
      else params.append(key, String(value));
    }
    const qs = params.toString();
    return `${this.config.apiUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Sends and parses a JSON answer (`undefined` for 204). */
  async json<T>(method: string, path: string, opts: SendOptions = {}): Promise<T> {
    const { response, attempt } = await this.open(method, path, { ...opts, stream: false });
    try {
      if (response.status === 204) return undefined as T;
      const text = await response.text();
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      throw attempt.translate(err);
    } finally {
      attempt.release();
    }
  }

  /**
   * Sends and returns the answer with its body unread. With `stream`, the timeout stops once
   * the headers arrived; the caller's signal keeps aborting the body.
   */
  async send(method: string, path: string, opts: SendOptions = {}): Promise<Response> {
    const { response, attempt } = await this.open(method, path, opts);
    if (!opts.stream) {
      // Buffer now so that the timeout covers the whole answer.
      try {
        const body = await response.arrayBuffer();
        return new Response(response.status === 204 ? null : body, { status: response.status, headers: response.headers });
      } catch (err) {
        throw attempt.translate(err);
      } finally {
        attempt.release();
      }
    }
    attempt.stopTimer();
    if (!response.body || !opts.signal) return response;
    // Stop listening to the caller's signal once the body has been read to its end.
    const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: () => attempt.release() }));
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  private async open(method: string, path: string, opts: SendOptions): Promise<{ response: Response; attempt: Attempt }> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...opts.headers };
    if (this.config.apiKey) headers.authorization = `Bearer ${this.config.apiKey}`;
    let body: RequestInit['body'];
    let replayable = true;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.raw !== undefined) {
      headers['content-type'] ??= 'application/octet-stream';
      body = opts.raw as RequestInit['body'];
      replayable = !(opts.raw instanceof ReadableStream);
    }
    const url = this.url(path, opts.query);
    const timeoutMs = opts.requestTimeoutMs ?? this.config.requestTimeoutMs;
    for (let n = 0; ; n++) {
      const attempt = new Attempt(opts.signal, timeoutMs);
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          body,
          signal: attempt.controller.signal,
          ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (err) {
        attempt.release();
        const translated = attempt.translate(err);
        if (translated instanceof BerthError) throw translated;
        if (isConnectionRefused(err) && replayable && n < this.config.maxRetries) {
          await sleep(Math.min(backoffMs(n), this.config.maxRetryDelayMs), opts.signal);
          continue;
        }
        const why = (err as { cause?: { message?: string } }).cause?.message ?? String(err);
        throw new UnavailableError(`cannot reach berth at ${this.config.apiUrl} (${why}); is the API running? Set BERTH_API_URL`, {
          code: 'unreachable',
          cause: err,
        });
      }
      if (response.ok) return { response, attempt };
      let text: string;
      try {
        text = await response.text();
      } catch (err) {
        throw attempt.translate(err);
      } finally {
        attempt.release();
      }
      if (RETRY_STATUSES.has(response.status) && replayable && n < this.config.maxRetries) {
        const wait = retryAfterMs(response.headers.get('retry-after')) ?? backoffMs(n);
        await sleep(Math.min(wait, this.config.maxRetryDelayMs), opts.signal);
        continue;
      }
      throw errorFromResponse(response.status, text);
    }
  }
}
