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

describe('many hosts', () => {
  const base = { BERTH_API_KEYS: 'sk-admin-0001:ops,sk-user-0001:alice', BERTH_SECRET_KEY: 'ab'.repeat(32) };
  it('parses Docker endpoints per host and admin keys; defaults to this host only', () => {
    const one = loadConfig({ ...base, BERTH_HOST_NAME: 'h1', DOCKER_SOCKET: '/run/d.sock' });
    expect([...one.hosts.endpoints]).toEqual([['h1', { kind: 'unix', socketPath: '/run/d.sock' }]]);
    const many = loadConfig({ ...base, BERTH_DOCKER_HOSTS: 'h1=unix:///var/run/docker.sock, h2=tcp://10.0.0.2:2376', BERTH_ADMIN_KEYS: 'sk-admin-0001' });
    expect(many.hosts.endpoints.get('h2')).toEqual({ kind: 'tcp', host: '10.0.0.2', port: 2376 });
    expect(many.adminKeys.has('sk-admin-0001')).toBe(true);
  });
  it('refuses bad endpoints, admin keys that are not API keys, and a grace shorter than two heartbeats', () => {
    expect(() => loadConfig({ ...base, BERTH_DOCKER_HOSTS: 'h1=http://x' })).toThrow(/unix:\/\/\/path\/to\/docker.sock or tcp/);
    expect(() => loadConfig({ ...base, BERTH_DOCKER_HOSTS: 'bad name=/x' })).toThrow(/name=endpoint/);
    expect(() => loadConfig({ ...base, BERTH_ADMIN_KEYS: 'sk-unknown-01' })).toThrow(/BERTH_ADMIN_KEYS/);
    expect(() => loadConfig({ ...base, BERTH_HOST_HEARTBEAT_MS: '5000', BERTH_HOST_GRACE_MS: '6000' })).toThrow(/BERTH_HOST_GRACE_MS/);
    expect(() => loadConfig({ ...base, BERTH_HOST_NAME: 'a/b' })).toThrow(/BERTH_HOST_NAME/);
  });
});
