/**
 * Forwards a source of events to a Connect server stream: keepalive messages at the client's
 * interval, the client's deadline (`connect-timeout-ms` ends the stream with
 * deadline_exceeded, the work behind it goes on), ordered sends with backpressure, and an
 * outbound cap (a client that stops reading is cut off with resource_exhausted rather than
 * buffered without end).
 */
import { ConnectError, type ConnectStream } from './connect.js';

/** A client that leaves this much unread is disconnected. */
export const STREAM_BUFFER_CAP_BYTES = 16 * 1024 * 1024;

export interface PumpOptions {
  keepaliveMs: number;
  keepaliveMessage: unknown;
  timeoutMs: number | undefined;
  /** Called once when the stream ends for any reason (client gone, deadline, end, error). */
  onFinish(): void;
}

/** An ordered writer over a stream; `finish` ends it (optionally with an error) once queued messages are sent. */
export interface StreamPump {
  push(message: unknown): void;
  finish(err?: ConnectError): void;
  readonly closed: boolean;
}

export function pumpStream(stream: ConnectStream, options: PumpOptions): StreamPump {
  let chain: Promise<void> = Promise.resolve();
  let finished = false;
  const keepalive = setInterval(() => push(options.keepaliveMessage), options.keepaliveMs);
  keepalive.unref();
  const deadline =
    options.timeoutMs !== undefined
      ? setTimeout(() => finish(new ConnectError('deadline_exceeded', `the stream reached its deadline (connect-timeout-ms ${options.timeoutMs}); the process keeps running`)), options.timeoutMs)
      : undefined;
  deadline?.unref();

  const cleanup = () => {
    clearInterval(keepalive);
    if (deadline) clearTimeout(deadline);
  };
  let finishedOnce = false;
  const finishOnce = () => {
    if (finishedOnce) return;
    finishedOnce = true;
    cleanup();
    options.onFinish();
  };
  stream.onClose(() => {
    finished = true;
    finishOnce();
  });

  function push(message: unknown): void {
    if (finished || stream.closed) return;
    if (stream.buffered > STREAM_BUFFER_CAP_BYTES) {
      finish(new ConnectError('resource_exhausted', `the client left more than ${STREAM_BUFFER_CAP_BYTES} bytes unread; reconnect to the process to read on`));
      return;
    }
    chain = chain.then(() => stream.send(message));
  }
  function finish(err?: ConnectError): void {
    if (finished) return;
    finished = true;
    void chain.then(() => {
      stream.end(err);
      finishOnce();
    });
  }
  return {
    push,
    finish,
    get closed() {
      return finished || stream.closed;
    },
  };
}
