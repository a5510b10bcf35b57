import { describe, expect, it } from 'vitest';
import { QueryRejectedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { toBerthError } from '../../src/service/temporal-errors.js';
import { ConflictError, InvalidArgumentError, NotFoundError, UnavailableError } from '../../src/errors.js';
import { FailureType } from '../../src/workflows/definitions.js';

/** An error as the gRPC client raises it: a numeric status code. */
function grpc(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('toBerthError (the Temporal error table)', () => {
  it('maps failure types the workflow set, through the update failure that wraps them', () => {
    const conflict = new WorkflowUpdateFailedError('update failed', ApplicationFailure.create({ type: FailureType.conflict, message: 'sandbox is paused' }));
    expect(toBerthError(conflict, 'abc')).toEqual(new ConflictError('sandbox is paused'));
    const invalid = new WorkflowUpdateFailedError('update failed', ApplicationFailure.create({ type: FailureType.invalid, message: 'timeout too long' }));
    expect(toBerthError(invalid, 'abc')).toBeInstanceOf(InvalidArgumentError);
    const gone = new WorkflowUpdateFailedError('update failed', ApplicationFailure.create({ type: FailureType.containerGone, message: 'x' }));
    expect(toBerthError(gone, 'abc')).toBeInstanceOf(NotFoundError);
  });

  it('maps a missing or closed workflow to 404', () => {
    expect(toBerthError(new WorkflowNotFoundError('no', 'sandbox-abc', undefined), 'abc')).toBeInstanceOf(NotFoundError);
    expect(toBerthError(grpc(5, 'workflow not found'), 'abc')).toBeInstanceOf(NotFoundError);
    expect(toBerthError(new Error('workflow execution already completed'), 'abc')).toBeInstanceOf(NotFoundError);
    expect(toBerthError(new QueryRejectedError(2), 'abc')).toBeInstanceOf(NotFoundError);
  });

  it('maps an unreachable, slow or saturated Temporal to 503 with what to do', () => {
    expect(String((toBerthError(grpc(14, 'connect ECONNREFUSED'), 'abc') as Error).message)).toMatch(/unreachable or overloaded \(connect ECONNREFUSED\); retry/);
    const slow = toBerthError(new Error('outer', { cause: grpc(4, 'deadline') }), 'abc') as Error;
    expect(slow).toBeInstanceOf(UnavailableError);
    expect(slow.message).toMatch(/is a berth worker running/);
    expect(toBerthError(grpc(8, 'namespace rate limit'), 'abc')).toBeInstanceOf(UnavailableError);
  });

  it('maps the persistence limit the dev server answers at 1000 live (UNAVAILABLE) to 503 with Retry-After', () => {
    const overloaded = Object.assign(new Error('14 UNAVAILABLE: Unable to read search attributes types: System Persistence Max QPS Reached.'), {
      code: 14,
      details: 'Unable to read search attributes types: System Persistence Max QPS Reached.',
    });
    const mapped = toBerthError(overloaded, 'abc') as UnavailableError;
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect(mapped.status).toBe(503);
    expect(mapped.retryAfterS).toBeGreaterThan(0);
    expect(mapped.message).toMatch(/System Persistence Max QPS Reached.*retry in a few seconds/);
    const limited = toBerthError(new Error('outer', { cause: grpc(8, 'namespace rate limit exceeded') }), 'abc') as UnavailableError;
    expect(limited.retryAfterS).toBeGreaterThan(0);
    expect(limited.message).toMatch(/at a limit \(namespace rate limit exceeded\)/);
  });

  it("an update whose Docker call failed after its retries is a 503 naming the engine's message", () => {
    const activity = new ActivityFailure('activity failed', 'pause', 'a1', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'id', new Error('engine said no'));
    const mapped = toBerthError(new WorkflowUpdateFailedError('update failed', activity), 'abc') as Error;
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect(mapped.message).toMatch(/engine said no/);
  });

  it('passes anything else through unchanged', () => {
    const other = new Error('something new');
    expect(toBerthError(other, 'abc')).toBe(other);
  });
});
