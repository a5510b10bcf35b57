import { WorkflowNotFoundError, WorkflowUpdateFailedError, QueryRejectedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { BerthError, ConflictError, InvalidArgumentError, NotFoundError, UnavailableError } from '../errors.js';
import { FailureType } from '../workflows/definitions.js';
import { findCause, Grpc, grpcStatusLink, temporalUnavailable } from './temporal-overload.js';

/** Walks a Temporal failure chain to the first ApplicationFailure with a type. */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  return findCause(err, (link) => link instanceof ApplicationFailure && Boolean(link.type)) as ApplicationFailure | undefined;
}

/** The message at the end of a cause chain (the original error). */
function rootMessage(err: unknown): string {
  let current: unknown = err;
  let message = String((err as Error)?.message ?? err);
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    message = current.message || message;
    current = current.cause;
  }
  return message;
}

function isGrpcStatus(err: unknown, code: number): boolean {
  return grpcStatusLink(err, code) !== undefined;
}

const gone = (sandboxID: string) => new NotFoundError(`sandbox ${sandboxID} not found (it may have stopped)`);

/** A failure type set by the workflow (never `instanceof` across the boundary) → berth's error. */
const BY_FAILURE_TYPE: Readonly<Record<string, (sandboxID: string, failure: ApplicationFailure) => BerthError>> = {
  [FailureType.notFound]: (id) => gone(id),
  [FailureType.containerGone]: (id) => gone(id),
  [FailureType.conflict]: (_id, failure) => new ConflictError(failure.message),
  [FailureType.invalid]: (_id, failure) => new InvalidArgumentError(failure.message),
};

interface Rule {
  /** What the rule recognises, for readers of the table. */
  what: string;
  matches: (err: unknown) => boolean;
  toError: (sandboxID: string, err: unknown) => BerthError;
}

/** Everything else Temporal throws, in order; first match wins. Unmatched errors pass through (a 500). */
const RULES: readonly Rule[] = [
  { what: 'workflow not found', matches: (err) => err instanceof WorkflowNotFoundError, toError: (id) => new NotFoundError(`sandbox ${id} not found`) },
  {
    what: 'workflow gone (gRPC NOT_FOUND) or already closed',
    matches: (err) => isGrpcStatus(err, Grpc.NOT_FOUND) || /already completed|workflow execution already/i.test(String((err as Error)?.message)),
    toError: gone,
  },
  { what: 'query rejected (closed workflow)', matches: (err) => err instanceof QueryRejectedError, toError: gone },
  {
    // Down, restarting, or shedding load ("System Persistence Max QPS Reached" comes as UNAVAILABLE): 503 + Retry-After.
    what: 'Temporal unreachable or overloaded',
    matches: (err) => isGrpcStatus(err, Grpc.UNAVAILABLE),
    toError: (_id, err) => temporalUnavailable(err) ?? new UnavailableError('Temporal is unreachable; retry shortly'),
  },
  {
    what: 'no answer in time (no worker?)',
    matches: (err) => isGrpcStatus(err, Grpc.DEADLINE_EXCEEDED),
    toError: (id) =>
      new UnavailableError(`sandbox ${id} did not answer in time (is a berth worker running?); check GET /sandboxes/${id} before retrying: the call may still take effect`),
  },
  {
    what: 'Temporal at a limit',
    matches: (err) => isGrpcStatus(err, Grpc.RESOURCE_EXHAUSTED),
    toError: (_id, err) => temporalUnavailable(err) ?? new UnavailableError('Temporal is at a limit; retry shortly'),
  },
  {
    // An update whose Docker call failed after its retries: nothing changed, the caller may retry.
    what: "an update's Docker call failed after its retries",
    matches: (err) => err instanceof WorkflowUpdateFailedError && findCause(err, (e) => e instanceof ActivityFailure) !== undefined,
    toError: (id, err) =>
      new UnavailableError(`the Docker engine did not complete the operation on sandbox ${id}: ${rootMessage(err)}; the sandbox is unchanged, retry shortly`),
  },
];

/**
 * Maps what Temporal threw for a call on sandbox `sandboxID` to a {@link BerthError}: first a
 * failure type the workflow set, then the first matching rule; anything else is returned as is.
 */
export function toBerthError(err: unknown, sandboxID: string): BerthError | unknown {
  if (err instanceof BerthError) return err;
  if (!(err instanceof WorkflowNotFoundError)) {
    const failure = applicationFailureOf(err);
    const mapped = failure?.type ? BY_FAILURE_TYPE[failure.type] : undefined;
    if (failure && mapped) return mapped(sandboxID, failure);
  }
  const rule = RULES.find((r) => r.matches(err));
  return rule ? rule.toError(sandboxID, err) : err;
}
