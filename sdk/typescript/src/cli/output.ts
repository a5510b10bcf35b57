/** Human output: tables, a spinner and a progress line (both only on a TTY, on stderr). */

/** Left-aligned columns separated by two spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** `key  value` lines. */
export function keyValues(entries: Array<[string, string]>): string {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

export function metadataText(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

interface Tty {
  isTTY?: boolean;
  write(s: string): boolean;
}

/** A spinner on `stream` while `work` runs; nothing when `stream` is not a TTY. */
export async function withSpinner<T>(stream: Tty, label: string, work: Promise<T>): Promise<T> {
  if (!stream.isTTY) return work;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const started = Date.now();
  const draw = () => stream.write(`\r${frames[i++ % frames.length] ?? ''} ${label} ${((Date.now() - started) / 1000).toFixed(1)}s`);
  draw();
  const timer = setInterval(draw, 80);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    stream.write('\r\x1b[K');
  }
}

/** A progress line for byte transfers; silent when `stream` is not a TTY. */
export class Progress {
  private done = 0;
  private last = 0;

  constructor(
    private readonly stream: Tty,
    private readonly label: string,
    private readonly total: number | undefined,
  ) {}

  add(n: number): void {
    this.done += n;
    const now = Date.now();
    if (now - this.last >= 100) {
      this.last = now;
      this.draw();
    }
  }

  private draw(): void {
    if (!this.stream.isTTY) return;
    const pct = this.total ? `  ${Math.floor((this.done / this.total) * 100)}%` : '';
    const of = this.total !== undefined ? ` / ${bytesText(this.total)}` : '';
    this.stream.write(`\r${this.label}  ${bytesText(this.done)}${of}${pct}\x1b[K`);
  }

  finish(): void {
    if (!this.stream.isTTY) return;
    this.draw();
    this.stream.write('\n');
  }

  /** A pass-through stream that counts what flows. */
  counter(): TransformStream<Uint8Array, Uint8Array> {
    return new TransformStream({
      transform: (chunk, controller) => {
        this.add(chunk.byteLength);
        controller.enqueue(chunk);
      },
    });
  }
}
