/**
 * Commands inside a sandbox: foreground (attached exec, streamed) and background (state kept
 * in the container under /tmp/.berth/cmd/<id>/, so any API process can read it, also after a
 * restart). Every process berth starts for a command carries `BERTH_CMD=<id>` in its
 * environment; interrupting a command signals every process of its user that carries it.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { ConflictError, ContainerMissingError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { NO_CREATE_ENVS, type CreateEnvLookup } from './create-envs.js';
import { dataPlaneError } from '../docker/errors.js';
import { collect, execCollect, execCreateOptions, ROOT, startExec } from './exec.js';
import { formatLogCursor, type LogCursor, type SignalName } from './paths.js';

/** Where background commands keep their state inside the sandbox. */
export const COMMANDS_DIR = '/tmp/.berth/cmd';

/** Command IDs: `c` + 16 lowercase alphanumerics. */
export const COMMAND_ID_PATTERN = /^c[a-z0-9]{16}$/;

/** A command to run. */
export interface CommandRequest {
  /** A shell string (run with `/bin/sh -c`) or an argv. */
  cmd: string | string[];
  envs?: Record<string, string>;
  cwd?: string;
  user?: string;
  /** Seconds; the command is killed (SIGKILL) when it runs longer. 0/undefined = no limit. */
  timeoutS?: number;
  /** Bytes for stdin, or a stream that stays open until it ends (foreground only). */
  stdin?: Buffer | Readable;
}

/** A running foreground command. */
export interface ForegroundCommand {
  cmdID: string;
  /** The command's PID inside the sandbox (null if it could not start). */
  pid: Promise<number | null>;
  stdout: Readable;
  stderr: Readable;
  /** Resolves once the process ended. */
  done: Promise<{ exitCode: number; timedOut: boolean; interrupted: boolean }>;
  /** Signals the command's processes (e.g. the client went away). */
  interrupt(signal?: SignalName): Promise<number>;
}

/** What berth knows about a background command. */
export interface CommandStatus {
  cmdID: string;
  cmd: string | string[];
  user: string | null;
  cwd: string | null;
  startedAt: string | null;
  pid: number | null;
  /** `running`, `exited`, or `lost` (the process vanished without an exit code, e.g. the container restarted). */
  state: 'running' | 'exited' | 'lost';
  running: boolean;
  exitCode: number | null;
  timedOut: boolean;
}

/** One incremental read of a background command's output. */
export interface CommandLogs {
  stdout: Buffer;
  stderr: Buffer;
  /** Pass back as `cursor` to read on. */
  cursor: string;
  /** More output is already available past `cursor` (a read is capped). */
  more: boolean;
}

const shell = (cmd: CommandRequest['cmd']): string[] => (typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : cmd);

// Foreground wrapper: report the PID on stderr's first line, then become the command.
const FOREGROUND = 'printf "%s\\n" "$$" >&2; exec "$@"';

// sigcmd SIGNAL ID: signals every process of the calling user whose environment carries
// BERTH_CMD=<id> (the command and everything it started); prints how many.
const SIGNAL_FN = `sigcmd() { n=0
for d in /proc/[0-9]*; do
  p=\${d#/proc/}
  [ "$p" = "$$" ] && continue
  if tr '\\0' '\\n' < "$d/environ" 2>/dev/null | grep -qx "BERTH_CMD=$2"; then kill -s "$1" "$p" 2>/dev/null && n=$((n+1)); fi
done
echo "$n"; }`;
const KILL = `${SIGNAL_FN}
sigcmd "$1" "$2"`;

// Background, step 1 (attached, as the command's user, in its cwd): state folder, meta, stdin.
const PREPARE = `id=$1; meta=$2; hasin=$3; base=${COMMANDS_DIR}
if [ ! -d "$base" ]; then (umask 0; mkdir -p "$base") 2>/dev/null; chmod 1777 /tmp/.berth "$base" 2>/dev/null; fi
d=$base/$id
mkdir "$d" || exit 125
printf '%s' "$meta" > "$d/meta" || exit 125
if [ "$hasin" = 1 ]; then cat > "$d/stdin" || exit 125; fi`;

// Background, step 2 (detached exec): run the command with redirected output, record the exit
// code. The exec carries the command's envs (never its argv: /proc/<pid>/cmdline is world
// readable); the wrapper's own tools run with a standard PATH, so a user PATH cannot break
// it, and the command gets the user's PATH back. BERTH_CMD is set last so no env overrides
// it. A timeout kills every process of the command, not just its top one.
const RUN = `upath=$PATH; PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
${SIGNAL_FN}
id=$1; t=$2; shift 2; d=${COMMANDS_DIR}/$id
echo "$$" > "$d/wpid"
in=/dev/null; [ -f "$d/stdin" ] && in=$d/stdin
w=
if [ "$t" -gt 0 ]; then
  ( trap 'kill $s 2>/dev/null; exit 0' TERM; sleep "$t" & s=$!; wait $s; trap '' TERM; : > "$d/timedout"; sigcmd KILL "$id" ) > /dev/null 2>&1 &
  w=$!
fi
PATH=$upath BERTH_CMD=$id /bin/sh -c 'echo "$$" > "$0"; exec "$@"' "$d/pid" "$@" > "$d/stdout" 2> "$d/stderr" < "$in"
code=$?
# Stop the watcher if it is still sleeping; once it is killing, let it finish (it ignores TERM).
[ -n "$w" ] && { kill "$w" 2>/dev/null; wait "$w" 2>/dev/null; }
echo "$code" > "$d/exit.tmp" && mv "$d/exit.tmp" "$d/exit"`;

/** A background command whose run step has not started this long after it was prepared is lost. */
const RUN_START_GRACE_S = 30;

// Status of one command folder: id, meta, pid, state, exit, timedout — each NUL-terminated.
// The exit file is checked again after the wrapper is found gone (it may have just finished).
const STATUS_FN = `st() {
  d=$1; printf '%s\\0' "\${d##*/}"; cat "$d/meta" 2>/dev/null; printf '\\0'
  pid=$(cat "$d/pid" 2>/dev/null); printf '%s\\0' "$pid"
  if [ -f "$d/exit" ]; then printf 'exited\\0%s\\0' "$(cat "$d/exit")"
  else w=$(cat "$d/wpid" 2>/dev/null)
    if [ -n "$w" ] && kill -0 "$w" 2>/dev/null; then printf 'running\\0\\0'
    elif [ -f "$d/exit" ]; then printf 'exited\\0%s\\0' "$(cat "$d/exit")"
    elif [ -z "$w" ] && [ $(( $(date +%s) - $(stat -c %Y "$d/meta" 2>/dev/null || date +%s) )) -lt ${RUN_START_GRACE_S} ]; then printf 'running\\0\\0'
    else printf 'lost\\0\\0'; fi
  fi
  if [ -f "$d/timedout" ]; then printf '1\\0'; else printf '0\\0'; fi
}`;
const STATUS = `${STATUS_FN}
d=${COMMANDS_DIR}/$1; [ -d "$d" ] || exit 44; st "$d"`;
const LIST = `${STATUS_FN}
for d in ${COMMANDS_DIR}/c*; do [ -d "$d" ] && st "$d"; done; exit 0`;

const LOGS = `d=${COMMANDS_DIR}/$1; o=$2; e=$3; cap=$4
[ -d "$d" ] || exit 44
tail -c +$((o + 1)) "$d/stdout" 2>/dev/null | head -c "$cap"
tail -c +$((e + 1)) "$d/stderr" 2>/dev/null | head -c "$cap" >&2
exit 0`;

/** Runs and tracks commands in sandboxes through the Docker exec API. */
export class CommandRunner {
  constructor(
    private readonly docker: Docker,
    private readonly limits: { logReadCapBytes: number },
    /** The sandbox's create-time envs, under each command's own (a claimed warm-pool container lacks them). */
    private readonly createEnvs: CreateEnvLookup = NO_CREATE_ENVS,
  ) {}

  /** Starts a foreground command attached to this API process. */
  async startForeground(sandboxID: string, req: CommandRequest): Promise<ForegroundCommand> {
    const cmdID = newCommandID();
    const handle = await startExec(this.docker, sandboxID, {
      cmd: ['/bin/sh', '-c', FOREGROUND, 'berth', ...shell(req.cmd)],
      env: { ...(await this.createEnvs(sandboxID)), ...req.envs, BERTH_CMD: cmdID },
      user: req.user,
      cwd: req.cwd,
      stdin: req.stdin,
    });
    let resolvePid!: (pid: number | null) => void;
    const pid = new Promise<number | null>((r) => (resolvePid = r));
    const stderr = handle.stderr.pipe(stripFirstLine((line) => resolvePid(/^\d+$/.test(line) ? Number(line) : null)));
    // Docker reads the process's stdout and stderr separately, so stdout frames can arrive
    // before the PID line on stderr. Nobody consumes stdout until the PID is known: without
    // room here, a chatty command fills stdout, the demuxer stops reading, the PID line is
    // never read and the call hangs (seen with 1 MB of output). 4 MiB of room is far more
    // than arrives before the PID line; backpressure still applies beyond it.
    const stdout = handle.stdout.pipe(new PassThrough({ highWaterMark: 4 * 1024 * 1024 }));
    let timedOut = false;
    let interrupted = false;
    const interrupt = async (signal: SignalName = 'TERM'): Promise<number> => {
      interrupted = true;
      return this.signalProcesses(sandboxID, cmdID, req.user, signal);
    };
    const timer =
      req.timeoutS && req.timeoutS > 0
        ? setTimeout(() => {
            timedOut = true;
            void interrupt('KILL').catch(() => undefined);
          }, req.timeoutS * 1000)
        : undefined;
    const done = handle.exit.then((exitCode) => {
      if (timer) clearTimeout(timer);
      resolvePid(null);
      return { exitCode, timedOut, interrupted: interrupted && !timedOut };
    });
    if ((await pid) === null) {
      // The wrapper never ran: Docker could not start the process (bad cwd or user); it says why on stdout.
      const [out] = await Promise.all([collect(stdout, 64 * 1024), collect(stderr, 64 * 1024)]);
      await done;
      // Or the container is being removed (the sandbox expired or was killed during the call):
      // its processes die before Docker reports it stopped, so look for a moment.
      if (!(await this.staysRunning(sandboxID))) throw new ContainerMissingError(sandboxID, `sandbox ${sandboxID} stopped while the command was starting`);
      throw new InvalidArgumentError(`the command could not start: ${out.data.toString('utf8').trim() || 'unknown reason'}`);
    }
    return { cmdID, pid, stdout, stderr, done, interrupt };
  }

  /** Whether the sandbox's container still runs over the next ~half second (false once it is gone or exited). */
  private async staysRunning(sandboxID: string): Promise<boolean> {
    for (let i = 0; i < 5; i++) {
      try {
        const { State } = await this.docker.getContainer(sandboxID).inspect();
        if (State.Running !== true || State.Status === 'removing') return false;
      } catch {
        return false;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return true;
  }

  /** Starts a background command; returns once its process exists in the sandbox. */
  async startBackground(sandboxID: string, req: CommandRequest): Promise<CommandStatus> {
    const cmdID = newCommandID();
    const meta = JSON.stringify({ cmd: req.cmd, user: req.user ?? null, cwd: req.cwd ?? null, startedAt: new Date().toISOString() });
    const prep = await execCollect(this.docker, sandboxID, {
      cmd: ['/bin/sh', '-c', PREPARE, 'berth', cmdID, meta, req.stdin ? '1' : '0'],
      user: req.user,
      cwd: req.cwd,
      stdin: req.stdin ?? undefined,
    });
    if (prep.exitCode !== 0) {
      const why = `${prep.stdout.toString('utf8')} ${prep.stderr}`.trim();
      throw new InvalidArgumentError(`the command could not start (user ${req.user ?? 'default'}, cwd ${req.cwd ?? 'default'}): ${why}`);
    }
    try {
      const exec = await this.docker.getContainer(sandboxID).exec(
        execCreateOptions(
          { cmd: ['/bin/sh', '-c', RUN, 'berth', cmdID, String(Math.ceil(req.timeoutS ?? 0)), ...shell(req.cmd)], env: { ...(await this.createEnvs(sandboxID)), ...req.envs }, user: req.user, cwd: req.cwd },
          { stdin: false, output: false },
        ),
      );
      await exec.start({ Detach: true });
    } catch (err) {
      // Not started: drop its folder so it is not listed as a command that never ends.
      await execCollect(this.docker, sandboxID, { cmd: ['rm', '-rf', `${COMMANDS_DIR}/${cmdID}`], user: ROOT }).catch(() => undefined);
      throw dataPlaneError(err, sandboxID, { exec: true });
    }
    for (let i = 0; i < 100; i++) {
      const status = await this.status(sandboxID, cmdID);
      if (status.pid !== null || status.state !== 'running') return status;
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.status(sandboxID, cmdID);
  }

  /** Status of a background command. @throws NotFoundError */
  async status(sandboxID: string, cmdID: string): Promise<CommandStatus> {
    const res = await execCollect(this.docker, sandboxID, { cmd: ['/bin/sh', '-c', STATUS, 'berth', cmdID], user: ROOT });
    if (res.exitCode === 44) throw new NotFoundError(`command ${cmdID} not found in sandbox ${sandboxID}`);
    const [status] = parseStatusRecords(res.stdout);
    if (!status) throw new NotFoundError(`command ${cmdID} not found in sandbox ${sandboxID}`);
    return status;
  }

  /** Every background command of the sandbox, oldest first. */
  async list(sandboxID: string): Promise<CommandStatus[]> {
    const res = await execCollect(this.docker, sandboxID, { cmd: ['/bin/sh', '-c', LIST, 'berth'], user: ROOT });
    return parseStatusRecords(res.stdout).sort((a, b) => (a.startedAt ?? '').localeCompare(b.startedAt ?? ''));
  }

  /** Reads output from `cursor` on, at most the configured cap per stream. */
  async logs(sandboxID: string, cmdID: string, cursor: LogCursor): Promise<CommandLogs> {
    const cap = this.limits.logReadCapBytes;
    const handle = await startExec(this.docker, sandboxID, {
      cmd: ['/bin/sh', '-c', LOGS, 'berth', cmdID, String(cursor.stdout), String(cursor.stderr), String(cap + 1)],
      user: ROOT,
    });
    const [out, err] = await Promise.all([collect(handle.stdout, cap + 1), collect(handle.stderr, cap + 1)]);
    const exitCode = await handle.exit;
    if (exitCode === 44) throw new NotFoundError(`command ${cmdID} not found in sandbox ${sandboxID}`);
    const stdout = out.data.subarray(0, cap);
    const stderr = err.data.subarray(0, cap);
    return {
      stdout,
      stderr,
      cursor: formatLogCursor({ stdout: cursor.stdout + stdout.length, stderr: cursor.stderr + stderr.length }),
      more: out.data.length > cap || err.data.length > cap,
    };
  }

  /** Signals a background command's processes. @returns how many processes were signalled. */
  async signal(sandboxID: string, cmdID: string, signal: SignalName): Promise<{ signalled: number; status: CommandStatus }> {
    const before = await this.status(sandboxID, cmdID);
    if (before.state !== 'running') throw new ConflictError(`command ${cmdID} is not running (${before.state}, exit code ${before.exitCode})`);
    const signalled = await this.signalProcesses(sandboxID, cmdID, before.user ?? undefined, signal);
    return { signalled, status: before };
  }

  private async signalProcesses(sandboxID: string, cmdID: string, user: string | undefined, signal: SignalName): Promise<number> {
    const res = await execCollect(this.docker, sandboxID, { cmd: ['/bin/sh', '-c', KILL, 'berth', signal, cmdID], user });
    return Number.parseInt(res.stdout.toString('utf8'), 10) || 0;
  }
}

/** A new command ID. */
export function newCommandID(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(16);
  let id = 'c';
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}

/** Parses the NUL-separated records of the status script (6 fields each). */
export function parseStatusRecords(raw: Buffer): CommandStatus[] {
  const fields = raw.toString('utf8').split('\0');
  const out: CommandStatus[] = [];
  for (let i = 0; i + 6 <= fields.length; i += 6) {
    const [cmdID = '', metaText = '', pid = '', state = '', exit = '', timedOut = ''] = fields.slice(i, i + 6);
    let meta: { cmd?: string | string[]; user?: string | null; cwd?: string | null; startedAt?: string } = {};
    try {
      meta = JSON.parse(metaText) as typeof meta;
    } catch {
      // a command whose meta was not written yet
    }
    const exitCode = exit === '' ? null : Number(exit);
    const st = state === 'exited' || state === 'lost' ? state : 'running';
    out.push({
      cmdID,
      cmd: meta.cmd ?? '',
      user: meta.user ?? null,
      cwd: meta.cwd ?? null,
      startedAt: meta.startedAt ?? null,
      pid: /^\d+$/.test(pid) ? Number(pid) : null,
      state: st,
      running: st === 'running',
      exitCode: Number.isFinite(exitCode) ? exitCode : null,
      timedOut: timedOut === '1',
    });
  }
  return out;
}

/** Passes a stream through except its first line, which goes to `onLine`. */
export function stripFirstLine(onLine: (line: string) => void): Transform {
  let head: Buffer | null = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, callback) {
      if (head === null) {
        callback(null, chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0 && head.length < 64) {
        callback();
        return;
      }
      const cut = nl < 0 ? 0 : nl + 1;
      onLine(head.subarray(0, nl < 0 ? 0 : nl).toString('utf8'));
      const rest = head.subarray(cut);
      head = null;
      callback(null, rest.length ? rest : undefined);
    },
    flush(callback) {
      if (head !== null && head.length) onLine(head.toString('utf8').trim());
      callback();
    },
  });
}
