/**
 * Where and how the SDK talks to berth: base URL, API key, per-request timeout, retries.
 * Reads `BERTH_API_URL` and `BERTH_API_KEY` when the options do not say.
 */

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;

/** Options every entry point accepts. */
export interface ConnectionOptions {
  /** Base URL of the API; default `BERTH_API_URL`, else `http://127.0.0.1:3000`. */
  apiUrl?: string;
  /** API key; default `BERTH_API_KEY`. */
  apiKey?: string;
  /** Longest wait for one HTTP attempt (until the whole answer for JSON, until the headers for streams); 0 = none. Default 60 000. */
  requestTimeoutMs?: number;
  /** How often a 503 / 429 answer (or a refused connection) is retried; default 3. */
  maxRetries?: number;
  /** Cap on one wait between retries, including a server's `Retry-After`; default 30 000. */
  maxRetryDelayMs?: number;
}

/** Per-call options. */
export interface RequestOptions {
  /** Overrides the connection's `requestTimeoutMs` for this call. */
  requestTimeoutMs?: number;
  /** Aborts the call (and whatever it streams). */
  signal?: AbortSignal;
}

/** Resolved connection settings. */
export class ConnectionConfig {
  readonly apiUrl: string;
  readonly apiKey: string | undefined;
  readonly requestTimeoutMs: number;
  readonly maxRetries: number;
  readonly maxRetryDelayMs: number;

  constructor(opts: ConnectionOptions = {}, env: Record<string, string | undefined> = process.env) {
    this.apiUrl = (opts.apiUrl ?? env.BERTH_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, '');
    this.apiKey = opts.apiKey ?? (env.BERTH_API_KEY || undefined);
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.maxRetryDelayMs = opts.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS;
  }

  /** The options that rebuild this config (to hand to another entry point). */
  toOptions(): ConnectionOptions {
    return {
      apiUrl: this.apiUrl,
      ...(this.apiKey !== undefined ? { apiKey: this.apiKey } : {}),
      requestTimeoutMs: this.requestTimeoutMs,
      maxRetries: this.maxRetries,
      maxRetryDelayMs: this.maxRetryDelayMs,
    };
  }
}
