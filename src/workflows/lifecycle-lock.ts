/**
 * The sandbox workflow's lock: lifecycle operations (updates, deadlines, bulk actions,
 * container checks) run one at a time, and the end of each one tells the main loop to re-arm
 * its timer (the nearest deadline may have moved earlier).
 */
import { condition } from '@temporalio/workflow';

export class LifecycleLock {
  /** True while an operation holds the lock. */
  busy = false;
  /** Bumped whenever the nearest deadline may have moved earlier, so the timer is re-armed. */
  armVersion = 0;

  /**
   * @param strict the current lock rule; false replays runs started before it with the old one
   * (which let a second waiter in without re-checking).
   */
  constructor(readonly strict: boolean) {}

  /** Runs one operation under the lock. */
  async exclusive<T>(operation: () => Promise<T>): Promise<T> {
    // condition() releases every waiter whose predicate holds in one pass, so re-check after
    // waking: only the first continuation to run takes the lock, the others wait again.
    if (this.strict) while (this.busy) await condition(() => !this.busy);
    else await condition(() => !this.busy);
    this.busy = true;
    try {
      return await operation();
    } finally {
      this.busy = false;
      this.armVersion++;
    }
  }

  /** The nearest deadline may have moved earlier without an operation (a released lease). */
  rearm(): void {
    this.armVersion++;
  }
}
