/** Pure rules of the warm pool: its configuration, which creates may use it, and how a container maps to its sandbox. */
import { describe, expect, it } from 'vitest';
import { poolIneligibility } from '../../src/activities/claim.js';
import { loadConfig } from '../../src/config.js';
import { sandboxIdOfContainer } from '../../src/docker/pool-labels.js';

const base = { BERTH_API_KEYS: 'pool-test-key:alice', BERTH_SECRET_KEY: '0'.repeat(64) };

describe('BERTH_WARM_POOL', () => {
  it('is off by default and reads template:count pairs', () => {
    expect(loadConfig(base).warmPool.sizes).toEqual({});
    expect(loadConfig({ ...base, BERTH_WARM_POOL: 'tiny:4, base:2' }).warmPool.sizes).toEqual({ tiny: 4, base: 2 });
  });

  it('says what to write when malformed or naming no template', () => {
    expect(() => loadConfig({ ...base, BERTH_WARM_POOL: 'tiny=4' })).toThrow(/not template:count; write e\.g\. BERTH_WARM_POOL=tiny:4,base:2/);
    expect(() => loadConfig({ ...base, BERTH_WARM_POOL: 'nope:1' })).toThrow(/BERTH_WARM_POOL: no template nope; templates are base/);
  });
});

describe('pool eligibility', () => {
  const req = { sandboxID: 'a'.repeat(20), owner: 'o', templateID: 'tiny', image: 'i', resources: { cpu: 1, memoryMB: 64 } };
  it('the default policy (given or absent) may use the pool; volumes or another policy may not', () => {
    expect(poolIneligibility(req)).toBeNull();
    expect(poolIneligibility({ ...req, network: { allowInternet: true, allowOut: [], denyOut: [] } })).toBeNull();
    expect(poolIneligibility({ ...req, network: { allowInternet: false, allowOut: [], denyOut: [] } })).toBe('network policy');
    expect(poolIneligibility({ ...req, network: { allowInternet: true, allowOut: [], denyOut: ['203.0.113.0/24'] } })).toBe('network policy');
    expect(poolIneligibility({ ...req, volumes: [{ name: 'v', volume: 'x', mountPath: '/d', readOnly: false }] })).toBe('volumes');
  });
});

describe('sandboxIdOfContainer', () => {
  it('reads the sandbox label of a container made for a sandbox, the name of a claimed pool container, nothing for an unclaimed one', () => {
    expect(sandboxIdOfContainer({ Names: ['/x'], Labels: { 'berth.sandbox': 'abc' } })).toBe('abc');
    expect(sandboxIdOfContainer({ Names: ['/abcdefghij0123456789'], Labels: { 'berth.pool': 'tiny' } })).toBe('abcdefghij0123456789');
    expect(sandboxIdOfContainer({ Name: '/abcdefghij0123456789', Labels: { 'berth.pool': 'tiny' } })).toBe('abcdefghij0123456789');
    expect(sandboxIdOfContainer({ Names: ['/berth-pool-0011'], Labels: { 'berth.pool': 'tiny' } })).toBeNull();
  });
});
