/**
 * Coalesces "touch" signals: at most one per sandbox per window. A touch that arrives
 * inside the window is not dropped: it is sent when the window ends, so the sandbox's
 * idle deadline is never earlier than `timeout` after its last interaction.
 */
export class TouchCoalescer {
  private readonly lastSentMs = new Map<string, number>();
  private readonly trailing = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly windowMs: number,
    private readonly send: (sandboxID: string) => Promise<void>,
    private readonly onError: (sandboxID: string, err: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Records an interaction with `sandboxID`. `maxWindowMs` narrows the window for this
   * sandbox (the API passes a quarter of its idle timeout, so a trailing touch always lands
   * well before the deadline it extends).
   */
  touch(sandboxID: string, maxWindowMs = Number.POSITIVE_INFINITY): void {
    const windowMs = Math.min(this.windowMs, maxWindowMs);
    const nowMs = this.clock();
    const last = this.lastSentMs.get(sandboxID);
    if (last === undefined || nowMs - last >= windowMs) {
      this.fire(sandboxID, nowMs);
      return;
    }
    if (this.trailing.has(sandboxID)) return;
    const timer = setTimeout(() => {
      this.trailing.delete(sandboxID);
      this.fire(sandboxID, this.clock());
    }, last + windowMs - nowMs);
    timer.unref();
    this.trailing.set(sandboxID, timer);
  }

  /** Forgets a sandbox (it stopped). */
  forget(sandboxID: string): void {
    clearTimeout(this.trailing.get(sandboxID));
    this.trailing.delete(sandboxID);
    this.lastSentMs.delete(sandboxID);
  }

  /**
   * Shutting down: sends every pending trailing touch now (none is dropped) and resolves once
   * all touches in flight were delivered or failed.
   */
  async close(): Promise<void> {
    const pending = [...this.trailing.keys()];
    for (const timer of this.trailing.values()) clearTimeout(timer);
    this.trailing.clear();
    for (const sandboxID of pending) this.fire(sandboxID, this.clock());
    await Promise.allSettled([...this.inFlight]);
  }

  private fire(sandboxID: string, nowMs: number): void {
    this.lastSentMs.set(sandboxID, nowMs);
    if (this.lastSentMs.size > 10_000) this.prune(nowMs);
    const sent = this.send(sandboxID).catch((err: unknown) => this.onError(sandboxID, err));
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  private prune(nowMs: number): void {
    for (const [id, at] of this.lastSentMs) if (nowMs - at > this.windowMs * 10 && !this.trailing.has(id)) this.lastSentMs.delete(id);
  }
}
