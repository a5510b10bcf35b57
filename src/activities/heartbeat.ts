import { Context } from '@temporalio/activity';

/** How often a running activity heartbeats (well inside the workflow's 15 s heartbeat timeout). */
export const HEARTBEAT_PERIOD_MS = 3000;

/**
 * Runs `work` while heartbeating every {@link HEARTBEAT_PERIOD_MS}: a worker that dies (or
 * hangs) mid-call stops heartbeating, and Temporal hands the activity to another worker after
 * the heartbeat timeout instead of the whole start-to-close timeout. Outside an activity
 * (unit tests calling the factory directly) it just runs `work`.
 */
export async function withHeartbeat<T>(work: () => Promise<T>): Promise<T> {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return work();
  }
  // A local activity runs inside its workflow task, which the worker keeps alive itself: no heartbeats.
  if (context.info.isLocal) return work();
  context.heartbeat();
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_PERIOD_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
