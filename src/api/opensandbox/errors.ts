/**
 * Errors in the OpenSandbox protocol's shape: `{ "code": "NOT_FOUND", "message": … }` (the SDK
 * reads `code` and `message`, or loses the status). Codes are berth's codes in upper case;
 * what berth does not offer is `NOT_SUPPORTED` (501).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import { BerthError, ContainerMissingError, InvalidArgumentError, NotSupportedError } from '../../errors.js';
import { asBerthError, describeZodError, setRetryAfter } from '../rest/error-middleware.js';

/** Parses `value` with `schema`; a failure is a 400 naming each bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new InvalidArgumentError(`invalid ${what}: ${describeZodError(result.error)}`);
  return result.data;
}

/** A route of the protocol that berth does not offer: always NOT_SUPPORTED, whatever the input. */
export function notSupported(what: string, why: string) {
  return (_req: Request, _res: Response, next: NextFunction): void => next(new NotSupportedError(`${what} is not supported by berth: ${why}`));
}

/** The front door's error middleware (mounted on its own router, so berth's REST keeps its shape). */
export function openSandboxErrors(logger: Logger, onContainerMissing: (sandboxID: string) => void) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof ContainerMissingError) onContainerMissing(err.sandboxID);
    if (res.headersSent) {
      logger.warn({ err, path: req.originalUrl }, 'opensandbox: error after response started');
      res.end();
      return;
    }
    const send = (status: number, code: string, message: string) => res.status(status).json({ code, message });
    const known = asBerthError(err);
    if (known) {
      if (!(err instanceof BerthError)) logger.warn({ err, method: req.method, path: req.originalUrl }, 'opensandbox: Temporal unavailable (answered 503)');
      setRetryAfter(res, known);
      send(known.status, known.code.toUpperCase(), known.message);
      return;
    }
    if (err instanceof z.ZodError) return void send(400, 'INVALID_ARGUMENT', describeZodError(err));
    if (err instanceof URIError) return void send(400, 'INVALID_ARGUMENT', 'the URL path has a malformed percent-escape; write a literal % as %25');
    const type = (err as { type?: unknown })?.type;
    if (type === 'entity.parse.failed') return void send(400, 'INVALID_JSON', 'request body is not valid JSON');
    if (type === 'entity.too.large') return void send(413, 'PAYLOAD_TOO_LARGE', 'request body is too large');
    logger.error({ err, method: req.method, path: req.originalUrl }, 'opensandbox: unhandled error');
    send(500, 'INTERNAL', 'internal error; it was logged. Retry, and report it if it persists.');
  };
}
