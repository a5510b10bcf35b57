import { WorkflowNotFoundError, WorkflowUpdateFailedError, QueryRejectedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { BerthError, ConflictError, InvalidArgumentError, NotFoundError, UnavailableError } from '../errors.js';
import { FailureType } from '../workflows/definitions.js';

/** The first link of an error's cause chain (at most 8 deep) that `matches`. */
function findCause<T>(err: unknown, matches: (link: unknown) => link is T): T | undefined;
function findCause(err: unknown, matches: (link: unknown) => boolean): unknown;
function findCause(err: unknown, matches: (link: unknown) => boolean): unknown {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (matches(current)) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

/** Walks a Temporal failure chain to the first ApplicationFailure with a type. */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  return findCause(err, (link): link is ApplicationFailure => link instanceof ApplicationFailure && Boolean(link.type));
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

function firstMessage(err: unknown): string {
  return String((err as Error)?.message ?? err).slice(0, 300);
}

function isGrpcStatus(err: unknown, ...codes: number[]): boolean {
  return findCause(err, (link) => {
    const code = (link as { code?: unknown }).code;
    return typeof code === 'number' && codes.includes(code);
  }) !== undefined;
}

/**
 * Maps what Temporal threw for a call on sandbox `sandboxID` to a {@link BerthError}.
 * Failure `type`s come from the workflow (never `instanceof` across the boundary).
 */
export function toBerthError(err: unknown, sandboxID: string): BerthError | unknown {
  if (err instanceof BerthError) return err;
  if (err instanceof WorkflowNotFoundError) return new NotFoundError(`sandbox ${sandboxID} not found`);
  const failure = applicationFailureOf(err);
  if (failure) {
    switch (failure.type) {
      case FailureType.notFound:
      case FailureType.containerGone:
        return new NotFoundError(`sandbox ${sandboxID} not found (it may have stopped)`);
      case FailureType.conflict:
        return new ConflictError(failure.message);
      case FailureType.invalid:
        return new InvalidArgumentError(failure.message);
    }
  }
  // gRPC NOT_FOUND (5): workflow gone; FAILED_PRECONDITION (9) / "already completed": closed.
  if (isGrpcStatus(err, 5) || /already completed|workflow execution already/i.test(String((err as Error)?.message))) {
    return new NotFoundError(`sandbox ${sandboxID} not found (it may have stopped)`);
  }
  if (err instanceof QueryRejectedError) return new NotFoundError(`sandbox ${sandboxID} not found (it may have stopped)`);
  if (isGrpcStatus(err, 14)) return new UnavailableError('Temporal is unreachable; retry shortly');
  if (isGrpcStatus(err, 4)) {
    return new UnavailableError(`sandbox ${sandboxID} did not answer in time (is a berth worker running?); check GET /sandboxes/${sandboxID} before retrying: the call may still take effect`);
  }
  if (isGrpcStatus(err, 8)) return new UnavailableError(`Temporal is at a limit: ${firstMessage(err)}; retry shortly`);
  // An update whose Docker call failed after its retries: nothing changed, the caller may retry.
  if (err instanceof WorkflowUpdateFailedError && findCause(err, (e) => e instanceof ActivityFailure)) {
    return new UnavailableError(`the Docker engine did not complete the operation on sandbox ${sandboxID}: ${rootMessage(err)}; the sandbox is unchanged, retry shortly`);
  }
  if (err instanceof WorkflowUpdateFailedError || err instanceof TemporalFailure) return err;
  return err;
}
