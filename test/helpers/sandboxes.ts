/** Sandboxes that several data-plane suites start from: one of each local image. */
import { expect } from 'vitest';
import type { TestStack } from './stack.js';

/** Creates a `tiny` (busybox) and a `base` (Debian) sandbox side by side, each for 300 s. */
export async function createTinyAndBase(stack: TestStack): Promise<{ tiny: string; base: string }> {
  const [tiny, base] = await Promise.all(
    (['tiny', 'base'] as const).map(async (templateID) => {
      const res = await stack.api('POST', '/sandboxes', { body: { templateID, timeout: 300 } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.sandboxID as string;
    }),
  );
  return { tiny: tiny!, base: base! };
}
