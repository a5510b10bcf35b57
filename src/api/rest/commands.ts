/** `/sandboxes/{id}/commands…`: run commands (foreground, streamed, background), logs, signals. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { InvalidArgumentError, NotFoundError } from '../../errors.js';
import { collect } from '../../dataplane/exec.js';
import { COMMAND_ID_PATTERN, type CommandRequest, type CommandRunner, type ForegroundCommand } from '../../dataplane/commands.js';
import { abandon, followLogs, pumpOutput, readLogs } from '../../dataplane/command-output.js';
import { encodeOutput, parseLogCursor, parseSignal, sandboxPath, type LogCursor, type OutputEncoding } from '../../dataplane/paths.js';
import { openSse } from '../../dataplane/sse.js';
import { callerOf } from '../auth.js';
import { endpoint, mount, param } from './endpoint.js';
import { cwdField, envsField, signalNameField, userField } from './process-fields.js';
import type { InteractionGate } from '../../service/interaction-gate.js';
import type { StreamSlots } from '../../service/stream-slots.js';
import { commandListSchema, commandLogsSchema, commandResultSchema, commandStatusSchema, signalResultSchema } from './response-schemas.js';

/** Body of `POST /sandboxes/{id}/commands`. */
export const runCommandSchema = z
  .object({
    cmd: z
      .union([z.string().min(1), z.array(z.string()).min(1)])
      .describe('Shell string (run with /bin/sh -c) or argv array (run as is).'),
    envs: envsField,
    cwd: cwdField,
    user: userField,
    timeout: z.number().positive().max(7 * 24 * 3600).optional().describe('Seconds; the command is killed (SIGKILL) after it.'),
    stdin: z.string().optional().describe('Data written to stdin, then stdin is closed.'),
    stdinEncoding: z.enum(['utf8', 'base64']).default('utf8'),
    background: z.boolean().default(false).describe('Return a command ID at once; read status and logs later.'),
    stream: z.boolean().default(false).describe('Foreground only: answer with server-sent events (also with Accept: text/event-stream).'),
    encoding: z.enum(['utf8', 'base64']).default('utf8').describe('How stdout/stderr are encoded in the answer; base64 is exact bytes.'),
  })
  .strict();

/** Body of `POST /sandboxes/{id}/commands/{cmdID}/signal`. */
export const signalSchema = z
  .object({
    signal: signalNameField.default('TERM'),
  })
  .strict();

const logsQuerySchema = z.object({
  cursor: z.string().optional().describe('The cursor returned by the previous call; empty or omitted = from the start.'),
  encoding: z.enum(['utf8', 'base64']).default('utf8').describe('utf8 (default) or base64 (exact bytes).'),
  follow: z.enum(['true', 'false']).default('false').describe('true: server-sent events (stdout, stderr, end) until the command exits.'),
});

const id = '/sandboxes/{sandboxID}';
const cmdParams = { cmdID: z.string().regex(COMMAND_ID_PATTERN).describe('Command ID as returned by a background run.') };
const chunk = z.object({ data: z.string() }).strict();
const runEvents = {
  start: z.object({ cmdID: z.string(), pid: z.number().int() }).strict(),
  stdout: chunk,
  stderr: chunk,
  end: z.object({ exitCode: z.number().int(), timedOut: z.boolean() }).strict(),
};
const logChunk = z.object({ data: z.string(), cursor: z.string() }).strict();
const followEvents = {
  stdout: logChunk,
  stderr: logChunk,
  end: z.object({ exitCode: z.number().int().nullable(), state: z.enum(['running', 'exited', 'lost']), timedOut: z.boolean(), cursor: z.string() }).strict(),
};
const paused: [409, string] = [409, 'Sandbox paused (resume it, or create it with autoResume)'];
const runCommand = endpoint({
  method: 'post',
  path: `${id}/commands`,
  summary: 'Run a command: foreground JSON {exitCode, stdout, stderr}, SSE stream (stream:true), or background (background:true)',
  body: runCommandSchema,
  bodyName: 'command',
  responses: {
    '200': { description: 'Foreground result, or text/event-stream (start, stdout, stderr, end) with stream:true', json: commandResultSchema, sse: runEvents },
    '201': { description: 'Background command status', json: commandStatusSchema },
  },
  errors: [404, paused, [429, 'Owner stream cap reached (stream:true; BERTH_MAX_STREAMS_PER_OWNER)']],
});
const listCommands = endpoint({
  method: 'get',
  path: `${id}/commands`,
  summary: 'List background commands',
  responses: { '200': { description: 'Background commands', json: commandListSchema } },
  errors: [404, paused],
});
const commandStatus = endpoint({
  method: 'get',
  path: `${id}/commands/{cmdID}`,
  summary: 'Background command status',
  params: cmdParams,
  responses: { '200': { description: 'Command status', json: commandStatusSchema } },
  errors: [[404, 'Sandbox or command not found'], paused],
});
const commandLogs = endpoint({
  method: 'get',
  path: `${id}/commands/{cmdID}/logs`,
  summary: 'Incremental background output from a cursor',
  params: cmdParams,
  query: logsQuerySchema,
  responses: { '200': { description: 'Output since the cursor, or text/event-stream with follow=true', json: commandLogsSchema, sse: followEvents } },
  errors: [[404, 'Sandbox or command not found'], paused, [429, 'Owner stream cap reached (follow=true; BERTH_MAX_STREAMS_PER_OWNER)']],
});
const signalCommand = endpoint({
  method: 'post',
  path: `${id}/commands/{cmdID}/signal`,
  summary: 'Signal (interrupt) a background command',
  params: cmdParams,
  body: signalSchema,
  bodyName: 'signal',
  responses: { '200': { description: 'Processes signalled and the status after', json: signalResultSchema } },
  errors: [[404, 'Sandbox or command not found'], [409, 'Not running, or sandbox paused']],
});

function cmdIDOf(req: Request): string {
  const cmdID = String(req.params.cmdID);
  if (!COMMAND_ID_PATTERN.test(cmdID)) throw new NotFoundError(`command ${cmdID} not found`);
  return cmdID;
}

function toRequest(body: z.infer<typeof runCommandSchema>): CommandRequest {
  const stdin = body.stdin === undefined ? undefined : Buffer.from(body.stdin, body.stdinEncoding === 'base64' ? 'base64' : 'utf8');
  return {
    cmd: body.cmd,
    envs: body.envs,
    ...(body.cwd !== undefined ? { cwd: sandboxPath(body.cwd, 'cwd') } : {}),
    ...(body.user !== undefined ? { user: body.user } : {}),
    ...(body.timeout !== undefined ? { timeoutS: body.timeout } : {}),
    ...(stdin ? { stdin } : {}),
  };
}

/** The commands router. */
export function commandRoutes(gate: InteractionGate, runner: CommandRunner, limits: { execOutputCapBytes: number }, slots: StreamSlots): Router {
  const router = Router();

  mount(router, runCommand, async (req, res, { body }) => {
    const { owner } = callerOf(req);
    const request = toRequest(body);
    const info = await gate.beginInteraction(owner, param(req, 'sandboxID'));
    if (body.background) {
      if (body.stream) throw new InvalidArgumentError('stream and background are exclusive: read a background command with /logs');
      res.status(201).json(await runner.startBackground(info.sandboxID, request));
      return;
    }
    const stream = body.stream || (req.get('accept') ?? '').includes('text/event-stream');
    const releaseSlot = stream ? slots.hold(owner, 'command stream', res) : undefined;
    const stopKeepAlive = gate.keepAlive(info.sandboxID, info.timeout);
    try {
      const cmd = await runner.startForeground(info.sandboxID, request);
      let finished = false;
      res.on('close', () => {
        if (!finished) abandon(cmd); // the client went away
      });
      if (stream) {
        await streamCommand(res, cmd, body.encoding);
        finished = true;
        return;
      }
      const cap = limits.execOutputCapBytes;
      const [out, errOut, done] = await Promise.all([collect(cmd.stdout, cap), collect(cmd.stderr, cap), cmd.done]);
      finished = true;
      res.json({
        cmdID: cmd.cmdID,
        pid: await cmd.pid,
        exitCode: done.exitCode,
        stdout: encodeOutput(out.data, body.encoding),
        stderr: encodeOutput(errOut.data, body.encoding),
        encoding: body.encoding,
        truncated: { stdout: out.truncated, stderr: errOut.truncated },
        outputBytes: { stdout: out.total, stderr: errOut.total },
        timedOut: done.timedOut,
      });
    } finally {
      stopKeepAlive();
      releaseSlot?.();
    }
  });

  mount(router, listCommands, async (req, res) => {
    const info = await gate.beginInteraction(callerOf(req).owner, param(req, 'sandboxID'));
    res.json({ commands: await runner.list(info.sandboxID) });
  });

  mount(router, commandStatus, async (req, res) => {
    const cmdID = cmdIDOf(req);
    const info = await gate.beginInteraction(callerOf(req).owner, param(req, 'sandboxID'));
    res.json(await runner.status(info.sandboxID, cmdID));
  });

  mount(router, commandLogs, async (req, res, { query }) => {
    const cmdID = cmdIDOf(req);
    const cursor = parseLogCursor(query.cursor);
    const { owner } = callerOf(req);
    const info = await gate.beginInteraction(owner, param(req, 'sandboxID'));
    if (query.follow === 'true' || (req.get('accept') ?? '').includes('text/event-stream')) {
      const releaseSlot = slots.hold(owner, 'log follow', res);
      try {
        await streamLogs(res, runner, info.sandboxID, cmdID, cursor, query.encoding, () => gate.keepAlive(info.sandboxID, info.timeout));
      } finally {
        releaseSlot();
      }
      return;
    }
    const { status, logs } = await readLogs(runner, info.sandboxID, cmdID, cursor, query.encoding);
    res.json({
      stdout: encodeOutput(logs.stdout, query.encoding),
      stderr: encodeOutput(logs.stderr, query.encoding),
      encoding: query.encoding,
      cursor: logs.cursor,
      more: logs.more,
      status,
    });
  });

  mount(router, signalCommand, async (req, res, { body }) => {
    const cmdID = cmdIDOf(req);
    const name = parseSignal(body.signal);
    const info = await gate.beginInteraction(callerOf(req).owner, param(req, 'sandboxID'));
    res.json(await runner.signal(info.sandboxID, cmdID, name));
  });

  return router;
}

/** A foreground command as server-sent events: start, stdout / stderr chunks, end. */
async function streamCommand(res: Response, cmd: ForegroundCommand, encoding: OutputEncoding): Promise<void> {
  const sse = openSse(res);
  await sse.send('start', { cmdID: cmd.cmdID, pid: await cmd.pid });
  const done = await pumpOutput(cmd, encoding, (stream, data) => sse.send(stream, { data }));
  await sse.send('end', { exitCode: done.exitCode, timedOut: done.timedOut });
  sse.end();
}

/** A background command's output as server-sent events (stdout / stderr with the cursor after each chunk, then end). */
async function streamLogs(res: Response, runner: CommandRunner, sandboxID: string, cmdID: string, from: LogCursor, encoding: OutputEncoding, keepAttached: () => () => void): Promise<void> {
  await runner.status(sandboxID, cmdID); // 404 before the stream opens
  const sse = openSse(res);
  const stop = keepAttached();
  try {
    await followLogs(runner, sandboxID, cmdID, from, encoding, {
      onChunk: (stream, data, cursor) => sse.send(stream, { data, cursor }),
      onEnd: (end) => sse.send('end', end),
      closed: () => sse.closed,
    });
  } finally {
    stop();
    sse.end();
  }
}
