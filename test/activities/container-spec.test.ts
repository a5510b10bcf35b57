import { describe, expect, it } from 'vitest';
import { containerSpec } from '../../src/activities/container-spec.js';
import { newSandboxID, SANDBOX_ID_PATTERN } from '../../src/ids.js';

describe('container spec', () => {
  it('is hardened and named after the sandbox', () => {
    const spec = containerSpec(
      { sandboxID: 'abc', owner: 'o', templateID: 't', image: 'img', resources: { cpu: 2, memoryMB: 128 } },
      { pidsLimit: 100, envs: { A: '1' }, networkName: 'berth0', blockedCidrs: [] },
    );
    expect(spec.name).toBe('abc');
    expect(spec.Env).toEqual(['A=1']);
    expect(spec.HostConfig).toMatchObject({ CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], PidsLimit: 100, NanoCpus: 2e9, Memory: 128 * 1024 * 1024 });
  });
  it('generates short lowercase IDs', () => {
    for (let i = 0; i < 100; i++) expect(newSandboxID()).toMatch(SANDBOX_ID_PATTERN);
  });
});
