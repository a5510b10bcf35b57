/**
 * A burst of 200 creates (bench, 2 cores) got one 503 "did not answer in time" after 35.8 s for a
 * sandbox that Temporal had started and the worker then provisioned: the update-with-start's
 * deadline passed before the sandbox's first workflow task ran. The create now waits on for a
 * started sandbox. Pure: the errors are the ones the Temporal client throws (gRPC status 4 under
 * WorkflowUpdateRPCTimeoutOrCancelledError); the workflow is a stand-in.
 */
import { WorkflowNotFoundError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { startAndWaitReady } from '../../src/service/create-wait.js';
import type { SandboxInfo } from '../../src/workflows/definitions.js';

const deadline = () => new WorkflowUpdateRPCTimeoutOrCancelledError('Workflow update call timeout or cancelled', { cause: Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 }) });
const ready = { sandboxID: 's1', status: 'running' } as unknown as SandboxInfo;

/** The sandbox's workflow: `waitReady` answers in turn; a workflow that never started is not found. */
function workflow(started: boolean, updates: Array<() => SandboxInfo>) {
  const calls: string[] = [];
  const wait = async (): Promise<SandboxInfo> => {
    calls.push('waitReady');
    if (!started) throw new WorkflowNotFoundError('workflow not found', 's1', undefined);
    const next = updates.shift();
    if (!next) throw new Error('no more answers');
    return next();
  };
  return { wait, calls };
}

describe('a create whose update-with-start passed Temporal deadline', () => {
  it('waits on for the started sandbox and answers with it (was a 503)', async () => {
    const { wait, calls } = workflow(true, [() => { throw deadline(); }, () => ready]);
    let longWait = 0;
    const info = await startAndWaitReady({ waitReady: wait, updateWithStart: async () => { throw deadline(); }, onLongWait: () => longWait++ });
    expect(info).toBe(ready);
    expect(calls).toEqual(['waitReady', 'waitReady']);
    expect(longWait).toBe(1);
  });

  it('throws the deadline when the start itself did not take effect', async () => {
    const { wait, calls } = workflow(false, []);
    const first = deadline();
    await expect(startAndWaitReady({ waitReady: wait, updateWithStart: async () => { throw first; } })).rejects.toBe(first);
    expect(calls).toEqual(['waitReady']);
  });

  it('gives up with the deadline once its budget is spent', async () => {
    let t = 0;
    const { wait, calls } = workflow(true, [() => { t += 60_000; throw deadline(); }, () => { t += 60_000; throw deadline(); }, () => ready]);
    const err = await startAndWaitReady({ waitReady: wait, updateWithStart: async () => { throw deadline(); }, budgetMs: 90_000, now: () => t }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateRPCTimeoutOrCancelledError);
    expect(calls).toEqual(['waitReady', 'waitReady']);
  });

  it('passes any other error through untouched', async () => {
    const { wait, calls } = workflow(true, []);
    const other = new Error('14 UNAVAILABLE');
    await expect(startAndWaitReady({ waitReady: wait, updateWithStart: async () => { throw other; } })).rejects.toBe(other);
    expect(calls).toEqual([]);
  });
});
