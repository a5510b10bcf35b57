/**
 * Reading a command's output for any front door: a foreground command's chunks as they come,
 * one read of a background command's logs with its status, and following those logs until the
 * command exits. Front doors turn the callbacks into their wire format (SSE, NDJSON, Connect
 * envelopes); nothing here knows HTTP.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import type { CommandLogs, CommandRunner, CommandStatus, ForegroundCommand } from './commands.js';
import { encodeOutput, parseLogCursor, trimLogsToUtf8, type LogCursor, type OutputEncoding } from './paths.js';

export type OutputStream = 'stdout' | 'stderr';

/**
 * Passes a foreground command's output to `onChunk` as it arrives, stdout and stderr
 * concurrently, then answers its exit. As text, a character split across chunks is held back
 * until complete; as base64, each chunk is exact bytes.
 */
export async function pumpOutput(
  cmd: ForegroundCommand,
  encoding: OutputEncoding,
  onChunk: (stream: OutputStream, data: string) => Promise<void> | void,
): Promise<Awaited<ForegroundCommand['done']>> {
  const pump = async (name: OutputStream, source: Readable) => {
    const decoder = new StringDecoder('utf8');
    for await (const chunk of source as AsyncIterable<Buffer>) {
      const data = encoding === 'base64' ? chunk.toString('base64') : decoder.write(chunk);
      if (data) await onChunk(name, data);
    }
    if (encoding === 'utf8') {
      const rest = decoder.end();
      if (rest) await onChunk(name, rest);
    }
  };
  await Promise.all([pump('stdout', cmd.stdout), pump('stderr', cmd.stderr)]);
  return cmd.done;
}

/**
 * When the client of a foreground command goes away before it ends: interrupt it, then kill
 * what is left after `graceMs`.
 */
export function abandon(cmd: ForegroundCommand, graceMs = 2000): void {
  void cmd.interrupt('TERM').catch(() => undefined);
  const kill = setTimeout(() => void cmd.interrupt('KILL').catch(() => undefined), graceMs);
  kill.unref();
  void cmd.done.then(() => clearTimeout(kill));
}

/**
 * One read of a background command's logs with its status. The status is read first: when it
 * says exited, the logs read after it are complete. As text, a character split by the read
 * is held back for the next one (the cursor stops before it) unless this is the last read.
 */
export async function readLogs(
  runner: CommandRunner,
  sandboxID: string,
  cmdID: string,
  cursor: LogCursor,
  encoding: OutputEncoding,
): Promise<{ status: CommandStatus; logs: CommandLogs }> {
  const status = await runner.status(sandboxID, cmdID);
  const raw = await runner.logs(sandboxID, cmdID, cursor);
  const logs = encoding === 'utf8' ? { ...raw, ...trimLogsToUtf8(raw, cursor, !status.running && !raw.more) } : raw;
  return { status, logs };
}

export interface FollowHandlers {
  /** A chunk of output; `cursor` is exactly past the bytes it carries. */
  onChunk: (stream: OutputStream, data: string, cursor: string) => Promise<void> | void;
  /** The command ended and every byte was passed. */
  onEnd: (end: { exitCode: number | null; state: CommandStatus['state']; timedOut: boolean; cursor: string }) => Promise<void> | void;
  /** True once the client has gone: following stops. */
  closed: () => boolean;
}

/**
 * Follows a background command's output from `from` until it exits, polling its log files in the
 * sandbox (every 100 ms while it writes, backing off to 1 s while it is quiet). Reattachable:
 * pass the last cursor to resume, also through another API process.
 */
export async function followLogs(
  runner: CommandRunner,
  sandboxID: string,
  cmdID: string,
  from: LogCursor,
  encoding: OutputEncoding,
  handlers: FollowHandlers,
): Promise<void> {
  let cursor = from;
  let idleMs = 100;
  while (!handlers.closed()) {
    const { status, logs } = await readLogs(runner, sandboxID, cmdID, cursor, encoding);
    for (const name of ['stdout', 'stderr'] as const) {
      const chunk = logs[name];
      if (chunk.length) await handlers.onChunk(name, encodeOutput(chunk, encoding), logs.cursor);
    }
    cursor = parseLogCursor(logs.cursor);
    if (!status.running && !logs.more) {
      await handlers.onEnd({ exitCode: status.exitCode, state: status.state, timedOut: status.timedOut, cursor: logs.cursor });
      return;
    }
    const progressed = logs.stdout.length > 0 || logs.stderr.length > 0;
    idleMs = progressed ? 100 : Math.min(1000, idleMs * 2);
    if (!logs.more) await new Promise((resolve) => setTimeout(resolve, idleMs));
  }
}
