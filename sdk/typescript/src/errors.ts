/**
 * One error root, {@link BerthError}, with a subclass per kind of failure. API answers are
 * mapped by status through {@link ERROR_BY_STATUS}; the server's `{code, message}` is kept.
 */

export interface BerthErrorDetails {
  /** HTTP status of the answer, when there was one. */
  status?: number;
  /** The server's stable error code (`not_found`, `conflict`, …), or the SDK's own. */
  code?: string;
  cause?: unknown;
}

/** Root of every error the SDK throws. */
export class BerthError extends Error {
  readonly status: number | undefined;
  readonly code: string;

  constructor(message: string, details: BerthErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.status = details.status;
    this.code = details.code ?? 'error';
  }
}

/** 400 (and 413, 416): the request is malformed; the message names the field. */
export class InvalidArgumentError extends BerthError {}
/** 401/403: no API key or an unknown one. */
export class UnauthorizedError extends BerthError {}
/** 404: unknown, stopped, or another owner's sandbox (or a missing path or command). */
export class NotFoundError extends BerthError {}
/** 409: valid request in the wrong state (paused sandbox, existing destination, …). */
export class ConflictError extends BerthError {}
/** 429: a quota was reached (retried with backoff before this is thrown). */
export class RateLimitedError extends BerthError {}
/** 502/503: berth or one of its dependencies is unavailable (retried before this is thrown). */
export class UnavailableError extends BerthError {}
/** The request took longer than `requestTimeoutMs` (or the server answered 408/504). */
export class TimeoutError extends BerthError {}
/** The caller's `AbortSignal` fired. */
export class AbortedError extends BerthError {}

/** A command ended with a non-zero exit code (or was killed by its `timeoutMs`). */
export class CommandExitError extends BerthError {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(result: { exitCode: number; stdout: string; stderr: string; timedOut: boolean }) {
    super(
      result.timedOut ? `command timed out and was killed (exit code ${result.exitCode})` : `command exited with code ${result.exitCode}`,
      { code: 'command_exit' },
    );
    this.exitCode = result.exitCode;
    this.stdout = result.stdout;
    this.stderr = result.stderr;
    this.timedOut = result.timedOut;
  }
}

type ErrorClass = new (message: string, details?: BerthErrorDetails) => BerthError;

/** HTTP status → error class. Anything else is a plain {@link BerthError}. */
export const ERROR_BY_STATUS: ReadonlyMap<number, ErrorClass> = new Map<number, ErrorClass>([
  [400, InvalidArgumentError],
  [401, UnauthorizedError],
  [403, UnauthorizedError],
  [404, NotFoundError],
  [408, TimeoutError],
  [409, ConflictError],
  [413, InvalidArgumentError],
  [416, InvalidArgumentError],
  [429, RateLimitedError],
  [502, UnavailableError],
  [503, UnavailableError],
  [504, TimeoutError],
]);

/** Builds the error for a failed answer from its status and body text. */
export function errorFromResponse(status: number, bodyText: string): BerthError {
  let code = `http_${status}`;
  let message = bodyText.trim() || `HTTP ${status}`;
  try {
    const body = JSON.parse(bodyText) as unknown;
    if (body && typeof body === 'object') {
      const b = body as { code?: unknown; message?: unknown };
      if (typeof b.code === 'string') code = b.code;
      if (typeof b.message === 'string') message = b.message;
    }
  } catch {
    // not JSON: keep the text
  }
  const Class = ERROR_BY_STATUS.get(status) ?? BerthError;
  return new Class(message, { status, code });
}
