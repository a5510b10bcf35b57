/**
 * Caps on concurrent long-lived streams per owner in one API process: streamed command runs,
 * followed logs, file transfers (uploads and downloads), proxy connections (HTTP and
 * WebSocket) and E2B envd streams (process output, folder watches). Each holds a slot from start to end; a finished or aborted stream always gives
 * its slot back.
 */
import { QuotaExceededError } from '../errors.js';

export type StreamKind = 'command stream' | 'log follow' | 'file upload' | 'file download' | 'proxy connection' | 'terminal connection' | 'envd stream';

/** Something that says when it is over (an HTTP response, a socket). */
interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

export class StreamSlots {
  private readonly open = new Map<string, number>();

  constructor(private readonly maxPerOwner: number) {}

  /** Streams `owner` has open now. */
  inUse(owner: string): number {
    return this.open.get(owner) ?? 0;
  }

  /**
   * Takes a slot for `owner` (429 when all are taken) and gives it back when `until` closes
   * or the returned function is called, whichever comes first (only once).
   */
  hold(owner: string, kind: StreamKind, until: Closable): () => void {
    const used = this.inUse(owner);
    if (used >= this.maxPerOwner) {
      throw new QuotaExceededError(
        `owner ${owner} already has ${used} streams open (limit ${this.maxPerOwner}, BERTH_MAX_STREAMS_PER_OWNER; ` +
          `streamed commands, followed logs, file uploads and downloads, proxy and terminal connections all count): ` +
          `close one or wait for one to end, then retry this ${kind}`,
      );
    }
    this.open.set(owner, used + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = this.inUse(owner) - 1;
      if (left > 0) this.open.set(owner, left);
      else this.open.delete(owner);
    };
    until.once('close', release);
    return release;
  }
}
