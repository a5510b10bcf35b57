/**
 * E2B's envd served by berth on its own listener (no path prefix, like envd on port 49983):
 * Connect-RPC `process.Process` and `filesystem.Filesystem`, `/files`, `/health`. Every call
 * is authenticated (see access.ts), goes through the interaction gate (owner check, auto-resume,
 * touch; streams hold keep-alive leases) and reaches the sandbox through berth's data plane.
 */
import express, { type Express, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { FileOps } from '../../../dataplane/files.js';
import type { ProcessTable } from '../../../dataplane/processes.js';
import type { PtyManager } from '../../../dataplane/pty.js';
import type { Watches } from '../../../dataplane/watch.js';
import { ContainerMissingError } from '../../../errors.js';
import type { InteractionGate } from '../../../service/interaction-gate.js';
import type { StreamSlots } from '../../../service/stream-slots.js';
import { resolveCaller, type AccessDeps } from './access.js';
import type { EnvdCall } from './call.js';
import { ConnectError, HTTP_STATUS, openStream, readStreamRequest, readUnaryRequest, sendUnaryError, toConnectError } from './connect.js';
import { FileTransfer } from './files.js';
import { FilesystemService } from './filesystem.js';
import { ProcessService } from './process.js';
import { EnvdPtys } from './pty.js';
import { WatchService } from './watch.js';

/** Largest Connect request message accepted (input chunks, paths). */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** agentbox's Connect client: parses messages strictly, so answers carry only the fields it knows. */
const STRICT_USER_AGENT = /^connect-python\b/;

export interface EnvdDeps extends AccessDeps {
  gate: InteractionGate;
  processes: ProcessTable;
  ptys: PtyManager;
  files: FileOps;
  watches: Watches;
  maxUploadBytes: number;
  /** Per-owner cap on open streams (BERTH_MAX_STREAMS_PER_OWNER), shared with berth's REST. */
  slots: StreamSlots;
  logger: Logger;
}

export interface EnvdApp {
  app: Express;
  close(): void;
}

type Unary = (call: EnvdCall, msg: Record<string, unknown>) => Promise<unknown> | unknown;
type ServerStream = (call: EnvdCall, msg: Record<string, unknown>, req: Request, res: Response) => Promise<void> | void;

export function createEnvdApp(deps: EnvdDeps): EnvdApp {
  const { gate, logger } = deps;
  const processes = new ProcessService(deps.processes, new EnvdPtys(deps.ptys));
  const filesystem = new FilesystemService(deps.files);
  const watch = new WatchService(deps.watches);
  const transfer = new FileTransfer(deps.files);

  const unary: Record<string, Unary> = {
    'process.Process/List': (c) => processes.list(c),
    'process.Process/SendInput': (c, m) => processes.sendInput(c, m),
    'process.Process/SendSignal': (c, m) => processes.sendSignal(c, m),
    'process.Process/CloseStdin': (c, m) => processes.closeStdin(c, m),
    'process.Process/Update': (c, m) => processes.update(c, m),
    'filesystem.Filesystem/Stat': (c, m) => filesystem.stat(c, m),
    'filesystem.Filesystem/MakeDir': (c, m) => filesystem.makeDir(c, m),
    'filesystem.Filesystem/Move': (c, m) => filesystem.move(c, m),
    'filesystem.Filesystem/ListDir': (c, m) => filesystem.listDir(c, m),
    'filesystem.Filesystem/Remove': (c, m) => filesystem.remove(c, m),
    'filesystem.Filesystem/CreateWatcher': (c, m) => watch.createWatcher(c, m),
    'filesystem.Filesystem/GetWatcherEvents': (c, m) => watch.getWatcherEvents(c, m),
    'filesystem.Filesystem/RemoveWatcher': (c, m) => watch.removeWatcher(c, m),
  };
  const streams: Record<string, ServerStream> = {
    'process.Process/Start': (c, m, req, res) => processes.start(c, m, req, res),
    'process.Process/Connect': (c, m, req, res) => processes.connect(c, m, req, res),
    'filesystem.Filesystem/WatchDir': (c, m, req, res) => watch.watchDir(c, m, req, res),
  };

  /** Authenticates, passes the gate, and describes the call. */
  async function begin(req: Request, userOverride?: string): Promise<EnvdCall> {
    const caller = resolveCaller(req, deps, userOverride);
    const info = await gate.beginInteraction(caller.owner, caller.sandboxID);
    return {
      ...caller,
      keepAlive: () => gate.keepAlive(info.sandboxID, info.timeout),
      strict: STRICT_USER_AGENT.test(req.get('user-agent') ?? ''),
    };
  }

  function report(err: unknown, req: Request): ConnectError {
    if (err instanceof ContainerMissingError) gate.reportContainerMissing(err.sandboxID);
    const mapped = toConnectError(err);
    if (mapped.code === 'internal') logger.error({ err, path: req.path }, 'envd call failed');
    return mapped;
  }

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  // envd's health: 204. For a named sandbox (header or token, with credentials) the SDKs'
  // is_running() reads it: 502 "… was not found" when the sandbox is not running (paused,
  // stopped, another owner's), without touching or resuming it.
  app.get('/health', async (req, res) => {
    try {
      const hasCredentials = req.get('x-access-token') !== undefined || req.get('x-api-key') !== undefined;
      if (hasCredentials) {
        const caller = resolveCaller(req, deps);
        if (!(await gate.isRunning(caller.owner, caller.sandboxID))) {
          res.status(502).json({ code: 502, message: `sandbox ${caller.sandboxID} was not found (not running)` });
          return;
        }
      }
      res.status(204).end();
    } catch (err) {
      const mapped = report(err, req);
      const status = HTTP_STATUS[mapped.code];
      res.status(status).json({ code: status, message: mapped.message });
    }
  });

  app.post('/:service/:method', async (req, res) => {
    const name = `${req.params.service}/${req.params.method}`;
    const stream = streams[name];
    const call = unary[name];
    if (name === 'process.Process/StreamInput') {
      try {
        await processes.streamInput(await begin(req), req, res, MAX_MESSAGE_BYTES);
      } catch (err) {
        if (!res.headersSent) openStream(res).end(report(err, req));
        else res.destroy();
      }
      return;
    }
    if (stream) {
      try {
        const msg = await readStreamRequest(req, MAX_MESSAGE_BYTES);
        const c = await begin(req);
        deps.slots.hold(c.owner, 'envd stream', res);
        await stream(c, msg, req, res);
      } catch (err) {
        const mapped = report(err, req);
        if (!res.headersSent) openStream(res).end(mapped);
        else res.destroy();
      }
      return;
    }
    if (!call) {
      sendUnaryError(res, new ConnectError('unimplemented', `berth envd has no method ${name}`));
      return;
    }
    try {
      const msg = await readUnaryRequest(req, MAX_MESSAGE_BYTES);
      const out = await call(await begin(req), msg);
      res.status(200).type('application/json').send(JSON.stringify(out ?? {}));
    } catch (err) {
      sendUnaryError(res, report(err, req));
    }
  });

  const fileRoute = (handler: (call: EnvdCall, req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      const username = typeof req.query.username === 'string' && req.query.username ? req.query.username : undefined;
      await handler(await begin(req, username), req, res);
    } catch (err) {
      const mapped = report(err, req);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = HTTP_STATUS[mapped.code];
      res.status(status).json({ code: status, message: mapped.message });
    }
  };
  app.get(
    '/files',
    fileRoute((c, req, res) => {
      deps.slots.hold(c.owner, 'file download', res);
      return transfer.download(c, req, res);
    }),
  );
  app.post(
    '/files',
    fileRoute((c, req, res) => {
      deps.slots.hold(c.owner, 'file upload', res);
      return transfer.upload(c, req, res, deps.maxUploadBytes);
    }),
  );

  app.use((req, res) => {
    res.status(404).json({ code: 404, message: `berth envd has no route ${req.method} ${req.path}` });
  });

  return { app, close: () => watch.close() };
}
