/**
 * Errors of the E2B door: `{code: <HTTP status>, message}` (what the E2B SDKs parse), same
 * statuses and messages as berth's own REST (src/api/rest/error-middleware.ts).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { BerthError, ContainerMissingError } from '../../errors.js';
import { asBerthError, describeZodError, setRetryAfter } from '../rest/error-middleware.js';

export function e2bErrorMiddleware(logger: Logger, onContainerMissing: (sandboxID: string) => void) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof ContainerMissingError) onContainerMissing(err.sandboxID);
    if (res.headersSent) {
      res.end();
      return;
    }
    const send = (status: number, message: string) => res.status(status).json({ code: status, message });
    const known = asBerthError(err);
    if (known) {
      if (!(err instanceof BerthError)) logger.warn({ err, method: req.method, path: req.path }, 'Temporal unavailable (answered 503, E2B door)');
      setRetryAfter(res, known);
      send(known.status, known.message);
      return;
    }
    if (err instanceof z.ZodError) {
      send(400, describeZodError(err));
      return;
    }
    const type = (err as { type?: unknown })?.type;
    if (type === 'entity.parse.failed') {
      send(400, 'request body is not valid JSON');
      return;
    }
    if (type === 'entity.too.large') {
      send(413, 'request body is too large');
      return;
    }
    if (err instanceof URIError) {
      send(400, 'the URL path has a malformed percent-escape; write a literal % as %25');
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, 'unhandled error (E2B door)');
    send(500, 'internal error; it was logged. Retry, and report it if it persists.');
  };
}
