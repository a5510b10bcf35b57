import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { BerthError, ContainerMissingError } from '../../errors.js';
import { temporalUnavailable } from '../../service/temporal-overload.js';
import { sandboxIDOfUrl } from '../metrics.js';

/**
 * The error as berth shows it: a BerthError as is; Temporal unreachable or at a limit that no
 * service call mapped (a gRPC UNAVAILABLE / RESOURCE_EXHAUSTED) is a 503 with Retry-After, never a 500.
 */
export function asBerthError(err: unknown): BerthError | undefined {
  return err instanceof BerthError ? err : temporalUnavailable(err);
}

/** Sets Retry-After when the error says how long to wait (503s of an overloaded dependency, a full spool). */
export function setRetryAfter(res: Response, err: BerthError): void {
  const retryAfterS = (err as { retryAfterS?: unknown }).retryAfterS;
  if (typeof retryAfterS === 'number') res.setHeader('retry-after', String(retryAfterS));
}

/** Formats zod issues as one readable sentence: `timeout: Expected number, received string`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

/**
 * The one error middleware: BerthError → its status; zod → 400; malformed JSON or URL → 400;
 * Temporal unreachable or overloaded → 503 with Retry-After; anything else → 500 with a generic message (the cause is logged, never sent). A data-plane
 * call that found no container is reported through `onContainerMissing` (then answered 404).
 */
export function errorMiddleware(logger: Logger, onContainerMissing: (sandboxID: string) => void = () => undefined) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof ContainerMissingError) onContainerMissing(err.sandboxID);
    if (res.headersSent) {
      logger.warn({ err, path: req.path, sandboxID: sandboxIDOfUrl(req.originalUrl) }, 'error after response started');
      res.end();
      return;
    }
    const known = asBerthError(err);
    if (known) {
      if (!(err instanceof BerthError)) logger.warn({ err, method: req.method, path: req.path }, 'Temporal unavailable (answered 503)');
      setRetryAfter(res, known);
      res.status(known.status).json({ code: known.code, message: known.message });
      return;
    }
    if (err instanceof z.ZodError) {
      res.status(400).json({ code: 'invalid_argument', message: describeZodError(err) });
      return;
    }
    if (err instanceof URIError) {
      // The router could not percent-decode a path segment (e.g. `/sandboxes/%ZZ`).
      res.status(400).json({ code: 'invalid_argument', message: `the URL path has a malformed percent-escape (${err.message}); write a literal % as %25` });
      return;
    }
    const type = (err as { type?: unknown })?.type;
    if (type === 'entity.parse.failed') {
      res.status(400).json({ code: 'invalid_json', message: 'request body is not valid JSON' });
      return;
    }
    if (type === 'entity.too.large') {
      res.status(413).json({ code: 'payload_too_large', message: 'request body is too large' });
      return;
    }
    logger.error({ err, method: req.method, path: req.path, sandboxID: sandboxIDOfUrl(req.originalUrl) }, 'unhandled error');
    res.status(500).json({ code: 'internal', message: 'internal error; it was logged. Retry, and report it if it persists.' });
  };
}
