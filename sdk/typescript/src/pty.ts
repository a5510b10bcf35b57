/**
 * `sbx.pty`: interactive terminals. Create one (a login shell by default), get its output in
 * `onData` (raw bytes, over a WebSocket), type into it, resize, signal, kill, and reconnect by
 * PID after a drop (the server replays its scrollback). Framing: docs/pty.md.
 */
import WebSocket from 'ws';
import type { RequestOptions } from './connection.js';
import { AbortedError, errorFromResponse, UnavailableError } from './errors.js';
import type { Transport } from './transport.js';
import type { SignalName } from './types.js';

/** A terminal as the API describes it. */
export interface PtyInfo {
  sandboxID: string;
  /** The terminal process's PID inside the sandbox: the terminal's handle. */
  pid: number;
  cmd: string[];
  cols: number;
  rows: number;
  user: string | null;
  cwd: string | null;
  startedAt: string;
  running: boolean;
  exitCode: number | null;
  attached: number;
}

export interface PtySize {
  cols: number;
  rows: number;
}

/** Options of {@link Pty.create}. */
export interface PtyCreateOpts extends RequestOptions {
  /** Default 80 × 24. */
  cols?: number;
  rows?: number;
  /** Output as it arrives (raw bytes; escape sequences included). */
  onData?: (data: Uint8Array) => void;
  /** A shell string or argv; a login shell (bash when present, else sh) by default. */
  cmd?: string | string[];
  envs?: Record<string, string>;
  cwd?: string;
  user?: string;
  /** The terminal is killed after this long (rounded up to whole seconds); no limit by default. */
  timeoutMs?: number;
}

/** Options of {@link Pty.connect}. */
export interface PtyConnectOpts {
  onData?: (data: Uint8Array) => void;
  /** Replay what the terminal printed before (up to the server's scrollback cap); default true. */
  scrollback?: boolean;
}

/** What `signal` reaches: the foreground job (like Ctrl-C, the default), the process, or its whole session. */
export type PtySignalTarget = 'foreground' | 'process' | 'session';

const toBytes = (data: string | Uint8Array) => (typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength));

/** Terminals of one sandbox. */
export class Pty {
  constructor(
    private readonly sandboxID: string,
    private readonly transport: Transport,
  ) {}

  /** @internal */
  path(suffix = ''): string {
    return `/sandboxes/${encodeURIComponent(this.sandboxID)}/pty${suffix}`;
  }

  /** Starts a terminal and attaches to it. */
  async create(opts: PtyCreateOpts = {}): Promise<PtyHandle> {
    const info = await this.transport.json<PtyInfo>('POST', this.path(), {
      ...requestOpts(opts),
      json: {
        cols: opts.cols ?? 80,
        rows: opts.rows ?? 24,
        ...(opts.cmd !== undefined ? { cmd: opts.cmd } : {}),
        ...(opts.envs ? { envs: opts.envs } : {}),
        ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
        ...(opts.user !== undefined ? { user: opts.user } : {}),
        ...(opts.timeoutMs !== undefined ? { timeout: Math.max(1, Math.ceil(opts.timeoutMs / 1000)) } : {}),
      },
    });
    try {
      return await this.connect(info.pid, { ...(opts.onData ? { onData: opts.onData } : {}) });
    } catch (err) {
      await this.kill(info.pid).catch(() => undefined);
      throw err;
    }
  }

  /** Attaches to a running terminal by PID (after a drop, or from another process). */
  async connect(pid: number, opts: PtyConnectOpts = {}): Promise<PtyHandle> {
    const handle = new PtyHandle(this, pid, opts.onData);
    await handle.attach(this.socketUrl(pid, opts.scrollback ?? true), this.transport.config.apiKey);
    return handle;
  }

  /** The sandbox's terminals. */
  async list(opts: RequestOptions = {}): Promise<PtyInfo[]> {
    return (await this.transport.json<{ terminals: PtyInfo[] }>('GET', this.path(), requestOpts(opts))).terminals;
  }

  /** One terminal. */
  get(pid: number, opts: RequestOptions = {}): Promise<PtyInfo> {
    return this.transport.json<PtyInfo>('GET', this.path(`/${pid}`), requestOpts(opts));
  }

  /** Types into a terminal (no attachment needed). */
  async sendInput(pid: number, data: string | Uint8Array, opts: RequestOptions = {}): Promise<void> {
    await this.transport.json<undefined>('POST', this.path(`/${pid}/input`), { ...requestOpts(opts), json: { data: toBytes(data).toString('base64'), encoding: 'base64' } });
  }

  /** Resizes a terminal. */
  resize(pid: number, size: PtySize, opts: RequestOptions = {}): Promise<PtyInfo> {
    return this.transport.json<PtyInfo>('POST', this.path(`/${pid}/resize`), { ...requestOpts(opts), json: size });
  }

  /** Sends a signal (to the foreground job by default, like a keyboard); resolves with how many processes got it. */
  async signal(pid: number, signal: SignalName, target: PtySignalTarget = 'foreground', opts: RequestOptions = {}): Promise<number> {
    return (await this.transport.json<{ signalled: number }>('POST', this.path(`/${pid}/signal`), { ...requestOpts(opts), json: { signal, target } })).signalled;
  }

  /** Kills a terminal (its whole session); resolves with its exit code. */
  async kill(pid: number, opts: RequestOptions = {}): Promise<number> {
    return (await this.transport.json<{ exitCode: number }>('DELETE', this.path(`/${pid}`), requestOpts(opts))).exitCode;
  }

  private socketUrl(pid: number, scrollback: boolean): string {
    return this.transport.url(this.path(`/${pid}/ws`), scrollback ? {} : { scrollback: 'false' }).replace(/^http/, 'ws');
  }
}

/** An attached terminal. */
export class PtyHandle {
  private ws: WebSocket | undefined;
  private exitCode: number | undefined;
  private readonly exited: Promise<number>;
  private resolveExit!: (code: number) => void;
  private detached = false;

  /** @internal */
  constructor(
    private readonly pty: Pty,
    /** The terminal process's PID inside the sandbox. */
    readonly pid: number,
    private readonly onData: ((data: Uint8Array) => void) | undefined,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** @internal Opens the WebSocket; resolves once the server confirmed the attachment. */
  attach(url: string, apiKey: string | undefined): Promise<void> {
    const ws = new WebSocket(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, perMessageDeflate: false });
    this.ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        this.onData?.(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
        return;
      }
      const message = JSON.parse(data.toString('utf8')) as { type?: string; exitCode?: number };
      if (message.type === 'exit' && typeof message.exitCode === 'number') {
        this.exitCode = message.exitCode;
        this.resolveExit(message.exitCode);
      }
    });
    return new Promise((resolve, reject) => {
      ws.once('message', () => resolve()); // the "attached" control message comes first
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(errorFromResponse(res.statusCode ?? 500, body)));
      });
      ws.once('error', (err) => reject(new UnavailableError(`terminal connection failed: ${err.message}`, { code: 'unreachable', cause: err })));
      ws.once('close', () => reject(new UnavailableError('the terminal connection closed before it was attached', { code: 'unreachable' })));
    });
  }

  /** True while the WebSocket is open. */
  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Types into the terminal (over the WebSocket when attached, else over REST). */
  async sendInput(data: string | Uint8Array): Promise<void> {
    const bytes = toBytes(data);
    const ws = this.ws;
    if (ws && ws.readyState === WebSocket.OPEN) {
      await new Promise<void>((resolve, reject) => ws.send(bytes, { binary: true }, (err) => (err ? reject(err) : resolve())));
      return;
    }
    await this.pty.sendInput(this.pid, bytes);
  }

  /** Resizes the terminal. */
  async resize(size: PtySize): Promise<void> {
    await this.pty.resize(this.pid, size);
  }

  /** Sends a signal to the foreground job (or `target`). */
  signal(signal: SignalName, target: PtySignalTarget = 'foreground'): Promise<number> {
    return this.pty.signal(this.pid, signal, target);
  }

  /** Kills the terminal's whole session; resolves with its exit code. */
  async kill(): Promise<number> {
    const code = await this.pty.kill(this.pid);
    this.exitCode ??= code;
    this.resolveExit(code);
    return code;
  }

  /**
   * Resolves with the exit code once the terminal's process ended. After a disconnect (or a
   * dropped connection) it asks the API every half second instead.
   */
  async wait(opts: { signal?: AbortSignal } = {}): Promise<number> {
    if (this.exitCode !== undefined) return this.exitCode;
    const polled = (async () => {
      if (this.connected) await new Promise<void>((resolve) => this.ws?.once('close', () => resolve()));
      for (;;) {
        if (this.exitCode !== undefined) return this.exitCode;
        if (opts.signal?.aborted) throw new AbortedError('aborted by the caller', { code: 'aborted' });
        const info = await this.pty.get(this.pid);
        if (!info.running) return info.exitCode ?? -1;
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    polled.catch(() => undefined); // when the exit event wins, a later polling failure is moot
    return Promise.race([this.exited, polled]);
  }

  /** Detaches (the terminal keeps running; reconnect with `sbx.pty.connect(pid)`). */
  disconnect(): void {
    this.detached = true;
    this.ws?.close(1000, 'client disconnected');
  }

  /** True after {@link disconnect}. */
  get isDisconnected(): boolean {
    return this.detached;
  }
}

function requestOpts(opts: RequestOptions): RequestOptions {
  return { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}) };
}
