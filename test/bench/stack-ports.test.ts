/**
 * The bench's stack must start beside any other berth on the machine: every listener it opens
 * gets a free port. Before, the API's E2B envd listener took its default port (49983), so a
 * bench (or its smoke test in `npm test`) failed to start while another API held that port.
 * And its owner must be allowed the sandboxes the scenarios create: before, the per-owner CPU
 * quota (32 CPUs) refused every create beyond 64 `tiny` sandboxes, so the scale scenario at
 * 400 (or 1000) live and the 200-create burst answered 429s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BENCH_TEMPLATE } from '../../bench/lib/raw.js';
import { SCALES } from '../../bench/scenarios.js';
import { startBenchStack, type BenchStack } from '../../bench/lib/stack.js';

const ENVD_DEFAULT_PORT = 49983;
let holder: net.Server | undefined;
let stack: BenchStack | undefined;

afterAll(async () => {
  await stack?.stop();
  await new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve()));
});

it('starts while another process holds the E2B envd default port', async () => {
  // Hold the port ourselves; if someone else already holds it, the condition is the same.
  holder = await new Promise<net.Server | undefined>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(ENVD_DEFAULT_PORT, '127.0.0.1', () => resolve(server));
  });
  const inUse = await new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(true));
    probe.listen(ENVD_DEFAULT_PORT, '127.0.0.1', () => probe.close(() => resolve(false)));
  });
  expect(inUse).toBe(true);
  stack = await startBenchStack({ runId: randomBytes(4).toString('hex'), logDir: mkdtempSync(path.join(os.tmpdir(), 'berth-bench-ports-')) });
  const api = stack.api;
  // The API exits when one of its listeners cannot bind; give a failed bind time to show.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 3000);
    api.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  expect(api.exitCode, 'the API exited: a listener of it could not bind').toBeNull();
  const res = await fetch(`${stack.apiUrl}/readyz`);
  expect(res.ok).toBe(true);
}, 150_000);

it("lets the bench's owner hold 1000 live sandboxes and a 200-create burst beside them", () => {
  if (!stack) throw new Error('the stack did not start (see the test above)');
  const { limits, templates } = stack.config;
  const tiny = templates.get(BENCH_TEMPLATE);
  if (!tiny) throw new Error(`template ${BENCH_TEMPLATE} is missing`);
  const most = Math.max(1000, ...Object.values(SCALES).map((s) => s.scaleN)) + Math.max(...Object.values(SCALES).map((s) => s.burstN));
  expect(limits.maxSandboxesPerOwner).toBeGreaterThanOrEqual(most);
  expect(limits.maxCpuPerOwner).toBeGreaterThanOrEqual(most * tiny.cpu);
  expect(limits.maxMemoryMBPerOwner).toBeGreaterThanOrEqual(most * tiny.memoryMB);
});
