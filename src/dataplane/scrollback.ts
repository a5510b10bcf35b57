/**
 * A bounded byte history: the last `capBytes` bytes written to it, kept as a list of chunks
 * (no copy on write). A terminal replays it to a client that attaches, so one that reconnects
 * sees what it missed, up to the cap.
 */
export class Scrollback {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes ever written (kept or dropped). */
  private written = 0;

  constructor(private readonly capBytes: number) {}

  /** Appends `data`, dropping the oldest bytes beyond the cap. */
  write(data: Buffer): void {
    this.written += data.length;
    if (this.capBytes <= 0 || data.length === 0) return;
    if (data.length >= this.capBytes) {
      this.chunks = [Buffer.from(data.subarray(data.length - this.capBytes))];
      this.size = this.capBytes;
      return;
    }
    this.chunks.push(data);
    this.size += data.length;
    while (this.size > this.capBytes) {
      const first = this.chunks[0] as Buffer;
      const excess = this.size - this.capBytes;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  /** The kept bytes, oldest first. */
  snapshot(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.size)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Bytes kept now. */
  get length(): number {
    return this.size;
  }

  /** True once older bytes were dropped (the snapshot does not start at the first byte). */
  get truncated(): boolean {
    return this.written > this.size;
  }
}
