/**
 * Decomposes the cost of a 100 MB file write through the API: the raw archive upload
 * (buffer vs streamed tar), one Node-to-Node HTTP hop on loopback alone, and the hop piped
 * into the archive upload (what the API does). Not a test; prints milliseconds.
 *
 *   node --import tsx bench/tools/file-hop.ts [--mb 100] [--reps 2]
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config.js';
import { createDockerClient } from '../../src/docker/client.js';
import { tarStream } from '../../src/dataplane/tar.js';
import { LOCAL_IMAGES } from '../../src/templates.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '100' }, reps: { type: 'string', default: '2' } } });
const size = Number(values.mb) * 1024 * 1024;
const reps = Number(values.reps);
const docker = createDockerClient(loadConfig({ BERTH_API_KEYS: 'file-hop-key-000:bench', BERTH_SECRET_KEY: '0'.repeat(64) }).dockerSocket);
const data = Buffer.alloc(size, 7);
const chunksOf = (n: number) => Array.from({ length: Math.ceil(size / n) }, (_, i) => data.subarray(i * n, (i + 1) * n));
const tar = (body: Buffer | Readable | http.IncomingMessage) => tarStream({ name: 'tmp/hop.bin', size, mode: 0o644 }, body);

async function timed(label: string, run: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  await run();
  console.log(`${label.padEnd(34)} ${(performance.now() - start).toFixed(0).padStart(5)} ms`);
}

async function listen(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, server };
}

const container = await docker.createContainer({ Image: LOCAL_IMAGES.busybox, Cmd: ['sleep', '600'], name: `file-hop-${Date.now()}` });
try {
  await container.start();
  const sink = await listen((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const relay = await listen((req, res) => {
    container.putArchive(tar(req), { path: '/' }).then(() => res.end('ok'), (err: Error) => res.writeHead(500).end(err.message));
  });
  for (let i = 0; i < reps; i++) {
    await timed('putArchive, tar from one buffer', () => container.putArchive(tar(data), { path: '/' }));
    await timed('putArchive, tar streamed (64 KiB)', () => container.putArchive(tar(Readable.from(chunksOf(65536))), { path: '/' }));
    await timed('HTTP hop alone (fetch → Node)', () => fetch(sink.url, { method: 'PUT', body: data }).then((r) => r.text()));
    await timed('HTTP hop piped into putArchive', () => fetch(relay.url, { method: 'PUT', body: data }).then((r) => r.text()));
  }
  sink.server.close();
  relay.server.close();
} finally {
  await container.remove({ force: true });
}
