/**
 * Folder watches (envd): the WatchDir server stream and the unary watcher calls the sync SDKs
 * poll (CreateWatcher, GetWatcherEvents, RemoveWatcher). Built on the polling watcher of the
 * data plane (src/dataplane/watch.ts). Unary watchers live in this API process; one not polled
 * for {@link WATCHER_IDLE_MS} is removed.
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import type { DirWatcher, WatchEvent, Watches } from '../../../dataplane/watch.js';
import { ConnectError, keepaliveIntervalMs, openStream, requestTimeoutMs, toConnectError } from './connect.js';
import { pumpStream } from './stream-events.js';
import { asString, requiredPath } from './messages.js';
import type { EnvdCall } from './call.js';

export const WATCHER_IDLE_MS = 120_000;
const MAX_PENDING_EVENTS = 10_000;

const EVENT_TYPE: Record<WatchEvent['type'], string> = {
  create: 'EVENT_TYPE_CREATE',
  write: 'EVENT_TYPE_WRITE',
  remove: 'EVENT_TYPE_REMOVE',
  chmod: 'EVENT_TYPE_CHMOD',
};

const eventMessage = (e: WatchEvent) => ({ name: e.name, type: EVENT_TYPE[e.type] });

interface UnaryWatcher {
  owner: string;
  sandboxID: string;
  watcher: DirWatcher;
  events: WatchEvent[];
  error: ConnectError | undefined;
  polledAt: number;
}

export class WatchService {
  private readonly watchers = new Map<string, UnaryWatcher>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly watches: Watches) {
    this.sweeper = setInterval(() => this.sweep(), 10_000);
    this.sweeper.unref();
  }

  /** WatchDir (server stream): start, then filesystem events, keepalives. */
  async watchDir(call: EnvdCall, msg: Record<string, unknown>, req: Request, res: Response): Promise<void> {
    const path = requiredPath(msg.path, 'path', call.user);
    const timeoutMs = requestTimeoutMs(req);
    const sink: { pump?: ReturnType<typeof pumpStream> } = {};
    const watcher = await this.watches.start(call.sandboxID, path, {
      recursive: msg.recursive === true,
      onEvents: (events) => events.forEach((e) => sink.pump?.push({ filesystem: eventMessage(e) })),
      onError: (err) => sink.pump?.finish(toConnectError(err)),
    });
    const stopKeepAlive = call.keepAlive();
    sink.pump = pumpStream(openStream(res), {
      keepaliveMs: keepaliveIntervalMs(req),
      keepaliveMessage: { keepalive: {} },
      timeoutMs,
      onFinish: () => {
        watcher.stop();
        stopKeepAlive();
      },
    });
    sink.pump.push({ start: {} });
  }

  async createWatcher(call: EnvdCall, msg: Record<string, unknown>): Promise<unknown> {
    const path = requiredPath(msg.path, 'path', call.user);
    const id = `w${randomBytes(12).toString('hex')}`;
    const entry: Partial<UnaryWatcher> = { owner: call.owner, sandboxID: call.sandboxID, events: [], error: undefined, polledAt: Date.now() };
    entry.watcher = await this.watches.start(call.sandboxID, path, {
      recursive: msg.recursive === true,
      onEvents: (events) => {
        const list = entry.events!;
        list.push(...events);
        if (list.length > MAX_PENDING_EVENTS) list.splice(0, list.length - MAX_PENDING_EVENTS);
      },
      onError: (err) => {
        entry.error = toConnectError(err);
      },
    });
    this.watchers.set(id, entry as UnaryWatcher);
    return { watcherId: id };
  }

  getWatcherEvents(call: EnvdCall, msg: Record<string, unknown>): unknown {
    const w = this.get(call, msg);
    w.polledAt = Date.now();
    if (w.error) {
      this.remove(call, msg);
      throw w.error;
    }
    const events = w.events.splice(0);
    return { events: events.map(eventMessage) };
  }

  removeWatcher(call: EnvdCall, msg: Record<string, unknown>): unknown {
    this.get(call, msg);
    this.remove(call, msg);
    return {};
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const w of this.watchers.values()) w.watcher.stop();
    this.watchers.clear();
  }

  private get(call: EnvdCall, msg: Record<string, unknown>): UnaryWatcher {
    const id = asString(msg.watcherId ?? msg.watcher_id, 'watcherId');
    const w = this.watchers.get(id);
    if (!w || w.owner !== call.owner || w.sandboxID !== call.sandboxID) throw new ConnectError('not_found', `watcher ${id.slice(0, 40)} not found (removed, or idle for more than ${WATCHER_IDLE_MS / 1000} s)`);
    return w;
  }

  private remove(_call: EnvdCall, msg: Record<string, unknown>): void {
    const id = asString(msg.watcherId ?? msg.watcher_id, 'watcherId');
    this.watchers.get(id)?.watcher.stop();
    this.watchers.delete(id);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, w] of this.watchers) {
      if (now - w.polledAt > WATCHER_IDLE_MS) {
        w.watcher.stop();
        this.watchers.delete(id);
      }
    }
  }
}
