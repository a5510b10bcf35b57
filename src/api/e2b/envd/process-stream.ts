/**
 * The server stream of one process, shared by plain processes and ptys (`Start`, `Connect`):
 * a `start` event, `data` events, one `end` event with envd's status text, keep-alives, and the
 * request's timeout. The subscription to the process is dropped when the stream closes.
 */
import type { Request, Response } from 'express';
import { keepaliveIntervalMs, openStream } from './connect.js';
import { pumpStream } from './stream-events.js';
import type { EnvdCall } from './call.js';

const KEEPALIVE = { event: { keepalive: {} } };

/** Exit status text as envd (Go) words it. */
export function statusText(exitCode: number): string {
  if (exitCode > 128 && exitCode < 160) {
    const names: Record<number, string> = { 1: 'hangup', 2: 'interrupt', 9: 'killed', 15: 'terminated' };
    return `signal: ${names[exitCode - 128] ?? `signal ${exitCode - 128}`}`;
  }
  return `exit status ${exitCode}`;
}

/** What a process subscription feeds into the stream. */
export interface ProcessOutput {
  data(stream: 'stdout' | 'stderr' | 'pty', bytes: Buffer): void;
  end(exitCode: number): void;
}

/** Streams process `pid`; `subscribe` attaches to it and returns how to detach. */
export function streamProcess(
  call: EnvdCall,
  req: Request,
  res: Response,
  pid: number,
  timeoutMs: number | undefined,
  subscribe: (output: ProcessOutput) => () => void,
): void {
  const stopKeepAlive = call.keepAlive();
  let unsubscribe: () => void = () => undefined;
  const pump = pumpStream(openStream(res), {
    keepaliveMs: keepaliveIntervalMs(req),
    keepaliveMessage: KEEPALIVE,
    timeoutMs,
    onFinish: () => {
      unsubscribe();
      stopKeepAlive();
    },
  });
  pump.push({ event: { start: { pid } } });
  unsubscribe = subscribe({
    data: (stream, bytes) => pump.push({ event: { data: { [stream]: bytes.toString('base64') } } }),
    end: (exitCode) => {
      pump.push({ event: { end: { exitCode, exited: true, status: statusText(exitCode) } } });
      pump.finish();
    },
  });
  if (pump.closed) unsubscribe();
}
