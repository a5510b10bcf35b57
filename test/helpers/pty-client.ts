/** A small terminal WebSocket client for tests: collects output and control messages. */
import WebSocket from 'ws';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Control = Record<string, any>;

export class TermClient {
  out = Buffer.alloc(0);
  controls: Control[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.out = Buffer.concat([this.out, data]);
      else this.controls.push(JSON.parse(data.toString('utf8')) as Control);
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens `…/pty/{pid}/ws`; rejects with the HTTP status when the upgrade is refused. */
  static open(baseUrl: string, sandboxID: string, pid: number, key: string, query = ''): Promise<TermClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/sandboxes/${sandboxID}/pty/${pid}/ws${query}`, { headers: { authorization: `Bearer ${key}` } });
    const client = new TermClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode} ${body}`), { status: res.statusCode, body })));
      });
      ws.once('error', reject);
    });
  }

  /** Output so far as text (latin1: one char per byte). */
  get text(): string {
    return this.out.toString('latin1');
  }

  type(input: string | Buffer): void {
    this.ws.send(typeof input === 'string' ? Buffer.from(input) : input, { binary: true });
  }

  control(message: Control): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Waits until the output matches `pattern` (no timing assertion: the test's own timeout applies). */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.text);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`output never matched ${pattern}; got ${JSON.stringify(this.text.slice(-2000))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Waits for a control message of `type`. */
  async waitForControl(type: string, timeoutMs = 30_000): Promise<Control> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = this.controls.find((m) => m.type === type);
      if (c) return c;
      if (Date.now() > deadline) throw new Error(`no ${type} control message; got ${JSON.stringify(this.controls)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}
