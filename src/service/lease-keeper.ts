/**
 * Holds keep-alive leases for attached clients (long commands, streams, transfers, proxy
 * connections), one per sandbox in this API process however many clients are attached:
 * the first attachment sends a `lease` signal, a timer renews it every `renewMs` (each lease
 * lasting three periods), and the last detachment releases it (duration 0) after a short
 * linger. So an agent running many short commands back to back costs one renewal per
 * period, not two signals per command, and history stays bounded.
 */
import { randomUUID } from 'node:crypto';

export type LeaseSender = (sandboxID: string, leaseID: string, durationMs: number) => Promise<void>;

interface Held {
  leaseID: string;
  attached: number;
  renew: NodeJS.Timeout;
  release?: NodeJS.Timeout;
}

export class LeaseKeeper {
  private readonly held = new Map<string, Held>();
  private readonly lingerMs: number;

  constructor(
    private readonly renewMs: number,
    private readonly send: LeaseSender,
    private readonly onError: (sandboxID: string, err: unknown) => void,
    lingerMs?: number,
  ) {
    this.lingerMs = lingerMs ?? Math.min(1000, renewMs);
  }

  /** How long one lease lasts: three renewal periods, so one late renewal never lets it lapse. */
  get leaseMs(): number {
    return 3 * this.renewMs;
  }

  /** A client attached to `sandboxID`; returns its detach function (idempotent). */
  attach(sandboxID: string): () => void {
    let entry = this.held.get(sandboxID);
    if (!entry) {
      const leaseID = randomUUID();
      void this.fire(sandboxID, leaseID, this.leaseMs);
      const renew = setInterval(() => void this.fire(sandboxID, leaseID, this.leaseMs), this.renewMs);
      renew.unref();
      entry = { leaseID, attached: 0, renew };
      this.held.set(sandboxID, entry);
    }
    if (entry.release) {
      clearTimeout(entry.release);
      entry.release = undefined;
    }
    entry.attached++;
    const held = entry;
    let detached = false;
    return () => {
      if (detached) return;
      detached = true;
      held.attached--;
      if (held.attached > 0) return;
      held.release = setTimeout(() => void this.release(sandboxID, held), this.lingerMs);
      held.release.unref();
    };
  }

  /** Releases every lease now (API shutdown), so no sandbox is held for a lease length. */
  async close(): Promise<void> {
    await Promise.all([...this.held].map(([sandboxID, entry]) => this.release(sandboxID, entry)));
  }

  private release(sandboxID: string, entry: Held): Promise<void> {
    clearInterval(entry.renew);
    if (entry.release) clearTimeout(entry.release);
    if (this.held.get(sandboxID) === entry) this.held.delete(sandboxID);
    return this.fire(sandboxID, entry.leaseID, 0);
  }

  private fire(sandboxID: string, leaseID: string, durationMs: number): Promise<void> {
    return this.send(sandboxID, leaseID, durationMs).catch((err: unknown) => this.onError(sandboxID, err));
  }
}
