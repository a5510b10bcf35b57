/**
 * execd commands: `POST /command` (foreground as server-sent events, or background),
 * `GET /command/status/{id}`, `GET /command/{id}/logs` (cursor in `EXECD-COMMANDS-TAIL-CURSOR`),
 * `DELETE /command?id=` (interrupt). Runs on berth's CommandRunner through the interaction gate.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { InvalidArgumentError, NotFoundError } from '../../../errors.js';
import { COMMAND_ID_PATTERN, type CommandRequest, type CommandRunner, type CommandStatus, type ForegroundCommand } from '../../../dataplane/commands.js';
import { sandboxPath, type LogCursor } from '../../../dataplane/paths.js';
import type { InteractionGate } from '../../../service/interaction-gate.js';
import type { StreamSlots } from '../../../service/stream-slots.js';
import { callerOf } from '../../auth.js';
import { mountParam } from '../auth.js';
import { notSupported, parseOr400 } from '../errors.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const runCommandSchema = z
  .object({
    command: z.string().min(1).optional(),
    argv: z.array(z.string()).min(1).optional(),
    cwd: z.string().optional(),
    background: z.boolean().default(false),
    /** Milliseconds. */
    timeout: z.number().int().positive().optional(),
    uid: z.number().int().min(0).optional(),
    gid: z.number().int().min(0).optional(),
    envs: z.record(z.string().regex(ENV_NAME, 'env names are letters, digits and _'), z.string()).optional(),
  })
  .refine((b) => (b.command === undefined) !== (b.argv === undefined), 'send exactly one of command (shell text) and argv');

/**
 * The integer log cursor the SDK passes back: berth's two byte offsets in one number,
 * stdout × 2^26 + stderr (so stderr up to 64 MiB and stdout up to 128 MiB of a command's
 * output are addressable: the number stays below 2^53).
 */
const STDERR_SPAN = 2 ** 26;
export function packCursor(c: LogCursor): number {
  if (c.stderr >= STDERR_SPAN || c.stdout >= 2 ** 27) throw new InvalidArgumentError('this command wrote more output than the OpenSandbox log cursor can address (128 MiB stdout / 64 MiB stderr); read it with berth REST /commands/{id}/logs');
  return c.stdout * STDERR_SPAN + c.stderr;
}
export function unpackCursor(raw: unknown): LogCursor {
  if (raw === undefined || raw === '') return { stdout: 0, stderr: 0 };
  if (typeof raw !== 'string' || !/^\d{1,16}$/.test(raw)) throw new InvalidArgumentError('cursor must be the EXECD-COMMANDS-TAIL-CURSOR value of a previous logs call');
  const n = Number(raw);
  return { stdout: Math.floor(n / STDERR_SPAN), stderr: n % STDERR_SPAN };
}

function statusView(s: CommandStatus) {
  return {
    id: s.cmdID,
    content: typeof s.cmd === 'string' ? s.cmd : s.cmd.join(' '),
    running: s.running,
    exit_code: s.exitCode,
    ...(s.state === 'lost' ? { error: 'the process vanished without an exit code (the sandbox restarted?)' } : {}),
    ...(s.timedOut ? { error: 'killed after its timeout' } : {}),
    ...(s.startedAt ? { started_at: s.startedAt } : {}),
  };
}

/** One execd event, as the SDK reads it (an integer `timestamp` is required). */
function event(type: string, fields: Record<string, unknown> = {}): string {
  return `data: ${JSON.stringify({ type, timestamp: Date.now(), ...fields })}\n\n`;
}

function openEvents(res: Response): { send(type: string, fields?: Record<string, unknown>): Promise<void>; closed: () => boolean } {
  res.status(200);
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache, no-transform');
  res.flushHeaders();
  let closed = false;
  res.on('close', () => (closed = true));
  return {
    closed: () => closed,
    async send(type, fields) {
      if (closed) return;
      if (!res.write(event(type, fields))) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.once('drain', done);
          res.once('close', done);
        });
      }
    },
  };
}

/** The execd command routes; `foreground` holds this process's running foreground commands (for interrupt). */
export function commandRoutes(gate: InteractionGate, runner: CommandRunner, slots: StreamSlots): Router {
  const router = Router({ mergeParams: true });
  const foreground = new Map<string, ForegroundCommand>();

  router.post('/command', async (req, res) => {
    const { owner } = callerOf(req);
    const body = parseOr400(runCommandSchema, req.body, 'command');
    const request: CommandRequest = {
      cmd: body.argv ?? body.command ?? '',
      envs: body.envs ?? {},
      ...(body.cwd ? { cwd: sandboxPath(body.cwd, 'cwd') } : {}),
      ...(body.uid !== undefined ? { user: body.gid !== undefined ? `${body.uid}:${body.gid}` : String(body.uid) } : {}),
      ...(body.timeout !== undefined ? { timeoutS: body.timeout / 1000 } : {}),
    };
    const info = await gate.beginInteraction(owner, mountParam(req, 'id'));
    const started = Date.now();
    if (body.background) {
      const status = await runner.startBackground(info.sandboxID, request);
      const events = openEvents(res);
      await events.send('init', { text: status.cmdID });
      await events.send('execution_complete', { execution_time: Date.now() - started });
      res.end();
      return;
    }
    // A foreground command is a stream: it counts against the owner's stream cap (429 beyond it).
    const releaseSlot = slots.hold(owner, 'command stream', res);
    const stopKeepAlive = gate.keepAlive(info.sandboxID, info.timeout);
    try {
      const cmd = await runner.startForeground(info.sandboxID, request);
      foreground.set(cmd.cmdID, cmd);
      const events = openEvents(res);
      res.on('close', () => {
        if (!foreground.has(cmd.cmdID)) return;
        // The client went away: stop the command.
        void cmd.interrupt('TERM').catch(() => undefined);
      });
      try {
        await events.send('init', { text: cmd.cmdID });
        const pump = async (type: 'stdout' | 'stderr', source: Readable) => {
          const decoder = new StringDecoder('utf8');
          for await (const chunk of source as AsyncIterable<Buffer>) {
            const text = decoder.write(chunk);
            if (text) await events.send(type, { text });
          }
          const rest = decoder.end();
          if (rest) await events.send(type, { text: rest });
        };
        await Promise.all([pump('stdout', cmd.stdout), pump('stderr', cmd.stderr)]);
        const done = await cmd.done;
        if (done.exitCode !== 0) {
          const ename = done.timedOut ? 'CommandTimeout' : done.interrupted ? 'CommandInterrupted' : 'CommandExitError';
          await events.send('error', { error: { ename, evalue: String(done.exitCode), traceback: [] } });
        }
        await events.send('execution_complete', { execution_time: Date.now() - started });
      } finally {
        foreground.delete(cmd.cmdID);
      }
      res.end();
    } finally {
      stopKeepAlive();
      releaseSlot();
    }
  });

  router.get('/command/status/:cmdID', async (req, res) => {
    const cmdID = commandID(req.params.cmdID);
    const info = await gate.beginInteraction(callerOf(req).owner, mountParam(req, 'id'));
    res.json(statusView(await runner.status(info.sandboxID, cmdID)));
  });

  router.get('/command/:cmdID/logs', async (req, res) => {
    const cmdID = commandID(req.params.cmdID);
    const cursor = unpackCursor(req.query.cursor);
    const info = await gate.beginInteraction(callerOf(req).owner, mountParam(req, 'id'));
    const logs = await runner.logs(info.sandboxID, cmdID, cursor);
    const next = { stdout: cursor.stdout + logs.stdout.length, stderr: cursor.stderr + logs.stderr.length };
    res.setHeader('EXECD-COMMANDS-TAIL-CURSOR', String(packCursor(next)));
    res.type('text/plain; charset=utf-8').send(Buffer.concat([logs.stdout, logs.stderr]).toString('utf8'));
  });

  router.delete('/command', async (req, res) => {
    const cmdID = commandID(req.query.id);
    const info = await gate.beginInteraction(callerOf(req).owner, mountParam(req, 'id'));
    const running = foreground.get(cmdID);
    if (running) await running.interrupt('TERM');
    else await runner.signal(info.sandboxID, cmdID, 'TERM');
    res.json({});
  });

  const noSessions = notSupported('bash sessions', 'run each command with commands.run (working_directory and envs per call)');
  router.all('/session{/*rest}', noSessions);
  return router;
}

function commandID(raw: unknown): string {
  const id = String(raw ?? '');
  if (!COMMAND_ID_PATTERN.test(id)) throw new NotFoundError(`command ${id} not found`);
  return id;
}
