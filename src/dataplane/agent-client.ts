/**
 * The API's side of berth's in-sandbox agent (docs/agent.md, agent/protocol.go): starts a
 * process through the sandbox's agent socket instead of `docker exec`. One connection per
 * process; frames in both directions are an 8-byte header (kind, 0, 0, 0, big-endian length)
 * and a payload.
 *
 * Every function here answers `null` when the agent cannot serve the request (no socket, the
 * agent is gone, it refused), so the caller falls back to docker exec.
 */
import { connect, type Socket } from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import type { ExecHandle, ExecOptions } from './exec.js';

export const FRAME = { stdin: 0, stdout: 1, stderr: 2, exit: 3, started: 4, refused: 5, request: 6 } as const;
/** Largest stdin frame sent (the agent refuses frames over 1 MiB). */
const STDIN_CHUNK = 256 * 1024;

/** How to reach one sandbox's agent. */
export interface AgentTarget {
  socketPath: string;
  token: string;
}

export function frame(kind: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(8);
  head[0] = kind;
  head.writeUInt32BE(payload.length, 4);
  return payload.length ? Buffer.concat([head, payload]) : head;
}

export function connectOrNull(socketPath: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(null);
    });
  });
}

/**
 * Reads frames off `socket`, handing each to `onFrame`. When `onFrame` says the consumer is
 * full, no further frame is handed on (and the socket is paused) until it calls `resume`.
 */
function readFrames(socket: Socket, onFrame: (kind: number, payload: Buffer, resume: () => void) => boolean, onEnd: () => void = () => undefined): void {
  let pending: Buffer = Buffer.alloc(0);
  let waiting = false;
  let closed = false;
  let ended = false;
  const drain = (): void => {
    while (!waiting && pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const kind = pending[0] ?? 0;
      const payload = pending.subarray(8, 8 + size);
      pending = pending.subarray(8 + size);
      if (onFrame(kind, payload, resume)) {
        waiting = true;
        socket.pause();
      }
    }
    // The connection may close with frames (the exit code) still held for a full consumer:
    // it has ended only once they were all handed on.
    if (closed && !waiting && !ended) {
      ended = true;
      onEnd();
    }
  };
  const resume = (): void => {
    waiting = false;
    drain();
    if (!waiting) socket.resume();
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    drain();
  });
  socket.on('close', () => {
    closed = true;
    drain();
  });
}

/** Sends `input` as stdin frames, then the empty frame that closes stdin. */
function sendStdin(socket: Socket, input: Readable | Buffer): void {
  if (Buffer.isBuffer(input)) {
    for (let at = 0; at < input.length; at += STDIN_CHUNK) socket.write(frame(FRAME.stdin, input.subarray(at, at + STDIN_CHUNK)));
    socket.write(frame(FRAME.stdin));
    return;
  }
  // An input that breaks off (client aborted an upload) drops the connection: stdin is never
  // closed as if complete (same as the docker exec path).
  input.on('error', () => socket.destroy());
  input.on('close', () => {
    if (!input.readableEnded) socket.destroy();
  });
  input.on('data', (chunk: Buffer) => {
    let full = false;
    for (let at = 0; at < chunk.length; at += STDIN_CHUNK) full = !socket.write(frame(FRAME.stdin, chunk.subarray(at, at + STDIN_CHUNK))) || full;
    if (full) {
      input.pause();
      socket.once('drain', () => input.resume());
    }
  });
  input.on('end', () => socket.write(frame(FRAME.stdin)));
}

function request(target: AgentTarget, options: ExecOptions, detach: boolean): Buffer {
  const body = {
    token: target.token,
    cmd: options.cmd,
    env: options.env ?? {},
    user: options.user ?? '',
    cwd: options.cwd ?? '',
    stdin: options.stdin !== undefined,
    detach,
  };
  return frame(FRAME.request, Buffer.from(JSON.stringify(body)));
}

/**
 * Starts `options.cmd` through the agent, attached (the {@link ExecHandle} of exec.ts), or
 * `null` when the agent cannot (then nothing ran). `onLost` decides the exit when the
 * connection ends without an exit code (the agent or the container died).
 */
export async function agentStart(target: AgentTarget, options: ExecOptions, onLost: () => Promise<number>): Promise<ExecHandle | null> {
  const socket = await connectOrNull(target.socketPath);
  if (!socket) return null;
  socket.setNoDelay?.(true);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let settled = false;
  let resolveStart!: (ok: boolean) => void;
  const started = new Promise<boolean>((r) => (resolveStart = r));
  let resolveExit!: (code: number | null) => void;
  const exitFrame = new Promise<number | null>((r) => (resolveExit = r));

  const push = (target: PassThrough, payload: Buffer, resume: () => void): boolean => {
    if (target.destroyed || target.writableEnded) return false; // consumer gone: drop
    if (target.write(payload)) return false;
    const again = () => {
      target.off('drain', again);
      target.off('close', again);
      resume();
    };
    target.on('drain', again);
    target.on('close', again);
    return true;
  };
  readFrames(socket, (kind, payload, resume) => {
    if (!settled) {
      settled = true;
      resolveStart(kind !== FRAME.refused);
      if (kind === FRAME.refused || kind === FRAME.started) return false;
    }
    if (kind === FRAME.stdout) return push(stdout, payload, resume);
    if (kind === FRAME.stderr) return push(stderr, payload, resume);
    if (kind === FRAME.exit) resolveExit(payload.readInt32BE(0));
    return false;
  }, () => {
    if (!settled) {
      settled = true;
      resolveStart(false);
    }
    resolveExit(null);
  });
  socket.on('error', () => undefined);
  socket.write(request(target, options, false));
  if (!(await started)) {
    socket.destroy();
    return null;
  }
  // Only once the agent took the request: a refused one falls back with its stdin unread.
  if (options.stdin !== undefined) sendStdin(socket, options.stdin);
  const exit = exitFrame.then(async (code) => {
    stdout.end();
    stderr.end();
    socket.end();
    return code ?? (await onLost());
  });
  return { stdout, stderr, exit, detach: () => socket.destroy() };
}

/** Starts `options.cmd` detached through the agent (no stdin, output discarded); its PID, or `null` when the agent cannot. */
export async function agentStartDetached(target: AgentTarget, options: Omit<ExecOptions, 'stdin'>): Promise<number | null> {
  const socket = await connectOrNull(target.socketPath);
  if (!socket) return null;
  return new Promise((resolve) => {
    let done = false;
    readFrames(socket, (kind, payload) => {
      if (!done) {
        done = true;
        resolve(kind === FRAME.started ? Number(payload.toString('utf8')) : null);
        socket.destroy();
      }
      return false;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!done) {
        done = true;
        resolve(null);
      }
    });
    socket.write(request(target, options, true));
  });
}
