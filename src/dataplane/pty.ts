/**
 * Interactive terminals in sandboxes, for every front door (berth's REST + WebSocket, E2B's
 * `process.Start` with a pty). One {@link PtyManager} per API process holds the terminals it
 * started: a `docker exec` with a TTY and stdin attached, its output fanned out to any number
 * of subscribers and kept in a bounded scrollback that is replayed to each new subscriber.
 *
 * A terminal is known by its process's PID inside the sandbox (what E2B clients signal and
 * reconnect by). The PID comes from a wrapper that prints `$$` on the terminal's first line and
 * then `exec`s the command (which keeps the PID); berth strips that line. This works wherever
 * the API runs (on the Docker host or not, any PID namespace), unlike mapping the exec's host
 * PID through /proc/<pid>/status NSpid, which needs the API in the host's PID namespace.
 *
 * Terminals outlive their clients: subscribers come and go, the process runs on. When the
 * process exits, subscribers get the exit code and the terminal is dropped after a grace
 * period (so a late `wait` or reconnect still learns how it ended). Terminals live in the
 * API process that created them; another API process does not know them.
 */
import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import { ConflictError, InvalidArgumentError, NotFoundError, QuotaExceededError } from '../errors.js';
import { NO_CREATE_ENVS, type CreateEnvLookup } from './create-envs.js';
import { dataPlaneError } from '../docker/errors.js';
import { execCollect, ROOT } from './exec.js';
import type { SignalName } from './paths.js';
import { PTY_PID_MARKER, PTY_SIGNAL, PTY_WRAPPER } from './pty-scripts.js';
import { Scrollback } from './scrollback.js';

/** Limits of terminals (see docs/pty.md for the environment variables). */
export interface PtyLimits {
  /** Live terminals one owner may have in this API process (429 above). */
  maxPtysPerOwner: number;
  /** Bytes of output kept per terminal and replayed to a subscriber that attaches. */
  scrollbackBytes: number;
  /** How long an exited terminal stays known (exit code, scrollback) before it is dropped. */
  exitGraceMs: number;
}

/**
 * Docker watches a TTY exec's stdin for a "detach" key sequence (default ctrl-p ctrl-q, which
 * would eat readline's ctrl-p and cut binary input off); it cannot be turned off, so berth sets
 * one no keyboard or ordinary input produces: ctrl-] ctrl-^ ctrl-] ctrl-_ twice (8 bytes).
 * Input containing exactly these 8 bytes in a row would close the terminal's input; a byte that
 * starts the sequence is held back until the next byte shows it is not the sequence.
 */
export const PTY_DETACH_KEYS = 'ctrl-],ctrl-^,ctrl-],ctrl-_,ctrl-],ctrl-^,ctrl-],ctrl-_';

/** Largest terminal size accepted (either dimension). */
export const PTY_MAX_DIMENSION = 1000;

/** A terminal to create. */
export interface PtyCreateOptions {
  /** An argv; a login shell (`/bin/bash -l` when present, else `/bin/sh -l`) when omitted or empty. */
  cmd?: string[];
  cols: number;
  rows: number;
  /** Environment; `TERM` defaults to `xterm-256color`. */
  envs?: Record<string, string>;
  /** Absolute working directory; the image's default when omitted. */
  cwd?: string;
  /** `name`, `uid` or `uid:gid`; the image's default user when omitted. */
  user?: string;
  /** Seconds; the terminal is killed (its whole session) when it runs longer. 0/undefined = no limit. */
  timeoutS?: number;
}

/** What a terminal is now. */
export interface PtyInfo {
  sandboxID: string;
  /** The terminal process's PID inside the sandbox. */
  pid: number;
  /** The argv run (empty: the default login shell). */
  cmd: string[];
  cols: number;
  rows: number;
  user: string | null;
  cwd: string | null;
  startedAt: string;
  running: boolean;
  /** Set once the process exited; -1 when Docker could not tell (e.g. the container is gone). */
  exitCode: number | null;
  /** Subscribers attached now. */
  attached: number;
}

/** What a subscriber is told. */
export interface PtyListener {
  /** Output bytes, in order. Must not throw; must not block (buffer or drop what you cannot send). */
  data(chunk: Buffer): void;
  /** The process exited (called once, after the last data). */
  exit(exitCode: number): void;
}

/** An attachment to a terminal. */
export interface PtySubscription {
  /** Output kept from before this attachment (the scrollback), oldest first. */
  scrollback: Buffer;
  /** True when older output was dropped from the scrollback (the cap was reached). */
  scrollbackTruncated: boolean;
  /** Detaches; the terminal runs on. Idempotent. */
  unsubscribe(): void;
}

/** What `signal` reaches: the process, its terminal's foreground process group, or its whole session. */
export type PtySignalTarget = 'process' | 'foreground' | 'session';

interface Session {
  owner: string;
  info: Omit<PtyInfo, 'attached'>;
  exec: Docker.Exec;
  socket: Duplex;
  scrollback: Scrollback;
  listeners: Set<PtyListener>;
  exited: Promise<number>;
  dropTimer?: NodeJS.Timeout;
}

const key = (sandboxID: string, pid: number) => `${sandboxID}/${pid}`;

/** Owns this API process's terminals. */
export class PtyManager {
  private readonly sessions = new Map<string, Session>();
  /** Creates in flight per owner (they count against the cap). */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly docker: Docker,
    private readonly limits: PtyLimits,
    /** The sandbox's create-time envs, under the terminal's own (a claimed warm-pool container lacks them). */
    private readonly createEnvs: CreateEnvLookup = NO_CREATE_ENVS,
  ) {}

  /** Live terminals (running or being created) of `owner` in this process. */
  liveCount(owner: string): number {
    let n = this.pending.get(owner) ?? 0;
    for (const s of this.sessions.values()) if (s.owner === owner && s.info.running) n++;
    return n;
  }

  /**
   * Starts a terminal in `sandboxID` (the caller checked the sandbox is `owner`'s and running).
   * Resolves once the process runs and its PID is known.
   * @throws QuotaExceededError (429) at the owner's cap, InvalidArgumentError (400) for a bad
   * size, cwd, user or command, data-plane errors for a missing or paused container.
   */
  async create(owner: string, sandboxID: string, options: PtyCreateOptions): Promise<PtyInfo> {
    checkSize(options);
    const live = this.liveCount(owner);
    if (live >= this.limits.maxPtysPerOwner) {
      throw new QuotaExceededError(
        `owner ${owner} already has ${live} live terminals (limit ${this.limits.maxPtysPerOwner}, BERTH_MAX_PTYS_PER_OWNER): ` +
          'kill one (DELETE /sandboxes/{id}/pty/{pid}) or let one exit, then retry',
      );
    }
    this.pending.set(owner, (this.pending.get(owner) ?? 0) + 1);
    try {
      return await this.start(owner, sandboxID, options);
    } finally {
      const left = (this.pending.get(owner) ?? 1) - 1;
      if (left > 0) this.pending.set(owner, left);
      else this.pending.delete(owner);
    }
  }

  private async start(owner: string, sandboxID: string, options: PtyCreateOptions): Promise<PtyInfo> {
    const cmd = options.cmd ?? [];
    const container = this.docker.getContainer(sandboxID);
    const createEnvs = await this.createEnvs(sandboxID);
    const exec = await container
      .exec({
        Cmd: ['/bin/sh', '-c', PTY_WRAPPER, 'berth', String(options.rows), String(options.cols), ...cmd],
        Env: Object.entries({ ...createEnvs, TERM: 'xterm-256color', ...options.envs }).map(([k, v]) => `${k}=${v}`),
        ...(options.user ? { User: options.user } : {}),
        ...(options.cwd ? { WorkingDir: options.cwd } : {}),
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: true,
        DetachKeys: PTY_DETACH_KEYS,
      })
      .catch((err: unknown) => {
        throw dataPlaneError(err, sandboxID, { exec: true });
      });
    const socket = (await exec.start({ hijack: true, stdin: true, Tty: true }).catch((err: unknown) => {
      throw dataPlaneError(err, sandboxID, { exec: true });
    })) as Duplex;
    socket.on('error', () => socket.destroy());
    // Listen for the end before anything else: a process that ends at once ends the stream
    // (and closes the socket) while the PID line is still being read.
    const streamEnded = new Promise<void>((resolve) => {
      socket.once('end', resolve);
      socket.once('close', resolve);
    });

    const { pid, rest } = await readPidLine(socket).catch(async (err: unknown) => {
      socket.destroy();
      throw err;
    });
    await exec.resize({ h: options.rows, w: options.cols }).catch(() => undefined); // stty already set it; Docker's record follows

    const scrollback = new Scrollback(this.limits.scrollbackBytes);
    const listeners = new Set<PtyListener>();
    const info: Omit<PtyInfo, 'attached'> = {
      sandboxID,
      pid,
      cmd,
      cols: options.cols,
      rows: options.rows,
      user: options.user ?? null,
      cwd: options.cwd ?? null,
      startedAt: new Date().toISOString(),
      running: true,
      exitCode: null,
    };
    const emit = (chunk: Buffer) => {
      scrollback.write(chunk);
      for (const l of listeners) safely(() => l.data(chunk));
    };
    if (rest.length) emit(rest);
    socket.on('data', emit);
    socket.resume(); // readPidLine paused it
    const exited = streamEnded.then(async () => {
      const code = await exitCodeOf(exec);
      info.running = false;
      info.exitCode = code;
      for (const l of [...listeners]) safely(() => l.exit(code));
      listeners.clear();
      socket.destroy();
      const session = this.sessions.get(key(sandboxID, pid));
      if (session?.socket === socket) {
        session.dropTimer = setTimeout(() => {
          if (this.sessions.get(key(sandboxID, pid)) === session) this.sessions.delete(key(sandboxID, pid));
        }, this.limits.exitGraceMs);
        session.dropTimer.unref();
      }
      return code;
    });
    if (options.timeoutS && options.timeoutS > 0) {
      const timer = setTimeout(() => void this.kill(sandboxID, pid).catch(() => socket.destroy()), options.timeoutS * 1000);
      timer.unref();
      void exited.finally(() => clearTimeout(timer));
    }
    const previous = this.sessions.get(key(sandboxID, pid));
    if (previous?.dropTimer) clearTimeout(previous.dropTimer); // an exited terminal whose PID was reused
    this.sessions.set(key(sandboxID, pid), { owner, info, exec, socket, scrollback, listeners, exited });
    return { ...info, attached: 0 };
  }

  /** The sandbox's terminals in this process (running, and exited ones within the grace period), oldest first. */
  list(sandboxID: string): PtyInfo[] {
    return [...this.sessions.values()]
      .filter((s) => s.info.sandboxID === sandboxID)
      .map((s) => ({ ...s.info, attached: s.listeners.size }))
      .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /** The terminal with process `pid` in the sandbox. @throws NotFoundError */
  get(sandboxID: string, pid: number): PtyInfo {
    const s = this.session(sandboxID, pid);
    return { ...s.info, attached: s.listeners.size };
  }

  /**
   * Attaches `listener`: it gets the output from now on and the exit. The scrollback (output
   * from before) is returned, so deliver it first. An exited terminal (within the grace period)
   * gets the exit at once, after the caller had the chance to send the scrollback: call
   * {@link PtySubscription.unsubscribe} when done either way.
   */
  subscribe(sandboxID: string, pid: number, listener: PtyListener): PtySubscription {
    const s = this.session(sandboxID, pid);
    const scrollback = s.scrollback.snapshot();
    const scrollbackTruncated = s.scrollback.truncated;
    if (s.info.running) {
      s.listeners.add(listener);
    } else {
      const code = s.info.exitCode ?? -1;
      queueMicrotask(() => safely(() => listener.exit(code)));
    }
    return { scrollback, scrollbackTruncated, unsubscribe: () => void s.listeners.delete(listener) };
  }

  /** Writes input bytes (keystrokes) to the terminal. @throws NotFoundError, ConflictError once it exited */
  write(sandboxID: string, pid: number, data: Buffer): void {
    const s = this.running(sandboxID, pid);
    if (data.length) s.socket.write(data);
  }

  /** Sets the terminal's size (the process gets SIGWINCH). */
  async resize(sandboxID: string, pid: number, size: { cols: number; rows: number }): Promise<PtyInfo> {
    checkSize(size);
    const s = this.running(sandboxID, pid);
    await s.exec.resize({ h: size.rows, w: size.cols }).catch((err: unknown) => {
      throw dataPlaneError(err, sandboxID);
    });
    s.info.cols = size.cols;
    s.info.rows = size.rows;
    return { ...s.info, attached: s.listeners.size };
  }

  /**
   * Sends `signal` to the terminal's process, its foreground process group (what a keyboard's
   * Ctrl-C reaches) or its whole session. @returns how many processes were signalled.
   */
  async signal(sandboxID: string, pid: number, signal: SignalName, target: PtySignalTarget = 'process'): Promise<number> {
    this.running(sandboxID, pid);
    const res = await execCollect(this.docker, sandboxID, { cmd: ['/bin/sh', '-c', PTY_SIGNAL, 'berth', String(pid), signal, target], user: ROOT }).catch(
      (err: unknown) => {
        throw dataPlaneError(err, sandboxID);
      },
    );
    if (res.exitCode === 44) return 0; // exited meanwhile
    return Number.parseInt(res.stdout.toString('utf8'), 10) || 0;
  }

  /** Kills the terminal's whole session (SIGKILL) and resolves with its exit code once it ended. */
  async kill(sandboxID: string, pid: number): Promise<number> {
    const s = this.session(sandboxID, pid);
    if (!s.info.running) return s.info.exitCode ?? -1;
    await this.signal(sandboxID, pid, 'KILL', 'session');
    // A process that left the session (setsid) may hold the terminal open: stop waiting for it.
    const timer = setTimeout(() => s.socket.destroy(), 5000);
    timer.unref();
    try {
      return await s.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with the exit code once the terminal's process exited. */
  wait(sandboxID: string, pid: number): Promise<number> {
    return this.session(sandboxID, pid).exited;
  }

  /** Kills every terminal (the API process is going away; nobody could reach them afterwards). */
  async close(): Promise<void> {
    await Promise.all(
      [...this.sessions.values()].map(async (s) => {
        if (s.info.running) await this.kill(s.info.sandboxID, s.info.pid).catch(() => s.socket.destroy());
        if (s.dropTimer) clearTimeout(s.dropTimer);
      }),
    );
    this.sessions.clear();
  }

  private session(sandboxID: string, pid: number): Session {
    const s = this.sessions.get(key(sandboxID, pid));
    if (!s) {
      throw new NotFoundError(
        `no terminal with PID ${pid} in sandbox ${sandboxID} (it may have exited more than ${Math.round(this.limits.exitGraceMs / 1000)} s ago, or been started through another API process): list them with GET /sandboxes/${sandboxID}/pty`,
      );
    }
    return s;
  }

  private running(sandboxID: string, pid: number): Session {
    const s = this.session(sandboxID, pid);
    if (!s.info.running) throw new ConflictError(`terminal ${pid} in sandbox ${sandboxID} has exited (exit code ${s.info.exitCode}): create a new one`);
    return s;
  }
}

/** A subscriber's failure must not stop the others or the terminal. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // the subscriber's own problem (e.g. its socket just closed)
  }
}

function checkSize(size: { cols: number; rows: number }): void {
  for (const [name, v] of [
    ['cols', size.cols],
    ['rows', size.rows],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > PTY_MAX_DIMENSION) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${PTY_MAX_DIMENSION}: got ${String(v)}`);
    }
  }
}

/**
 * Reads the wrapper's first line (`berth-pty-pid:<pid>\r\n`) off the terminal. Anything else
 * (the stream ends first, or the first line is Docker's complaint about a bad cwd, user or
 * command) means the process could not start: 400 with what was said.
 */
async function readPidLine(socket: Duplex): Promise<{ pid: number; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > 64 * 1024) onEnd();
        return;
      }
      const line = buf.subarray(0, nl).toString('utf8').replace(/\r$/, '');
      if (!line.startsWith(PTY_PID_MARKER)) return; // not yet: maybe Docker's error, read on to the end
      const pid = Number(line.slice(PTY_PID_MARKER.length));
      done();
      socket.pause();
      if (!Number.isInteger(pid) || pid <= 0) {
        reject(new Error(`terminal wrapper printed a bad PID line: ${line}`));
        return;
      }
      resolve({ pid, rest: buf.subarray(nl + 1) });
    };
    const onEnd = () => {
      done();
      const said = buf.toString('utf8').trim().slice(0, 2000);
      reject(new InvalidArgumentError(`the terminal could not start: ${said || 'the process ended at once'} (check cmd, cwd and user)`));
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
  });
}

/** The exec's exit code once Docker has it; -1 when it cannot tell (e.g. the container is gone). */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < 100; i++) {
    try {
      const info = await exec.inspect();
      if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    } catch {
      return -1;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return -1;
}
