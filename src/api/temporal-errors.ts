import { WorkflowNotFoundError, WorkflowUpdateFailedError, QueryRejectedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { BerthError, ConflictError, InvalidArgumentError, NotFoundError, UnavailableError } from '../errors.js';
import { FailureType } from '../workflows/definitions.js';

/** Walks a Temporal failure chain to the first ApplicationFailure with a type. */
function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (current instanceof ApplicationFailure && current.type) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}

function causeChainHas(err: unknown, type: abstract new (...args: never[]) => Error): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current; depth++) {
    if (current instanceof type) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
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
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number' && codes.includes(code)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
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
  if (err instanceof WorkflowUpdateFailedError && causeChainHas(err, ActivityFailure)) {
    return new UnavailableError(`the Docker engine did not complete the operation on sandbox ${sandboxID}: ${rootMessage(err)}; the sandbox is unchanged, retry shortly`);
  }
  if (err instanceof WorkflowUpdateFailedError || err instanceof TemporalFailure) return err;
  return err;
}
