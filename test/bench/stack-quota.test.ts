/**
 * The bench's owner must be allowed the sandboxes the scenarios create: before, the per-owner
 * CPU quota (32 CPUs) refused every create beyond 64 `tiny` sandboxes, so the scale scenario at
 * 400 (or 1000) live and the 200-create burst answered 429s. (The stack's envd listener on a
 * free port is main's fix; this file no longer holds envd's default port 49983 to test it,
 * since `test/e2e/up.test.ts` needs that port in the same `npm test` run.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { BENCH_TEMPLATE } from '../../bench/lib/raw.js';
import { SCALES } from '../../bench/scenarios.js';
import { startBenchStack, type BenchStack } from '../../bench/lib/stack.js';

let stack: BenchStack | undefined;

afterAll(async () => {
  await stack?.stop();
});

it("lets the bench's owner hold 1000 live sandboxes and a 200-create burst beside them", async () => {
  stack = await startBenchStack({ runId: randomBytes(4).toString('hex'), logDir: mkdtempSync(path.join(os.tmpdir(), 'berth-bench-quota-')) });
  const { limits, templates } = stack.config;
  const tiny = templates.get(BENCH_TEMPLATE);
  if (!tiny) throw new Error(`template ${BENCH_TEMPLATE} is missing`);
  const most = Math.max(1000, ...Object.values(SCALES).map((s) => s.scaleN)) + Math.max(...Object.values(SCALES).map((s) => s.burstN));
  expect(limits.maxSandboxesPerOwner).toBeGreaterThanOrEqual(most);
  expect(limits.maxCpuPerOwner).toBeGreaterThanOrEqual(most * tiny.cpu);
  expect(limits.maxMemoryMBPerOwner).toBeGreaterThanOrEqual(most * tiny.memoryMB);
  const res = await fetch(`${stack.apiUrl}/readyz`);
  expect(res.ok).toBe(true);
}, 150_000);
