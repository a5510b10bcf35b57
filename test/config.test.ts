import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

const baseEnv = { BERTH_API_KEYS: 'secret-key-1:alice', BERTH_SECRET_KEY: 'a'.repeat(64) };

describe('loadConfig', () => {
  it('applies defaults and parses keys', () => {
    const config = loadConfig(baseEnv);
    expect(config.apiKeys.get('secret-key-1')).toBe('alice');
    expect(config.lifecycle.maxLifetimeMs).toBe(3_600_000);
    expect(config.templates.get('code_interpreter')?.defaultIdleTimeoutS).toBe(300);
    expect(config.templates.get('claude')?.defaultIdleTimeoutS).toBe(600);
  });
  it('names every invalid variable', () => {
    expect(() => loadConfig({ ...baseEnv, BERTH_API_PORT: 'x', BERTH_SECRET_KEY: 'short' })).toThrow(/BERTH_API_PORT[\s\S]*BERTH_SECRET_KEY/);
    expect(() => loadConfig({ BERTH_SECRET_KEY: 'a'.repeat(64) })).toThrow(/BERTH_API_KEYS/);
  });
  it('maps templates to other images', () => {
    const config = loadConfig({ ...baseEnv, BERTH_TEMPLATE_IMAGES: '{"base":"python:3.12-slim"}' });
    expect(config.templates.get('base')?.image).toBe('python:3.12-slim');
  });
});
