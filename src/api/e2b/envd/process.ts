/**
 * `process.Process` (envd): Start, Connect, List, SendInput, SendSignal, CloseStdin, Update and
 * StreamInput, mapped onto berth's process table (src/dataplane/processes.ts). Processes outlive
 * the stream that started them (E2B background commands, `commands.connect`).
 */
import type { Request, Response } from 'express';
import type { ManagedProcess, ProcessEvent, ProcessSpec, ProcessTable } from '../../../dataplane/processes.js';
import type { SignalName } from '../../../dataplane/paths.js';
import { ConnectError, FLAG_END_STREAM, envelope, parseJsonMessage, requestTimeoutMs } from './connect.js';
import { streamProcess } from './process-stream.js';
import { asBytes, asRecord, asString, asStringArray, asStringMap, homeOf, resolvePath } from './messages.js';
import type { EnvdCall } from './call.js';
import type { EnvdPtys } from './pty.js';

/** `ProcessSelector` → pid / tag. */
function selectorOf(raw: unknown): { pid?: number; tag?: string } {
  const sel = asRecord(raw, 'process');
  if (sel.pid !== undefined && sel.pid !== null) {
    const pid = Number(sel.pid);
    if (!Number.isInteger(pid) || pid <= 0) throw new ConnectError('invalid_argument', 'process.pid must be a positive integer');
    return { pid };
  }
  if (typeof sel.tag === 'string' && sel.tag) return { tag: sel.tag };
  throw new ConnectError('invalid_argument', 'name the process: process.pid or process.tag');
}

type Target = { kind: 'process'; proc: ManagedProcess } | { kind: 'pty'; pid: number };

export class ProcessService {
  constructor(
    private readonly table: ProcessTable,
    private readonly ptys: EnvdPtys,
  ) {}

  /** The process or terminal a selector names. @throws ConnectError not_found */
  private target(call: EnvdCall, raw: unknown): Target {
    const selector = selectorOf(raw);
    const proc = this.table.find(call.sandboxID, selector);
    if (proc) return { kind: 'process', proc };
    if (selector.pid !== undefined && this.ptys.has(call, selector.pid)) return { kind: 'pty', pid: selector.pid };
    throw new ConnectError('not_found', `process ${selector.pid ?? selector.tag} not found (it ended, or was started through another berth API process)`);
  }

  private find(call: EnvdCall, raw: unknown): ManagedProcess {
    const t = this.target(call, raw);
    if (t.kind === 'pty') throw new ConnectError('failed_precondition', `process ${t.pid} is a pty: send input.pty, resize with Update`);
    return t.proc;
  }

  /** Start (server stream). */
  async start(call: EnvdCall, msg: Record<string, unknown>, req: Request, res: Response): Promise<void> {
    const config = asRecord(msg.process, 'process');
    const cmd = asString(config.cmd, 'process.cmd');
    if (!cmd) throw new ConnectError('invalid_argument', 'process.cmd is required, e.g. "/bin/bash"');
    const spec: ProcessSpec = {
      cmd,
      args: asStringArray(config.args, 'process.args'),
      envs: asStringMap(config.envs, 'process.envs'),
      // Like envd: the user's home folder unless told otherwise; relative paths resolve against it.
      cwd: resolvePath(config.cwd === undefined || config.cwd === '' ? homeOf(call.user) : asString(config.cwd, 'process.cwd'), call.user),
      user: call.user,
      ...(typeof msg.tag === 'string' && msg.tag ? { tag: msg.tag } : {}),
      stdin: msg.stdin === undefined || msg.stdin === null ? true : msg.stdin === true,
    };
    if (msg.pty !== undefined && msg.pty !== null) {
      await this.ptys.start(call, spec, msg.pty, req, res);
      return;
    }
    const timeoutMs = requestTimeoutMs(req);
    const proc = await this.table.start(call.sandboxID, spec);
    this.attach(call, proc, req, res, timeoutMs);
  }

  /** Connect (server stream): re-attach to a running process. */
  connect(call: EnvdCall, msg: Record<string, unknown>, req: Request, res: Response): void {
    const t = this.target(call, msg.process);
    if (t.kind === 'pty') this.ptys.attach(call, t.pid, req, res);
    else this.attach(call, t.proc, req, res, requestTimeoutMs(req));
  }

  private attach(call: EnvdCall, proc: ManagedProcess, req: Request, res: Response, timeoutMs: number | undefined): void {
    streamProcess(call, req, res, proc.pid, timeoutMs, (output) =>
      proc.subscribe((event: ProcessEvent) => {
        if (event.kind === 'end') output.end(event.exitCode);
        else output.data(event.kind, event.data);
      }),
    );
  }

  list(call: EnvdCall): unknown {
    return {
      processes: [
        ...this.table.list(call.sandboxID).map((p) => ({
          config: { cmd: p.spec.cmd, args: p.spec.args, envs: p.spec.envs, ...(p.spec.cwd ? { cwd: p.spec.cwd } : {}) },
          pid: p.pid,
          ...(p.tag ? { tag: p.tag } : {}),
        })),
        ...this.ptys.list(call),
      ],
    };
  }

  sendInput(call: EnvdCall, msg: Record<string, unknown>): unknown {
    this.write(call, this.target(call, msg.process), msg.input);
    return {};
  }

  private write(call: EnvdCall, t: Target, rawInput: unknown): void {
    const input = asRecord(rawInput, 'input');
    if (t.kind === 'pty') {
      if (input.pty === undefined) throw new ConnectError('failed_precondition', `process ${t.pid} is a pty: send input.pty`);
      this.ptys.write(call, t.pid, asBytes(input.pty, 'input.pty'));
      return;
    }
    const proc = t.proc;
    if (input.pty !== undefined) throw new ConnectError('failed_precondition', `process ${proc.pid} has no pty: send input.stdin`);
    const data = asBytes(input.stdin, 'input.stdin');
    if (!proc.stdinOpen) throw new ConnectError('failed_precondition', `stdin of process ${proc.pid} is closed (start it with stdin: true to send input)`);
    proc.write(data);
  }

  async sendSignal(call: EnvdCall, msg: Record<string, unknown>): Promise<unknown> {
    const t = this.target(call, msg.process);
    const raw = msg.signal;
    let signal: SignalName;
    if (raw === 'SIGNAL_SIGKILL' || raw === 9) signal = 'KILL';
    else if (raw === 'SIGNAL_SIGTERM' || raw === 15) signal = 'TERM';
    else throw new ConnectError('invalid_argument', 'signal must be SIGNAL_SIGTERM or SIGNAL_SIGKILL');
    if (t.kind === 'pty') await this.ptys.signal(call, t.pid, signal);
    else await t.proc.signal(signal);
    return {};
  }

  closeStdin(call: EnvdCall, msg: Record<string, unknown>): unknown {
    this.find(call, msg.process).closeStdin();
    return {};
  }

  async update(call: EnvdCall, msg: Record<string, unknown>): Promise<unknown> {
    const t = this.target(call, msg.process);
    if (t.kind === 'process') throw new ConnectError('failed_precondition', `process ${t.proc.pid} has no pty to resize`);
    if (msg.pty !== undefined && msg.pty !== null) await this.ptys.resize(call, t.pid, msg.pty);
    return {};
  }

  /**
   * StreamInput (client stream). Over HTTP/1.1 the whole request body is the stream: the messages
   * are applied as they arrive (start names the process, data events are written in order).
   */
  async streamInput(call: EnvdCall, req: Request, res: Response, maxBytes: number): Promise<void> {
    const type = (req.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/connect+json') throw new ConnectError('invalid_argument', 'StreamInput takes application/connect+json (enveloped JSON messages)');
    let pending = Buffer.alloc(0);
    let target: Target | undefined;
    let total = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) throw new ConnectError('resource_exhausted', `StreamInput carried more than ${maxBytes} bytes; use SendInput for large input`);
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const size = pending.readUInt32BE(1);
        if (pending.length < 5 + size) break;
        const flags = pending.readUInt8(0);
        const payload = pending.subarray(5, 5 + size);
        pending = pending.subarray(5 + size);
        if (flags & FLAG_END_STREAM) continue;
        const message = parseJsonMessage(payload);
        if (message.start !== undefined) target = this.target(call, asRecord(message.start, 'start').process);
        else if (message.data !== undefined) {
          if (!target) throw new ConnectError('invalid_argument', 'StreamInput must begin with a start message naming the process');
          this.write(call, target, asRecord(message.data, 'data').input);
        }
      }
    }
    res.status(200).setHeader('content-type', 'application/connect+json');
    res.end(Buffer.concat([envelope(0, Buffer.from('{}')), envelope(FLAG_END_STREAM, Buffer.from('{}'))]));
  }
}
