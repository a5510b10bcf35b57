/**
 * File transfers through a sandbox's agent without a process (agent/files.go): after the
 * request and the agent's `started` frame, the file's bytes cross the unix socket raw (no
 * frames, no pipe, no `cat`/`head`), and the agent moves them with splice/sendfile.
 *
 * Each function answers `null` when the agent cannot serve the request (no socket, an older
 * agent without file requests, not root); nothing was consumed then, and the caller uses a
 * process instead.
 */
import type { Socket } from 'node:net';
import type { PassThrough, Readable } from 'node:stream';
import { connectOrNull, frame, FRAME, type AgentTarget } from './agent-client.js';

/** How a file request ended in the sandbox: exit codes of files.ts's scripts (0 = done). */
export interface AgentFileResult {
  exitCode: number;
  stderr: string;
}

/** The upload stopped before its declared size arrived (or broke off); `error` is the body's own error if any. */
export interface AgentUploadAborted {
  aborted: true;
  error?: unknown;
}

type Head = { kind: 'refused' } | { kind: 'started'; rest: Buffer } | { kind: 'done'; result: AgentFileResult } | { kind: 'lost' };

/** Reads frames until the agent started, refused or answered; the socket is left paused with any raw bytes after `started` in `rest`. */
function readHead(socket: Socket): Promise<Head> {
  return new Promise((resolve) => {
    let pending: Buffer = Buffer.alloc(0);
    let stderr = '';
    const done = (head: Head): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      resolve(head);
    };
    const onData = (chunk: Buffer): void => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 8) {
        const size = pending.readUInt32BE(4);
        if (pending.length < 8 + size) return;
        const kind = pending[0];
        const payload = pending.subarray(8, 8 + size);
        pending = pending.subarray(8 + size);
        if (kind === FRAME.refused) return done({ kind: 'refused' });
        if (kind === FRAME.started) return done({ kind: 'started', rest: pending });
        if (kind === FRAME.stderr) stderr += payload.toString('utf8');
        if (kind === FRAME.exit) return done({ kind: 'done', result: { exitCode: payload.readInt32BE(0), stderr } });
      }
    };
    const onClose = (): void => done({ kind: 'lost' });
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

function fileRequest(target: AgentTarget, fields: Record<string, string | number>): Buffer {
  return frame(FRAME.request, Buffer.from(JSON.stringify({ token: target.token, cmd: [], ...fields })));
}

async function open(target: AgentTarget, fields: Record<string, string | number>): Promise<{ socket: Socket; head: Head } | null> {
  const socket = await connectOrNull(target.socketPath);
  if (!socket) return null;
  socket.on('error', () => undefined);
  socket.write(fileRequest(target, fields));
  const head = await readHead(socket);
  if (head.kind === 'refused' || head.kind === 'lost') {
    socket.destroy();
    return null;
  }
  return { socket, head };
}

/**
 * Writes exactly `size` bytes of `body` into the new file `tmp` (the parents of `path`
 * created; `path` itself must not be a folder). The caller renames `tmp` into place. A body
 * that breaks off or ends short drops the connection, and the agent removes `tmp`.
 */
export async function agentWriteFile(
  target: AgentTarget,
  file: { path: string; tmp: string; size: number },
  body: Readable | Buffer,
): Promise<AgentFileResult | AgentUploadAborted | null> {
  const opened = await open(target, { op: 'write', path: file.path, tmp: file.tmp, size: file.size });
  if (!opened) return null;
  const { socket, head } = opened;
  if (head.kind !== 'started') {
    socket.destroy();
    return head.kind === 'done' ? head.result : null;
  }
  // The agent answers once the whole body arrived, or early when writing failed (disk full).
  socket.resume();
  const answer = readHead(socket);
  const sending = Buffer.isBuffer(body) ? { sent: Promise.resolve(socket.write(body) || true), stop: () => undefined } : sendStream(socket, body, file.size);
  const first = await Promise.race([answer.then((h) => ({ answer: h })), sending.sent.then((s) => ({ sent: s }))]);
  sending.stop();
  if ('sent' in first && first.sent !== true) {
    socket.destroy();
    return first.sent;
  }
  const final = 'answer' in first ? first.answer : await answer;
  socket.destroy();
  if (final.kind === 'done') return final.result;
  return { exitCode: -1, stderr: 'the sandbox stopped answering during the upload (its agent or container ended)' };
}

/** Pumps `body` into `socket` with backpressure; `sent` is true once exactly `size` bytes went out. */
function sendStream(socket: Socket, body: Readable, size: number): { sent: Promise<true | AgentUploadAborted>; stop: () => void } {
  let stop = (): void => undefined;
  const sent = new Promise<true | AgentUploadAborted>((resolve) => {
    let total = 0;
    let settled = false;
    stop = (): void => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.pause();
    };
    const settle = (value: true | AgentUploadAborted): void => {
      if (settled) return;
      stop();
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > size) return settle({ aborted: true });
      if (!socket.write(chunk)) {
        body.pause();
        socket.once('drain', () => {
          if (!settled) body.resume();
        });
      }
    };
    body.on('data', onData);
    body.once('end', () => settle(total === size ? true : { aborted: true }));
    body.once('error', (error) => settle({ aborted: true, error }));
    body.once('aborted', () => settle({ aborted: true }));
    body.once('close', () => {
      if (!body.readableEnded) settle({ aborted: true });
    });
  });
  return { sent, stop };
}

/**
 * Streams `length` bytes of the regular file `path` from `offset` (fewer if it is shorter)
 * into `out`: `cancel` drops the transfer. Or a failure (missing: 44, folder: 45), or `null`
 * (not served, `out` untouched: use a process).
 */
export async function agentReadFile(target: AgentTarget, path: string, offset: number, length: number, out: PassThrough): Promise<{ cancel: () => void } | AgentFileResult | null> {
  const opened = await open(target, { op: 'read', path, offset, length });
  if (!opened) return null;
  const { socket, head } = opened;
  if (head.kind !== 'started') {
    socket.destroy();
    return head.kind === 'done' ? head.result : null;
  }
  if (head.rest.length) out.write(head.rest);
  socket.once('error', (e) => out.destroy(e));
  socket.pipe(out);
  return { cancel: () => socket.destroy() };
}
