import { describe, expect, it } from 'vitest';
import { envdAccessToken, ownerOfEnvdAccessToken } from '../../../src/api/e2b/access-token.js';
import { isE2BRequest } from '../../../src/api/e2b/detect.js';
import { hostRoute } from '../../../src/api/e2b/host-proxy.js';
import { parseMetadataFilter, sandboxIDFromPath, toBerthCreate } from '../../../src/api/e2b/shapes.js';
import { loadConfig } from '../../../src/config.js';

const SECRET = 'ab'.repeat(32);

describe('E2B door: which requests it answers', () => {
  it('the key format decides (X-API-Key or Bearer), nothing else', () => {
    expect(isE2BRequest({ headers: { 'x-api-key': 'e2b_0123' } })).toBe(true);
    expect(isE2BRequest({ headers: { authorization: 'Bearer e2b_0123' } })).toBe(true);
    expect(isE2BRequest({ headers: { 'x-api-key': 'berth_dev_1234', publisher: 'e2b' } })).toBe(false);
    expect(isE2BRequest({ headers: { authorization: 'Bearer sk-e2b_0123' } })).toBe(false);
    expect(isE2BRequest({ headers: {} })).toBe(false);
  });

  it('config accepts e2b_<hex> keys and refuses other e2b_ keys with what to do', () => {
    const base = { BERTH_SECRET_KEY: SECRET };
    const key = `e2b_${'a1'.repeat(20)}`;
    expect(loadConfig({ ...base, BERTH_API_KEYS: `sk-alice-123:alice,${key}:alice` }).apiKeys.get(key)).toBe('alice');
    expect(() => loadConfig({ ...base, BERTH_API_KEYS: 'e2b_not-hex-but-long-enough:alice' })).toThrow(/e2b_ and at least 32 lowercase hex digits/);
  });
});

describe('E2B door: wire mapping', () => {
  it('agentbox paths carry <sandboxID>-<clientID>', () => {
    expect(sandboxIDFromPath('abcdefghij0123456789-berth')).toBe('abcdefghij0123456789');
    expect(sandboxIDFromPath('abcdefghij0123456789')).toBe('abcdefghij0123456789');
  });

  it('metadata filters as the SDKs encode them (keys and values percent-quoted, then form-encoded)', () => {
    // Python: urlencode({quote(k): quote(v)}); JS: new URLSearchParams({encodeURIComponent(k): …}); Express decoded the outer layer.
    expect(parseMetadataFilter('a%2520b=c%253Dd&tag=x1')).toEqual(['a b=c=d', 'tag=x1']);
    expect(parseMetadataFilter(['k=v', 'k2=v2'])).toEqual(['k=v', 'k2=v2']);
    expect(parseMetadataFilter(undefined)).toEqual([]);
  });

  it('create bodies: absolute timeout, autoPause → onTimeout pause, network', () => {
    expect(toBerthCreate({ templateID: 'base', timeout: 60, autoPause: true, autoResume: { enabled: true }, metadata: { a: 'b' }, envVars: { X: '1' } })).toEqual({
      templateID: 'base',
      timeout: 60,
      metadata: { a: 'b' },
      envs: { X: '1' },
      lifecycle: { onTimeout: 'pause', autoResume: true, timeoutMode: 'absolute', pauseMode: 'freeze' },
    });
    const minimal = toBerthCreate({});
    expect(minimal).toMatchObject({ templateID: 'base', timeout: 15, lifecycle: { onTimeout: 'kill', autoResume: false, timeoutMode: 'absolute' } });
    expect(minimal.network).toBeUndefined();
    expect(toBerthCreate({ allow_internet_access: false, network: { allowOut: ['203.0.113.0/24'] } }).network).toEqual({ allowInternet: false, allowOut: ['203.0.113.0/24'], denyOut: [] });
  });

  it('sandbox host names: <port>-<id>[-<clientID>].<domain>', () => {
    const id = 'abcdefghij0123456789';
    expect(hostRoute(`8080-${id}.localhost:3000`)).toEqual({ port: 8080, sandboxID: id });
    expect(hostRoute(`49983-${id}-berth.example.com`)).toEqual({ port: 49983, sandboxID: id });
    expect(hostRoute('localhost:3000')).toBeNull();
    expect(hostRoute('127.0.0.1:3000')).toBeNull();
    expect(hostRoute(`99999-${id}.localhost`)).toBeNull();
    expect(hostRoute(undefined)).toBeNull();
  });
});

describe('envd access tokens', () => {
  it('name their owner for their sandbox only, and cannot be forged', () => {
    const token = envdAccessToken(SECRET, 'sandbox00000000000001', 'alice');
    expect(ownerOfEnvdAccessToken(SECRET, 'sandbox00000000000001', token)).toBe('alice');
    expect(ownerOfEnvdAccessToken(SECRET, 'sandbox00000000000002', token)).toBeNull();
    expect(ownerOfEnvdAccessToken('cd'.repeat(32), 'sandbox00000000000001', token)).toBeNull();
    const forged = `${Buffer.from('bob').toString('base64url')}.${token.split('.')[1] ?? ''}`;
    expect(ownerOfEnvdAccessToken(SECRET, 'sandbox00000000000001', forged)).toBeNull();
    expect(ownerOfEnvdAccessToken(SECRET, 'sandbox00000000000001', 'garbage')).toBeNull();
  });
});
