/**
 * Long-lived attached processes (what E2B's envd calls processes): started with an attached
 * exec from this API process, kept running when the client that started them goes away, with
 * stdin writable until closed, output fanned out to any number of subscribers (a late
 * subscriber gets what the process printed since its last read, up to a bounded backlog), and
 * found again by sandbox + PID or tag. Built on {@link CommandRunner.startForeground}, so every
 * process carries `BERTH_CMD` and a signal reaches everything it started.
 *
 * Why in the API process and not as berth's background commands (state files in the sandbox):
 * E2B clients write to a running process's stdin (SendInput) and read its output live, and
 * only an attached exec can do both. The price: a process is known to the API process that
 * started it; after that process restarts, its processes keep running in the sandbox but can no
 * longer be listed, signalled by PID or re-attached through envd (their stdin is closed).
 */
import { PassThrough, type Readable } from 'node:stream';
import type { CommandRunner, ForegroundCommand } from './commands.js';
import type { SignalName } from './paths.js';

/** Output that nobody read yet is kept up to this many bytes per process (the oldest is dropped). */
export const PROCESS_BACKLOG_BYTES = 1024 * 1024;

/** What to start. */
export interface ProcessSpec {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd?: string;
  user?: string;
  tag?: string;
  /** Keep stdin open for {@link ManagedProcess.write}; when false the process sees EOF at once. */
  stdin: boolean;
}

/** One chunk of output or the end. */
export type ProcessEvent = { kind: 'stdout' | 'stderr'; data: Buffer } | { kind: 'end'; exitCode: number };

/** A running (or just ended) process. */
export interface ManagedProcess {
  sandboxID: string;
  pid: number;
  tag: string | undefined;
  spec: ProcessSpec;
  /** Delivers the backlog, then live events until the end event; returns an unsubscribe function. */
  subscribe(listener: (event: ProcessEvent) => void): () => void;
  /** Writes to stdin. @throws Error when stdin is closed */
  write(data: Buffer): void;
  closeStdin(): void;
  readonly stdinOpen: boolean;
  signal(signal: SignalName): Promise<number>;
  /** Resolves with the exit code. */
  readonly done: Promise<number>;
}

const key = (sandboxID: string, pid: number) => `${sandboxID}:${pid}`;

/** The processes this API process started, by sandbox and PID. */
export class ProcessTable {
  private readonly byKey = new Map<string, ManagedProcess>();

  constructor(private readonly runner: CommandRunner) {}

  /** Starts a process; resolves once it runs and its PID is known. */
  async start(sandboxID: string, spec: ProcessSpec): Promise<ManagedProcess> {
    const stdin = spec.stdin ? new PassThrough() : undefined;
    const cmd = await this.runner.startForeground(sandboxID, {
      cmd: [spec.cmd, ...spec.args],
      envs: spec.envs,
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      ...(spec.user ? { user: spec.user } : {}),
      ...(stdin ? { stdin } : {}),
    });
    const pid = (await cmd.pid) ?? 0;
    const proc = managed(sandboxID, pid, spec, cmd, stdin);
    this.byKey.set(key(sandboxID, pid), proc);
    void proc.done.finally(() => {
      if (this.byKey.get(key(sandboxID, pid)) === proc) this.byKey.delete(key(sandboxID, pid));
    });
    return proc;
  }

  /** A running process of the sandbox by PID or tag. */
  find(sandboxID: string, selector: { pid?: number; tag?: string }): ManagedProcess | undefined {
    if (selector.pid !== undefined) return this.byKey.get(key(sandboxID, selector.pid));
    if (selector.tag !== undefined) return this.list(sandboxID).find((p) => p.tag === selector.tag);
    return undefined;
  }

  /** The running processes of a sandbox. */
  list(sandboxID: string): ManagedProcess[] {
    return [...this.byKey.values()].filter((p) => p.sandboxID === sandboxID);
  }
}

function managed(sandboxID: string, pid: number, spec: ProcessSpec, cmd: ForegroundCommand, stdin: PassThrough | undefined): ManagedProcess {
  const listeners = new Set<(event: ProcessEvent) => void>();
  let backlog: ProcessEvent[] = [];
  let backlogBytes = 0;
  let ended: ProcessEvent | undefined;
  let stdinOpen = stdin !== undefined;

  const emit = (event: ProcessEvent) => {
    if (listeners.size === 0) {
      // Nobody reads: keep the newest output, bounded.
      if (event.kind !== 'end') {
        backlog.push(event);
        backlogBytes += event.data.length;
        while (backlogBytes > PROCESS_BACKLOG_BYTES && backlog.length > 1) {
          const dropped = backlog.shift();
          if (dropped && dropped.kind !== 'end') backlogBytes -= dropped.data.length;
        }
      }
    } else {
      for (const l of listeners) l(event);
    }
    if (event.kind === 'end') ended = event;
  };
  const pump = async (kind: 'stdout' | 'stderr', source: Readable) => {
    for await (const chunk of source as AsyncIterable<Buffer>) emit({ kind, data: chunk });
  };
  const done = Promise.all([pump('stdout', cmd.stdout), pump('stderr', cmd.stderr)])
    .catch(() => undefined)
    .then(() => cmd.done)
    .then((d) => {
      stdinOpen = false;
      emit({ kind: 'end', exitCode: d.exitCode });
      return d.exitCode;
    });

  return {
    sandboxID,
    pid,
    tag: spec.tag,
    spec,
    subscribe(listener) {
      const replay = backlog;
      backlog = [];
      backlogBytes = 0;
      for (const event of replay) listener(event);
      if (ended) {
        listener(ended);
        return () => undefined;
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    write(data) {
      if (!stdin || !stdinOpen) throw new Error('stdin is closed');
      stdin.write(data);
    },
    closeStdin() {
      if (stdin && stdinOpen) stdin.end();
      stdinOpen = false;
    },
    get stdinOpen() {
      return stdinOpen;
    },
    signal: (signal) => cmd.interrupt(signal),
    done,
  };
}
