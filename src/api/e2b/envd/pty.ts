/**
 * E2B's pty on berth's terminals (src/dataplane/pty.ts): `process.Start` with `pty`, output as
 * `data.pty` bytes, `SendInput` with `input.pty`, `Update` resizes, `SendSignal` (SIGKILL ends the
 * terminal's whole session), `Connect` re-attaches (the terminal's scrollback is replayed first).
 */
import type { Request, Response } from 'express';
import type { PtyManager } from '../../../dataplane/pty.js';
import type { SignalName } from '../../../dataplane/paths.js';
import { requestTimeoutMs } from './connect.js';
import { asRecord, asUint } from './messages.js';
import { streamProcess } from './process-stream.js';
import type { EnvdCall } from './call.js';

/** `PTY.size` of a request → cols/rows (at least 1 each). */
export function ptySize(raw: unknown): { cols: number; rows: number } {
  const size = asRecord(asRecord(raw, 'pty').size, 'pty.size');
  return { cols: Math.max(1, asUint(size.cols, 'pty.size.cols') || 80), rows: Math.max(1, asUint(size.rows, 'pty.size.rows') || 24) };
}

export class EnvdPtys {
  constructor(private readonly ptys: PtyManager) {}

  has(call: EnvdCall, pid: number): boolean {
    try {
      this.ptys.get(call.sandboxID, pid);
      return true;
    } catch {
      return false;
    }
  }

  list(call: EnvdCall) {
    return this.ptys
      .list(call.sandboxID)
      .filter((p) => p.running)
      .map((p) => ({ config: { cmd: p.cmd[0] ?? '/bin/sh', args: p.cmd.slice(1), envs: {}, ...(p.cwd ? { cwd: p.cwd } : {}) }, pid: p.pid }));
  }

  async start(call: EnvdCall, spec: { cmd: string; args: string[]; envs: Record<string, string>; cwd?: string }, pty: unknown, req: Request, res: Response): Promise<void> {
    const size = ptySize(pty);
    const timeoutMs = requestTimeoutMs(req);
    const info = await this.ptys.create(call.owner, call.sandboxID, {
      cmd: [spec.cmd, ...spec.args],
      ...size,
      envs: spec.envs,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      user: call.user,
    });
    this.attach(call, info.pid, req, res, timeoutMs);
  }

  attach(call: EnvdCall, pid: number, req: Request, res: Response, timeoutMs = requestTimeoutMs(req)): void {
    streamProcess(call, req, res, pid, timeoutMs, (output) => {
      const sub = this.ptys.subscribe(call.sandboxID, pid, {
        data: (chunk) => output.data('pty', chunk),
        exit: (exitCode) => output.end(exitCode),
      });
      // The terminal's scrollback first, so a re-attached client sees what it missed.
      if (sub.scrollback.length) output.data('pty', sub.scrollback);
      return sub.unsubscribe;
    });
  }

  write(call: EnvdCall, pid: number, data: Buffer): void {
    this.ptys.write(call.sandboxID, pid, data);
  }

  async resize(call: EnvdCall, pid: number, pty: unknown): Promise<void> {
    await this.ptys.resize(call.sandboxID, pid, ptySize(pty));
  }

  async signal(call: EnvdCall, pid: number, signal: SignalName): Promise<void> {
    if (signal === 'KILL') await this.ptys.kill(call.sandboxID, pid);
    else await this.ptys.signal(call.sandboxID, pid, signal, 'process');
  }
}
