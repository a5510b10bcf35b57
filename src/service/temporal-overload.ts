/**
 * Temporal unreachable or at one of its limits, recognised from the gRPC status on an error's
 * cause chain. Shared by the Temporal error table (src/service/temporal-errors.ts) and by every
 * front door's error middleware as a last resort, so that a Temporal call nobody wrapped is a
 * 503 with Retry-After, never a 500. Pure: no Temporal imports, usable from the front doors.
 */
import { UnavailableError } from '../errors.js';

/** The gRPC status codes Temporal's client surfaces, by name. */
export const Grpc = { DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;

/** Seconds a client is told to wait (Retry-After) when Temporal is unreachable or overloaded. */
export const TEMPORAL_RETRY_AFTER_S = 2;

/** The first link of an error's cause chain (at most 8 deep) that `matches`. */
export function findCause(err: unknown, matches: (link: unknown) => boolean): unknown {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (matches(current)) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

export function grpcStatusLink(err: unknown, code: number): { code: number; details?: unknown; message?: unknown } | undefined {
  return findCause(err, (link) => (link as { code?: unknown } | null)?.code === code) as { code: number; details?: unknown } | undefined;
}

/** What the server said (gRPC `details`, else the message), short. */
function detailsOf(link: { details?: unknown; message?: unknown }): string {
  const text = typeof link.details === 'string' && link.details ? link.details : String(link.message ?? '');
  return text.slice(0, 200);
}

/**
 * A 503 for Temporal unreachable (UNAVAILABLE: down, restarting, or shedding load such as
 * "System Persistence Max QPS Reached") or at a limit (RESOURCE_EXHAUSTED: rate limits), else undefined.
 */
export function temporalUnavailable(err: unknown): UnavailableError | undefined {
  const unavailable = grpcStatusLink(err, Grpc.UNAVAILABLE);
  if (unavailable) {
    return new UnavailableError(`Temporal is unreachable or overloaded (${detailsOf(unavailable)}); retry in a few seconds`, { retryAfterS: TEMPORAL_RETRY_AFTER_S });
  }
  const exhausted = grpcStatusLink(err, Grpc.RESOURCE_EXHAUSTED);
  if (exhausted) {
    return new UnavailableError(`Temporal is at a limit (${detailsOf(exhausted)}); retry in a few seconds`, { retryAfterS: TEMPORAL_RETRY_AFTER_S });
  }
  return undefined;
}
