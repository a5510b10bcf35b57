/**
 * A local activity's failure reaches the workflow bare (no ActivityFailure around it). The
 * local pause / resume wrap it like an activity task's, so that the workflow's "container
 * gone" check and the API's error table read both alike: an engine failure stays a 503, never
 * a 500, and a gone container stays a 404.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { NotFoundError, UnavailableError } from '../../src/errors.js';
import { toBerthError } from '../../src/service/temporal-errors.js';
import { FailureType } from '../../src/workflows/definitions.js';
import { asActivityFailure, isContainerGone, isWrongHost } from '../../src/workflows/sandbox-activities.js';

const failing = (err: Error) => asActivityFailure('pauseSandbox', () => Promise.reject(err));

async function caught(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('local pause / resume failures', () => {
  it('an engine failure becomes an ActivityFailure, which the API answers as 503', async () => {
    const err = await caught(failing(ApplicationFailure.create({ type: 'Error', message: 'engine said no' }))());
    expect(err).toBeInstanceOf(ActivityFailure);
    const mapped = toBerthError(new WorkflowUpdateFailedError('update failed', err as Error), 'abc') as Error;
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect(mapped.message).toMatch(/engine said no/);
  });

  it('a gone container is still recognised by the workflow, and answered 404', async () => {
    const gone = ApplicationFailure.create({ type: FailureType.containerGone, message: 'container gone', nonRetryable: true });
    const err = await caught(failing(gone)());
    expect(isContainerGone(err)).toBe(true);
    expect(toBerthError(new WorkflowUpdateFailedError('update failed', err as Error), 'abc')).toBeInstanceOf(NotFoundError);
  });

  it("another host's worker refusing is recognised, so the workflow sends an activity task to the host instead", async () => {
    const wrong = ApplicationFailure.create({ type: FailureType.wrongHost, message: 'this worker serves host a, not b', nonRetryable: true });
    const err = await caught(failing(wrong)());
    expect(isWrongHost(err)).toBe(true);
    expect(isContainerGone(err)).toBe(false);
  });

  it('passes a result through', async () => {
    await expect(asActivityFailure('resumeSandbox', () => Promise.resolve(7))()).resolves.toBe(7);
  });
});
