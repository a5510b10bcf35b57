/** Server-sent events and keep-alive helpers shared by streaming data-plane routes. */
import type { Response } from 'express';

/** An open server-sent-events response. */
export interface SseStream {
  /** Sends one event; resolves once the socket accepted it (backpressure). */
  send(event: string, data: unknown): Promise<void>;
  /** Ends the stream. */
  end(): void;
  /** True once the client went away. */
  readonly closed: boolean;
}

/** Turns `res` into an SSE stream (`event: <name>` / `data: <json>`), with a comment ping every 15 s. */
export function openSse(res: Response): SseStream {
  res.status(200);
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache, no-transform');
  res.setHeader('x-accel-buffering', 'no');
  res.flushHeaders();
  let closed = false;
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  ping.unref();
  res.on('close', () => {
    closed = true;
    clearInterval(ping);
  });
  return {
    get closed() {
      return closed;
    },
    async send(event, data) {
      if (closed) return;
      if (!res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) {
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
    end() {
      clearInterval(ping);
      if (!closed) res.end();
    },
  };
}

/**
 * Touches a sandbox periodically while a client stays attached (long command, stream,
 * proxy connection), so it does not go idle under the client. Returns the stop function.
 */
export function keepAlive(touch: () => void, idleTimeoutS: number): () => void {
  // A quarter of the timeout: a touch that is late by one coalescing window still lands in time.
  const periodMs = Math.min(30_000, Math.max(250, Math.floor((idleTimeoutS * 1000) / 4)));
  const timer = setInterval(touch, periodMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    touch();
  };
}
