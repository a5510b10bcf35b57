/** `sbx.commands`: run commands (buffered, streamed to callbacks, or in the background). */
import type { RequestOptions } from './connection.js';
import { AbortedError, BerthError, CommandExitError, ConflictError } from './errors.js';
import { readSse } from './sse.js';
import type { Transport } from './transport.js';
import type { CommandLogsBody, CommandResultBody, CommandStatus, RunCommandBody, SignalName, SignalResult } from './types.js';

export type OutputCallback = (data: string) => void | Promise<void>;

export interface CommandRunOpts extends RequestOptions {
  /** Extra environment variables. */
  envs?: Record<string, string>;
  /** Absolute working directory (must exist). */
  cwd?: string;
  /** User name, uid or `uid:gid`; the image default (root) otherwise. */
  user?: string;
  /** The command is killed (SIGKILL, exit code 137, `timedOut`) after this long; rounded up to whole seconds. No limit by default. */
  timeoutMs?: number;
  /** Written to the command's stdin, then stdin is closed. */
  stdin?: string | Uint8Array;
  /** Output as it arrives (the call streams instead of buffering). */
  onStdout?: OutputCallback;
  onStderr?: OutputCallback;
  /** Return at once with a {@link CommandHandle}. */
  background?: boolean;
}

/** A finished command. */
export interface CommandResult {
  cmdID: string;
  pid: number | null;
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Commands of one sandbox. */
export class Commands {
  constructor(
    private readonly sandboxID: string,
    private readonly transport: Transport,
  ) {}

  private path(suffix = ''): string {
    return `/sandboxes/${encodeURIComponent(this.sandboxID)}/commands${suffix}`;
  }

  /**
   * Runs `cmd` (a shell string run with `/bin/sh -c`, or an argv array run as is).
   * Foreground: resolves with the result; a non-zero exit code throws {@link CommandExitError}.
   * With `background: true`: resolves with a {@link CommandHandle} at once.
   * Aborting `signal` (or leaving a streamed call) interrupts the command.
   */
  run(cmd: string | string[], opts: CommandRunOpts & { background: true }): Promise<CommandHandle>;
  run(cmd: string | string[], opts?: CommandRunOpts & { background?: false }): Promise<CommandResult>;
  run(cmd: string | string[], opts?: CommandRunOpts): Promise<CommandResult | CommandHandle>;
  async run(cmd: string | string[], opts: CommandRunOpts = {}): Promise<CommandResult | CommandHandle> {
    const body: RunCommandBody = {
      cmd,
      ...(opts.envs ? { envs: opts.envs } : {}),
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
      ...(opts.user !== undefined ? { user: opts.user } : {}),
      ...(opts.timeoutMs !== undefined ? { timeout: Math.max(1, Math.ceil(opts.timeoutMs / 1000)) } : {}),
      ...(typeof opts.stdin === 'string' ? { stdin: opts.stdin } : {}),
      ...(opts.stdin instanceof Uint8Array ? { stdin: Buffer.from(opts.stdin).toString('base64'), stdinEncoding: 'base64' as const } : {}),
    };
    const callbacks = { onStdout: opts.onStdout, onStderr: opts.onStderr };
    if (opts.background) {
      const status = await this.transport.json<CommandStatus>('POST', this.path(), { ...requestOpts(opts), json: { ...body, background: true } });
      return new CommandHandle(this, status, callbacks);
    }
    // A foreground answer comes when the command ends: no request timeout unless asked for.
    const requestTimeoutMs = opts.requestTimeoutMs ?? (opts.timeoutMs !== undefined ? opts.timeoutMs + 30_000 : 0);
    let result: CommandResult;
    if (opts.onStdout || opts.onStderr) {
      const response = await this.transport.send('POST', this.path(), {
        ...(opts.signal ? { signal: opts.signal } : {}),
        requestTimeoutMs: opts.requestTimeoutMs ?? this.transport.config.requestTimeoutMs,
        json: { ...body, stream: true },
        headers: { accept: 'text/event-stream' },
        stream: true,
      });
      result = await readCommandStream(response, callbacks, opts.signal);
    } else {
      const answer = await this.transport.json<CommandResultBody>('POST', this.path(), {
        ...(opts.signal ? { signal: opts.signal } : {}),
        requestTimeoutMs,
        json: body,
      });
      result = { cmdID: answer.cmdID, pid: answer.pid, exitCode: answer.exitCode, stdout: answer.stdout, stderr: answer.stderr, timedOut: answer.timedOut };
    }
    if (result.exitCode !== 0) throw new CommandExitError(result);
    return result;
  }

  /** Background commands of the sandbox, oldest first. */
  async list(opts: RequestOptions = {}): Promise<CommandStatus[]> {
    return (await this.transport.json<{ commands: CommandStatus[] }>('GET', this.path(), requestOpts(opts))).commands;
  }

  /** A handle on a background command started earlier (also by another process). */
  async connect(cmdID: string, opts: RequestOptions & { onStdout?: OutputCallback; onStderr?: OutputCallback } = {}): Promise<CommandHandle> {
    return new CommandHandle(this, await this.status(cmdID, opts), { onStdout: opts.onStdout, onStderr: opts.onStderr });
  }

  /** Status of a background command. */
  status(cmdID: string, opts: RequestOptions = {}): Promise<CommandStatus> {
    return this.transport.json<CommandStatus>('GET', this.path(`/${encodeURIComponent(cmdID)}`), requestOpts(opts));
  }

  /** Signals a background command; false when it is not running any more. */
  async kill(cmdID: string, signal: SignalName = 'KILL', opts: RequestOptions = {}): Promise<boolean> {
    try {
      await this.transport.json<SignalResult>('POST', this.path(`/${encodeURIComponent(cmdID)}/signal`), { ...requestOpts(opts), json: { signal } });
      return true;
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
  }

  /** One incremental read of a background command's output from `cursor`. */
  readLogs(cmdID: string, cursor: string, opts: RequestOptions = {}): Promise<CommandLogsBody> {
    return this.transport.json<CommandLogsBody>('GET', this.path(`/${encodeURIComponent(cmdID)}/logs`), { ...requestOpts(opts), query: { cursor } });
  }

  /** Follows a background command's output from `cursor` (server-sent events) until it exits. */
  async followLogs(cmdID: string, cursor: string, opts: RequestOptions = {}): Promise<Response> {
    return this.transport.send('GET', this.path(`/${encodeURIComponent(cmdID)}/logs`), {
      ...requestOpts(opts),
      query: { cursor, follow: 'true' },
      headers: { accept: 'text/event-stream' },
      stream: true,
    });
  }
}

/** A background command. */
export class CommandHandle {
  readonly cmdID: string;
  readonly pid: number | null;
  private cursor = '';
  private out = '';
  private err = '';

  constructor(
    private readonly commands: Commands,
    status: CommandStatus,
    private readonly callbacks: { onStdout?: OutputCallback | undefined; onStderr?: OutputCallback | undefined },
  ) {
    this.cmdID = status.cmdID;
    this.pid = status.pid;
  }

  /** Output received so far through {@link logs} or {@link wait}. */
  get stdout(): string {
    return this.out;
  }
  get stderr(): string {
    return this.err;
  }

  private async take(name: 'stdout' | 'stderr', data: string): Promise<void> {
    if (!data) return;
    if (name === 'stdout') {
      this.out += data;
      await this.callbacks.onStdout?.(data);
    } else {
      this.err += data;
      await this.callbacks.onStderr?.(data);
    }
  }

  /** Reads all output available now; returns everything read so far and the status. */
  async logs(opts: RequestOptions = {}): Promise<{ stdout: string; stderr: string; status: CommandStatus }> {
    for (;;) {
      const page = await this.commands.readLogs(this.cmdID, this.cursor, opts);
      await this.take('stdout', page.stdout);
      await this.take('stderr', page.stderr);
      this.cursor = page.cursor;
      if (!page.more) return { stdout: this.out, stderr: this.err, status: page.status };
    }
  }

  /** Current status. */
  status(opts: RequestOptions = {}): Promise<CommandStatus> {
    return this.commands.status(this.cmdID, opts);
  }

  /** Sends a signal (default KILL); false when the command is not running any more. */
  kill(signal: SignalName = 'KILL', opts: RequestOptions = {}): Promise<boolean> {
    return this.commands.kill(this.cmdID, signal, opts);
  }

  /**
   * Waits for the command to exit, passing new output to the callbacks. Resolves with the
   * result; a non-zero exit code throws {@link CommandExitError}. Aborting `signal` stops
   * waiting (the command keeps running).
   */
  async wait(opts: RequestOptions = {}): Promise<CommandResult> {
    const response = await this.commands.followLogs(this.cmdID, this.cursor, opts);
    if (!response.body) throw new BerthError('empty answer to a logs stream', { code: 'protocol' });
    for await (const message of readSse(response.body)) {
      const data = JSON.parse(message.data) as { data?: string; cursor?: string; exitCode?: number | null; state?: string; timedOut?: boolean };
      if (message.event === 'stdout' || message.event === 'stderr') {
        await this.take(message.event, data.data ?? '');
        if (data.cursor !== undefined) this.cursor = data.cursor;
      } else if (message.event === 'end') {
        if (data.cursor !== undefined) this.cursor = data.cursor;
        if (data.exitCode === null || data.exitCode === undefined) {
          throw new BerthError(`command ${this.cmdID} ended without an exit code (state ${data.state ?? 'unknown'})`, { code: 'command_lost' });
        }
        const result = { cmdID: this.cmdID, pid: this.pid, exitCode: data.exitCode, stdout: this.out, stderr: this.err, timedOut: data.timedOut ?? false };
        if (result.exitCode !== 0) throw new CommandExitError(result);
        return result;
      }
    }
    throwIfAborted(opts.signal);
    throw new BerthError(`the logs stream of ${this.cmdID} ended before the command did; call wait() again`, { code: 'stream_ended' });
  }
}

function requestOpts(opts: RequestOptions): RequestOptions {
  return {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
  };
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('aborted by the caller', { code: 'aborted', cause: signal.reason });
}

async function readCommandStream(
  response: Response,
  callbacks: { onStdout?: OutputCallback | undefined; onStderr?: OutputCallback | undefined },
  signal: AbortSignal | undefined,
): Promise<CommandResult> {
  if (!response.body) throw new BerthError('empty answer to a streamed command', { code: 'protocol' });
  let cmdID = '';
  let pid: number | null = null;
  let stdout = '';
  let stderr = '';
  for await (const message of readSse(response.body)) {
    const data = JSON.parse(message.data) as { cmdID?: string; pid?: number; data?: string; exitCode?: number; timedOut?: boolean };
    if (message.event === 'start') {
      cmdID = data.cmdID ?? '';
      pid = data.pid ?? null;
    } else if (message.event === 'stdout') {
      stdout += data.data ?? '';
      await callbacks.onStdout?.(data.data ?? '');
    } else if (message.event === 'stderr') {
      stderr += data.data ?? '';
      await callbacks.onStderr?.(data.data ?? '');
    } else if (message.event === 'end') {
      return { cmdID, pid, exitCode: data.exitCode ?? -1, stdout, stderr, timedOut: data.timedOut ?? false };
    }
  }
  throwIfAborted(signal);
  throw new BerthError('the command stream ended before the command did', { code: 'stream_ended' });
}
