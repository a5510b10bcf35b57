/**
 * A berth stack (API + worker, real Temporal) whose Docker engine is a private one
 * (test/helpers/private-engine.ts): for tests that restart the engine or need a runtime the
 * shared engine lacks. Its sandboxes get the engine's own bridge and subnet, with no packet
 * filter (the private engine runs without iptables).
 */
import { expect } from 'vitest';
import { LOCAL_IMAGES } from '../../src/templates.js';
import { startPrivateEngine, type PrivateEngine, type PrivateEngineOptions } from './private-engine.js';
import { startStack, type TestStack } from './stack.js';

export interface PrivateStack {
  engine: PrivateEngine;
  stack: TestStack;
  /** Runs a command in a sandbox through the API (200 expected). */
  run(sandboxID: string, cmd: string): Promise<{ stdout: string }>;
  stop(): Promise<void>;
}

export async function startPrivateStack(options: PrivateEngineOptions = {}): Promise<PrivateStack> {
  const engine = await startPrivateEngine({ images: [LOCAL_IMAGES.busybox], ...options });
  let stack: TestStack;
  try {
    stack = await startStack({ env: { ...engine.networkEnv, BERTH_NETWORK_ENFORCE: 'false' } });
  } catch (err) {
    await engine.stop();
    throw err;
  }
  return {
    engine,
    stack,
    async run(sandboxID, cmd) {
      const res = await stack.api('POST', `/sandboxes/${sandboxID}/commands`, { body: { cmd } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as { stdout: string };
    },
    async stop() {
      await stack.stop().catch(() => undefined);
      await engine.stop();
    },
  };
}
