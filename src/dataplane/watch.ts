/**
 * Watching a folder in a sandbox by polling: a snapshot (one exec of `find` + `stat` with
 * nanosecond times) every interval, compared with the previous one. Nothing is installed in
 * the sandbox and it works on any image with a POSIX shell. Limits: a change that is undone
 * within one interval is not seen, a rename shows as remove + create, and very large trees cost
 * one `stat` per entry per interval (capped at {@link WATCH_MAX_ENTRIES}).
 */
import type Docker from 'dockerode';
import { NotFoundError, InvalidArgumentError } from '../errors.js';
import { execCollect, ROOT } from './exec.js';

export const WATCH_MAX_ENTRIES = 20_000;
const RECURSIVE_DEPTH = 64;

const SNAPSHOT = `[ -e "$1" ] || exit 44; [ -d "$1" ] || exit 46
find "$1" -mindepth 1 -maxdepth "$2" -exec stat -c '%y|%z|%s|%f|%n' {} + 2>/dev/null | head -n "$3"; exit 0`;

/** What a snapshot knows of one entry. */
export interface Stamp {
  mtime: string;
  ctime: string;
  size: string;
  mode: string;
  isDir: boolean;
}

export type WatchEventType = 'create' | 'write' | 'remove' | 'chmod';

/** One change; `name` is relative to the watched folder. */
export interface WatchEvent {
  name: string;
  type: WatchEventType;
}

/** Parses the snapshot script's output into path → stamp. */
export function parseSnapshot(out: string): Map<string, Stamp> {
  const map = new Map<string, Stamp>();
  for (const line of out.split('\n')) {
    const parts = line.split('|');
    if (parts.length < 5) continue;
    const [mtime = '', ctime = '', size = '', modeHex = '', ...rest] = parts;
    const path = rest.join('|');
    const mode = Number.parseInt(modeHex, 16);
    map.set(path, { mtime, ctime, size, mode: modeHex, isDir: (mode & 0o170000) === 0o040000 });
  }
  return map;
}

/** The events between two snapshots of `root`, in path order. */
export function diffSnapshots(root: string, before: Map<string, Stamp>, after: Map<string, Stamp>): WatchEvent[] {
  const events: Array<WatchEvent & { path: string }> = [];
  const rel = (p: string) => (p.startsWith(`${root}/`) ? p.slice(root.length + 1) : root === '/' ? p.slice(1) : p);
  for (const [path, now] of after) {
    const was = before.get(path);
    if (!was) events.push({ path, name: rel(path), type: 'create' });
    else if (!now.isDir && (was.mtime !== now.mtime || was.size !== now.size)) events.push({ path, name: rel(path), type: 'write' });
    else if (was.mode !== now.mode || (was.ctime !== now.ctime && was.mtime === now.mtime && !now.isDir)) events.push({ path, name: rel(path), type: 'chmod' });
  }
  for (const path of before.keys()) if (!after.has(path)) events.push({ path, name: rel(path), type: 'remove' });
  return events.sort((a, b) => a.path.localeCompare(b.path)).map(({ name, type }) => ({ name, type }));
}

/** One snapshot of `root`. @throws NotFoundError / InvalidArgumentError (not a folder) */
export async function snapshot(docker: Docker, sandboxID: string, root: string, recursive: boolean): Promise<Map<string, Stamp>> {
  const res = await execCollect(docker, sandboxID, {
    cmd: ['/bin/sh', '-c', SNAPSHOT, 'berth', root, String(recursive ? RECURSIVE_DEPTH : 1), String(WATCH_MAX_ENTRIES)],
    user: ROOT,
  });
  if (res.exitCode === 44) throw new NotFoundError(`${root} does not exist`);
  if (res.exitCode === 46) throw new InvalidArgumentError(`${root} is not a folder`);
  return parseSnapshot(res.stdout.toString('utf8'));
}

/** A running watch: polls until stopped, handing each batch of events to `onEvents`. */
export class DirWatcher {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    private readonly poll: () => Promise<Map<string, Stamp>>,
    private readonly root: string,
    private last: Map<string, Stamp>,
    private readonly intervalMs: number,
    private readonly onEvents: (events: WatchEvent[]) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Takes the first snapshot (so errors such as a missing folder surface at once), then polls. */
  static async start(
    docker: Docker,
    sandboxID: string,
    root: string,
    opts: { recursive: boolean; intervalMs: number; onEvents: (events: WatchEvent[]) => void; onError: (err: unknown) => void },
  ): Promise<DirWatcher> {
    const poll = () => snapshot(docker, sandboxID, root, opts.recursive);
    const watcher = new DirWatcher(poll, root, await poll(), opts.intervalMs, opts.onEvents, opts.onError);
    watcher.schedule();
    return watcher;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const now = await this.poll();
      const events = diffSnapshots(this.root, this.last, now);
      this.last = now;
      if (events.length && !this.stopped) this.onEvents(events);
      this.schedule();
    } catch (err) {
      if (!this.stopped) this.onError(err);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** Starts watches on sandboxes of one Docker engine (what front doors hold; they never see Docker). */
export class Watches {
  constructor(
    private readonly docker: Docker,
    private readonly intervalMs: number,
  ) {}

  start(sandboxID: string, root: string, opts: { recursive: boolean; onEvents: (events: WatchEvent[]) => void; onError: (err: unknown) => void }): Promise<DirWatcher> {
    return DirWatcher.start(this.docker, sandboxID, root, { ...opts, intervalMs: this.intervalMs });
  }
}
