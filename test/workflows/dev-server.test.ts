/**
 * The dev server launcher used by `npm run up`, the tests and the bench: when the server
 * cannot bind, the error carries the server's own explanation instead of a bare exit code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startTemporalDevServer } from '../../src/dev/temporal-dev-server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-devserver-'));
// Holds the port; connections the launcher's readiness probe makes are dropped at once.
const blocker = net.createServer((socket) => socket.destroy());
afterAll(async () => {
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

it('reports why the dev server could not start when its port is taken', async () => {
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
  const takenPort = (blocker.address() as net.AddressInfo).port;
  const logFile = path.join(dir, 'server.log');
  const failure = await startTemporalDevServer({ port: takenPort, logFile }).then(
    () => new Error('the dev server started on a taken port'),
    (err: unknown) => err as Error,
  );
  expect(failure.message).toContain('Temporal dev server exited');
  expect(failure.message).toContain(`${takenPort}: bind: address already in use`);
  expect(failure.message).toContain(logFile);
});
