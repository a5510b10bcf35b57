/**
 * The terminal WebSocket `GET /sandboxes/{id}/pty/{pid}/ws` (upgrade, authenticated with the
 * API key headers). Framing (docs/pty.md):
 * - binary frames carry raw bytes: terminal output from berth, keystrokes from the client;
 * - text frames carry one JSON control message each. From the client:
 *   `{"type":"resize","cols":C,"rows":R}`. From berth: `{"type":"attached",…}` first (then the
 *   scrollback as binary), `{"type":"exit","exitCode":N}` before it closes (1000), and
 *   `{"type":"error","code","message"}` for a control message it could not use.
 * An attached socket keeps the sandbox alive (interaction-gate lease); a client that cannot keep
 * up is disconnected (close 1013) and may reconnect: the scrollback covers what it missed.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { BerthError, NotFoundError } from '../../errors.js';
import type { PtyManager } from '../../dataplane/pty.js';
import { ownerOfUpgrade } from '../auth.js';
import { serveUpgrade } from '../upgrade.js';
import type { InteractionGate } from '../../service/interaction-gate.js';
import type { StreamSlots } from '../../service/stream-slots.js';
import { sandboxIDOfUrl } from '../metrics.js';
import { parsePid, resizePtySchema } from './pty.js';

const PTY_WS_PATH = /^\/sandboxes\/([^/?]+)\/pty\/([^/?]+)\/ws(?:\?.*)?$/;

/** Largest frame a client may send (input or control). */
const MAX_CLIENT_FRAME_BYTES = 1024 * 1024;

/** Output queued for a client beyond which it counts as too slow and is disconnected. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** True when `url` is a terminal WebSocket path (the app routes such upgrades here). */
export function isPtySocketPath(url: string | undefined): boolean {
  return PTY_WS_PATH.test(url ?? '');
}

export interface PtySocketDeps {
  gate: InteractionGate;
  ptys: PtyManager;
  apiKeys: Map<string, string>;
  logger: Logger;
  slots: StreamSlots;
}

/** The `upgrade` listener for terminal WebSockets. */
export function ptyUpgradeHandler(deps: PtySocketDeps) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES, perMessageDeflate: false });
  return (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const context = { gate: deps.gate, logger: deps.logger, what: 'terminal upgrade', logFields: { url: req.url, sandboxID: sandboxIDOfUrl(req.url ?? '') } };
    serveUpgrade(socket, context, async () => {
      const m = PTY_WS_PATH.exec(req.url ?? '');
      if (!m) throw new NotFoundError(`no upgrade route ${req.url ?? ''}`);
      const owner = ownerOfUpgrade(deps.apiKeys, req);
      const pid = parsePid(m[2]);
      const info = await deps.gate.beginInteraction(owner, m[1] ?? '');
      deps.ptys.get(info.sandboxID, pid); // 404 before the upgrade
      const releaseSlot = deps.slots.hold(owner, 'terminal connection', socket);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stopKeepAlive = deps.gate.keepAlive(info.sandboxID, info.timeout);
        ws.once('close', () => {
          stopKeepAlive();
          releaseSlot();
        });
        serve(ws, deps.ptys, info.sandboxID, pid, new URL(req.url ?? '/', 'http://x').searchParams.get('scrollback') !== 'false');
      });
    });
  };
}

/** Bridges one attached WebSocket and the terminal. */
function serve(ws: WebSocket, ptys: PtyManager, sandboxID: string, pid: number, replay: boolean): void {
  const control = (message: Record<string, unknown>) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  let sub: ReturnType<PtyManager['subscribe']>;
  try {
    sub = ptys.subscribe(sandboxID, pid, {
      data: (chunk) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
          ws.close(1013, 'client too slow: reconnect to read the scrollback');
          return;
        }
        ws.send(chunk, { binary: true });
      },
      exit: (exitCode) => {
        control({ type: 'exit', exitCode });
        ws.close(1000, 'terminal exited');
      },
    });
  } catch (err) {
    // Dropped between the check before the upgrade and now.
    control({ type: 'error', code: 'not_found', message: (err as Error).message });
    ws.close(1008, 'terminal not found');
    return;
  }
  ws.once('close', () => sub.unsubscribe());
  const info = ptys.get(sandboxID, pid);
  control({
    type: 'attached',
    pid,
    cols: info.cols,
    rows: info.rows,
    running: info.running,
    scrollbackBytes: replay ? sub.scrollback.length : 0,
    scrollbackTruncated: replay && sub.scrollbackTruncated,
  });
  if (replay && sub.scrollback.length) ws.send(sub.scrollback, { binary: true });

  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    void handle(bytes, isBinary).catch((err: unknown) => {
      const e = err instanceof BerthError ? err : undefined;
      control({ type: 'error', code: e?.code ?? 'internal', message: e?.message ?? 'internal error' });
    });
  });

  async function handle(bytes: Buffer, isBinary: boolean): Promise<void> {
    if (isBinary) {
      ptys.write(sandboxID, pid, bytes);
      return;
    }
    let message: unknown;
    try {
      message = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new BerthError('invalid_argument', 400, 'text frames are JSON control messages ({"type":"resize","cols":80,"rows":24}); send input as binary frames');
    }
    const type = (message as { type?: unknown } | null)?.type;
    if (type === 'resize') {
      const { type: _t, ...size } = message as Record<string, unknown>;
      const parsed = resizePtySchema.safeParse(size);
      if (!parsed.success) throw new BerthError('invalid_argument', 400, 'resize needs whole-number cols and rows from 1 to 1000');
      await ptys.resize(sandboxID, pid, parsed.data);
      return;
    }
    throw new BerthError('invalid_argument', 400, `unknown control message type ${JSON.stringify(type)}: the only one is "resize"`);
  }
}
