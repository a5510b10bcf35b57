/**
 * One workflow per sandbox: it owns the sandbox's state and its timers. The workflow only
 * registers the messages (sandbox-messages.ts) and runs a short loop over the lifecycle class
 * (sandbox-lifecycle.ts): wait for the nearest deadline or a change, perform what is due,
 * continue as new when the history is long. The rules live in {@link SandboxState}.
 */
import { allHandlersFinished, condition, continueAsNew, log, patched, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { SandboxResult, SandboxStatus, SandboxWorkflowInput } from './definitions.js';
import { hostTaskQueue } from './host-queue.js';
import { hostDockerCalls, SHARED_QUEUE_CALLS } from './sandbox-activities.js';
import { now, SandboxLifecycle } from './sandbox-lifecycle.js';
import { registerSandboxMessages } from './sandbox-messages.js';
import { SandboxState, type Deadline } from './sandbox-state.js';

/** The sandbox lifecycle workflow. Completes when the sandbox is stopped or failed. */
export async function sandboxWorkflow(input: SandboxWorkflowInput): Promise<SandboxResult> {
  // The patch gates, asked in this order (a marker each in history). Runs started before a
  // gate existed replay without it, with the older rules.
  /** Absolute expiry: asked only by runs whose spec wants it, so others carry no marker. */
  const spec = input.snapshot ? input.snapshot.spec : input.spec;
  const absoluteExpiry = spec.lifecycle.timeoutMode === 'absolute' && patched('absolute-expiry');
  const state = input.snapshot ? SandboxState.restore(input.snapshot, { absoluteExpiry }) : SandboxState.create(input.spec, now(), { absoluteExpiry });
  /** The strict lock and the wake-up on a long history (older runs made different decisions in rare races). */
  const strictLock = patched('strict-lock-and-history-wakeup');
  /** Container checks (`container_lost`) and attached clients' leases; older runs ignore both signals. */
  const faultTolerant = patched('container-checks-and-leases');
  /** Pause to disk (`mode: 'disk'`, `lifecycle.pauseMode`); older runs only freeze. */
  const pauseToDisk = patched('pause-to-disk');
  /**
   * A caller's pause / resume as activity tasks again, never local activities. A local activity
   * runs Docker inside the (speculative) workflow task that accepts the update, before anything
   * is durable: when Temporal and the worker die in that moment (the chaos smoke's kill of the
   * whole control plane), the container stays frozen while the sandbox says running. An activity
   * task runs only after the update's acceptance is in history. Older runs keep their choice.
   */
  const durablePauseResume = patched('durable-pause-resume');
  /** A caller's pause / resume as local activities (runs before 'durable-pause-resume' only). */
  const localPauseResume = !durablePauseResume && patched('local-pause-resume');

  /**
   * A pooled create claims inside its first workflow task (a local activity): asked only by runs
   * whose spec says `warmPool` (and names a host), so other creates carry no marker.
   */
  const localPoolClaim = spec.warmPool === true && spec.host !== undefined && patched('warm-pool-local-claim');

  /**
   * Per-host queues: a sandbox placed on a host (spec.host) sends every Docker activity to that
   * host's queue. Asked only by runs whose spec names a host; older runs use the shared queue.
   */
  const routed = spec.host !== undefined && patched('per-host-queues');
  const calls = routed && spec.host !== undefined ? hostDockerCalls(hostTaskQueue(workflowInfo().taskQueue, spec.host)) : SHARED_QUEUE_CALLS;

  /**
   * A placed sandbox's caller pause / resume as local activities too, when the worker running the
   * workflow task serves its host (else an activity task on the host's queue). Asked only by
   * routed runs; older routed runs keep sending activity tasks.
   */
  const localOnHost = !durablePauseResume && routed && patched('local-pause-resume-on-host');

  // 'local-pause-resume' only where activities share the workflow's queue (not routed to a host's).
  const lc = new SandboxLifecycle(state, { strictLock, faultTolerant, pauseToDisk, localPauseResume: localPauseResume && calls === SHARED_QUEUE_CALLS, localOnHost, localPoolClaim }, calls);
  registerSandboxMessages(lc);

  // An update delivered with the start (a kill, say) may take the lock first: provision only
  // if the sandbox is still waiting for it.
  if (lc.status === 'creating') await lc.provisionOnce();

  while (!lc.isFinal()) {
    if (lc.historyIsLong() && !lc.lock.busy) {
      await lc.untilIdle();
      if (!lc.isFinal()) {
        log.info('continuing as new', { sandboxID: lc.sandboxID, historyLength: workflowInfo().historyLength });
        return continueAsNew<typeof sandboxWorkflow>({ snapshot: lc.snapshot() });
      }
      break;
    }
    // One durable timer for the nearest deadline, re-armed when a change may move it earlier.
    const deadline = lc.nextDeadline();
    const woken = lc.wakeCondition();
    let changed = true;
    setCurrentDetails(describeState(lc.status, deadline));
    if (deadline) {
      // The timer's summary tells operators in the Temporal UI what it waits for.
      const summary = `${deadline.reason}: ${deadline.action} at ${new Date(deadline.atMs).toISOString()}`;
      changed = await condition(woken, lc.timerMs(deadline), { summary });
    }
    else await condition(woken);
    if (!changed) await lc.runDueDeadline();
  }

  await condition(allHandlersFinished);
  setCurrentDetails(describeState(lc.status, null));
  return lc.result();
}

/** One line for the Temporal UI's "current details". */
function describeState(status: SandboxStatus, deadline: Deadline | null): string {
  if (!deadline) return `**${status}**`;
  return `**${status}** · next: ${deadline.action} (${deadline.reason}) at ${new Date(deadline.atMs).toISOString()}`;
}
