/** Back-pressure for streamed answers (SSE, Connect envelopes, NDJSON): one place for the drain wait. */

/** The part of an HTTP response (or any writable) this needs. */
interface DrainableWriter {
  write(chunk: string | Uint8Array): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/** Writes `chunk`; when the buffer is full, resolves once it drained or the connection closed. */
export async function writeOrWait(res: DrainableWriter, chunk: string | Uint8Array): Promise<void> {
  if (res.write(chunk)) return;
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
