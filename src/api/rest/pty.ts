/**
 * `/sandboxes/{id}/pty…`: interactive terminals over REST (create, list, get, input, resize,
 * signal, kill). Their output is read over the WebSocket `/sandboxes/{id}/pty/{pid}/ws`
 * (src/api/rest/pty-socket.ts). docs/pty.md has the whole protocol.
 */
import { Router, type Request } from 'express';
import { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';
import { parseSignal, sandboxPath } from '../../dataplane/paths.js';
import { PTY_MAX_DIMENSION, type PtyCreateOptions, type PtyInfo, type PtyManager } from '../../dataplane/pty.js';
import { callerOf } from '../auth.js';
import type { InteractionGate } from '../../service/interaction-gate.js';
import { endpoint, mount, param } from './endpoint.js';
import { cwdField, envsField, signalNameField, userField } from './process-fields.js';

const dimension = z.number().int().min(1).max(PTY_MAX_DIMENSION);

/** Body of `POST /sandboxes/{id}/pty`. */
export const createPtySchema = z
  .object({
    cmd: z
      .union([z.string().min(1), z.array(z.string()).min(1)])
      .optional()
      .describe('Shell string (run with /bin/sh -c) or argv; a login shell (/bin/bash -l when present, else /bin/sh -l) when omitted.'),
    cols: dimension.default(80).describe('Columns.'),
    rows: dimension.default(24).describe('Rows.'),
    envs: envsField.describe('Environment; TERM defaults to xterm-256color.'),
    cwd: cwdField,
    user: userField,
    timeout: z.number().positive().max(7 * 24 * 3600).optional().describe('Seconds; the terminal (its whole session) is killed after it.'),
  })
  .strict();

/** Body of `POST /sandboxes/{id}/pty/{pid}/resize`. */
export const resizePtySchema = z.object({ cols: dimension, rows: dimension }).strict();

/** Body of `POST /sandboxes/{id}/pty/{pid}/input`. */
export const ptyInputSchema = z
  .object({
    data: z.string().describe('Bytes to type into the terminal.'),
    encoding: z.enum(['utf8', 'base64']).default('utf8').describe('How `data` is encoded; base64 for exact bytes.'),
  })
  .strict();

/** Body of `POST /sandboxes/{id}/pty/{pid}/signal`. */
export const ptySignalSchema = z
  .object({
    signal: signalNameField,
    target: z
      .enum(['foreground', 'process', 'session'])
      .default('foreground')
      .describe('foreground: the terminal\'s foreground process group, like a keyboard (Ctrl-C reaches a running `sleep`); process: the terminal process (PID) only; session: every process of the terminal.'),
  })
  .strict();

/** A terminal (create, get, list, resize). */
export const ptyInfoSchema = z
  .object({
    sandboxID: z.string(),
    pid: z.number().int().describe('The terminal process\'s PID inside the sandbox; the terminal\'s handle.'),
    cmd: z.array(z.string()).describe('The argv run; empty for the default login shell.'),
    cols: z.number().int(),
    rows: z.number().int(),
    user: z.string().nullable(),
    cwd: z.string().nullable(),
    startedAt: z.string().describe('ISO 8601 time'),
    running: z.boolean(),
    exitCode: z.number().int().nullable().describe('Set once exited; -1 when unknown (e.g. the container went away).'),
    attached: z.number().int().describe('WebSocket clients attached now.'),
  })
  .strict();
const ptyListSchema = z.object({ terminals: z.array(ptyInfoSchema) }).strict();
const ptySignalResultSchema = z.object({ signalled: z.number().int().describe('Processes signalled.') }).strict();
const ptyKillResultSchema = z.object({ pid: z.number().int(), exitCode: z.number().int() }).strict();

// tsc fails here when the documented shape drifts from what the data plane returns.
const _ptyInfoMatches: z.infer<typeof ptyInfoSchema> = {} as PtyInfo;
void _ptyInfoMatches;

const base = '/sandboxes/{sandboxID}/pty';
const pidParams = { pid: z.number().int().min(1).describe('The terminal\'s PID (as create returned).') };
const paused: [409, string] = [409, 'Sandbox paused (resume it, or create it with autoResume)'];
const missing: [404, string] = [404, 'Sandbox or terminal not found (terminals live in the API process that created them)'];
const exited: [409, string] = [409, 'The terminal has exited, or the sandbox is paused'];
const create = endpoint({
  method: 'post',
  path: base,
  summary: 'Create an interactive terminal (pty); read and type over the WebSocket …/pty/{pid}/ws',
  body: createPtySchema,
  bodyName: 'terminal',
  responses: { '201': { description: 'The terminal', json: ptyInfoSchema } },
  errors: [404, paused, [429, 'Owner terminal cap reached (BERTH_MAX_PTYS_PER_OWNER)']],
});
const list = endpoint({
  method: 'get',
  path: base,
  summary: 'List the sandbox\'s terminals (running, and exited ones for BERTH_PTY_EXIT_GRACE_MS)',
  responses: { '200': { description: 'Terminals', json: ptyListSchema } },
  errors: [404, paused],
});
const get = endpoint({ method: 'get', path: `${base}/{pid}`, summary: 'One terminal', params: pidParams, responses: { '200': { description: 'The terminal', json: ptyInfoSchema } }, errors: [missing, paused] });
const kill = endpoint({
  method: 'delete',
  path: `${base}/{pid}`,
  summary: 'Kill the terminal (SIGKILL to its whole session) and wait for it to end',
  params: pidParams,
  responses: { '200': { description: 'Its exit code', json: ptyKillResultSchema } },
  errors: [missing, paused],
});
const resize = endpoint({
  method: 'post',
  path: `${base}/{pid}/resize`,
  summary: 'Resize the terminal (the process gets SIGWINCH)',
  params: pidParams,
  body: resizePtySchema,
  bodyName: 'size',
  responses: { '200': { description: 'The terminal', json: ptyInfoSchema } },
  errors: [missing, exited],
});
const input = endpoint({
  method: 'post',
  path: `${base}/{pid}/input`,
  summary: 'Type into the terminal (the WebSocket does the same with binary frames)',
  params: pidParams,
  body: ptyInputSchema,
  bodyName: 'input',
  responses: { '204': { description: 'Written' } },
  errors: [missing, exited],
});
const signal = endpoint({
  method: 'post',
  path: `${base}/{pid}/signal`,
  summary: 'Send a signal (to the foreground process group by default, like a keyboard)',
  params: pidParams,
  body: ptySignalSchema,
  bodyName: 'signal',
  responses: { '200': { description: 'How many processes got it', json: ptySignalResultSchema } },
  errors: [missing, exited],
});
const socket = endpoint({
  method: 'get',
  path: `${base}/{pid}/ws`,
  summary:
    'WebSocket (upgrade; API key headers): binary frames are raw bytes both ways; text frames are JSON control messages ({"type":"resize","cols","rows"} from the client; {"type":"attached",…}, {"type":"exit","exitCode"} and {"type":"error",…} from berth). The scrollback is replayed on attach. See docs/pty.md',
  params: pidParams,
  responses: { '101': { description: 'Switching protocols (WebSocket)' } },
  errors: [missing, paused, [429, 'Owner stream cap reached (BERTH_MAX_STREAMS_PER_OWNER)']],
});

/** A PID path parameter: a positive whole number, else 400. */
export function parsePid(raw: unknown): number {
  const text = String(raw);
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new InvalidArgumentError(`pid must be a terminal's PID (a positive whole number): got "${text.slice(0, 40)}"`);
  return Number(text);
}

function toCreateOptions(body: z.infer<typeof createPtySchema>): PtyCreateOptions {
  return {
    ...(body.cmd !== undefined ? { cmd: typeof body.cmd === 'string' ? ['/bin/sh', '-c', body.cmd] : body.cmd } : {}),
    cols: body.cols,
    rows: body.rows,
    envs: body.envs,
    ...(body.cwd !== undefined ? { cwd: sandboxPath(body.cwd, 'cwd') } : {}),
    ...(body.user !== undefined ? { user: body.user } : {}),
    ...(body.timeout !== undefined ? { timeoutS: body.timeout } : {}),
  };
}

/** The terminals router (mount after the JSON body parser). */
export function ptyRoutes(gate: InteractionGate, ptys: PtyManager): Router {
  const router = Router();
  const enter = async (req: Request) => {
    const { owner } = callerOf(req);
    const info = await gate.beginInteraction(owner, param(req, 'sandboxID'));
    return { owner, sandboxID: info.sandboxID };
  };

  mount(router, create, async (req, res, { body }) => {
    const { owner, sandboxID } = await enter(req);
    res.status(201).json(await ptys.create(owner, sandboxID, toCreateOptions(body)));
  });

  mount(router, list, async (req, res) => {
    const { sandboxID } = await enter(req);
    res.json({ terminals: ptys.list(sandboxID) });
  });

  mount(router, get, async (req, res) => {
    const pid = parsePid(param(req, 'pid'));
    const { sandboxID } = await enter(req);
    res.json(ptys.get(sandboxID, pid));
  });

  mount(router, kill, async (req, res) => {
    const pid = parsePid(param(req, 'pid'));
    const { sandboxID } = await enter(req);
    res.json({ pid, exitCode: await ptys.kill(sandboxID, pid) });
  });

  // The WebSocket is served by the upgrade handler; a plain GET learns how to use it.
  mount(router, socket, async (req, res) => {
    const pid = parsePid(param(req, 'pid'));
    const { sandboxID } = await enter(req);
    ptys.get(sandboxID, pid);
    res.setHeader('upgrade', 'websocket');
    throw new InvalidArgumentError('this is a WebSocket endpoint: connect with a WebSocket client (Connection: Upgrade, Upgrade: websocket) and your API key header', 'upgrade_required');
  });

  mount(router, resize, async (req, res, { body: size }) => {
    const pid = parsePid(param(req, 'pid'));
    const { sandboxID } = await enter(req);
    res.json(await ptys.resize(sandboxID, pid, size));
  });

  mount(router, input, async (req, res, { body }) => {
    const pid = parsePid(param(req, 'pid'));
    const { sandboxID } = await enter(req);
    ptys.write(sandboxID, pid, Buffer.from(body.data, body.encoding === 'base64' ? 'base64' : 'utf8'));
    res.status(204).end();
  });

  mount(router, signal, async (req, res, { body }) => {
    const pid = parsePid(param(req, 'pid'));
    const { sandboxID } = await enter(req);
    res.json({ signalled: await ptys.signal(sandboxID, pid, parseSignal(body.signal), body.target) });
  });

  return router;
}
