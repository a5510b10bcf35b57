import { newSandboxID } from '../../src/ids.js';
import { LOCAL_IMAGES } from '../../src/templates.js';
import type { SandboxSpec } from '../../src/workflows/definitions.js';

/** A busybox sandbox spec with long default durations; tests override what they exercise. */
export function testSandboxSpec(owner: string, overrides: Partial<SandboxSpec> = {}): SandboxSpec {
  return {
    sandboxID: newSandboxID(),
    owner,
    templateID: 'tiny',
    image: LOCAL_IMAGES.busybox,
    metadata: {},
    resources: { cpu: 0.5, memoryMB: 32 },
    lifecycle: { onTimeout: 'kill', autoResume: false },
    idleTimeoutMs: 60_000,
    maxLifetimeMs: 600_000,
    pausedRetentionMs: 600_000,
    historyEventLimit: 10_000,
    ...overrides,
  };
}
