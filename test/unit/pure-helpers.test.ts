import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { sandboxVisibilityQuery } from '../../src/service/visibility-query.js';
import { TouchCoalescer } from '../../src/service/touch-coalescer.js';
import { loadConfig } from '../../src/config.js';
import { openJson, sealJson } from '../../src/secrets.js';
import { containerSpec } from '../../src/activities/container-spec.js';
import { newSandboxID, SANDBOX_ID_PATTERN } from '../../src/ids.js';

const baseEnv = { BERTH_API_KEYS: 'secret-key-1:alice', BERTH_SECRET_KEY: 'a'.repeat(64) };

describe('visibility queries', () => {
  it('lists live sandboxes of one owner by default', () => {
    expect(sandboxVisibilityQuery({ owner: 'alice' })).toBe(
      "WorkflowType = 'sandboxWorkflow' AND BerthOwner = 'alice' AND ((ExecutionStatus = 'Running' AND BerthState IN ('creating', 'running', 'paused')))",
    );
  });
  it('combines live and ended states and metadata', () => {
    const q = sandboxVisibilityQuery({ owner: 'a', statuses: ['paused', 'stopped'], metadata: ['job=1', 'x=y'] });
    expect(q).toContain("(ExecutionStatus = 'Running' AND BerthState IN ('paused')) OR (ExecutionStatus = 'Completed' AND BerthState IN ('stopped'))");
    expect(q).toContain("BerthMetadata = 'job=1' AND BerthMetadata = 'x=y'");
  });
  it('refuses quotes (no query injection)', () => {
    expect(() => sandboxVisibilityQuery({ owner: "a' OR '1'='1" })).toThrow();
  });
});

describe('TouchCoalescer', () => {
  afterEach(() => vi.useRealTimers());
  it('sends at most one touch per window and never drops the last one', () => {
    vi.useFakeTimers();
    let now = 0;
    const sent: number[] = [];
    const c = new TouchCoalescer(1000, async () => void sent.push(now), () => undefined, () => now);
    c.touch('a'); // sent at 0
    now = 100;
    c.touch('a');
    now = 900;
    c.touch('a'); // trailing: its timer was armed at 100, due when the window ends (at 1000)
    expect(sent).toEqual([0]);
    vi.advanceTimersByTime(899);
    expect(sent).toEqual([0]);
    now = 1000;
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([0, 1000]);
    now = 2500;
    c.touch('a');
    expect(sent).toEqual([0, 1000, 2500]);
    void c.close();
  });
  it('narrows the window to the per-sandbox cap', () => {
    vi.useFakeTimers();
    let now = 0;
    const sent: number[] = [];
    const c = new TouchCoalescer(4000, async () => void sent.push(now), () => undefined, () => now);
    c.touch('a', 500);
    now = 100;
    c.touch('a', 500);
    now = 500;
    vi.advanceTimersByTime(400);
    expect(sent).toEqual([0, 500]);
    void c.close();
  });
  it('delivers a pending trailing touch on close instead of dropping it', async () => {
    let now = 0;
    const sent: number[] = [];
    const c = new TouchCoalescer(4000, async () => void sent.push(now), () => undefined, () => now);
    c.touch('a'); // sent at 0
    now = 1000;
    c.touch('a'); // pending until 4000
    expect(sent).toEqual([0]);
    await c.close();
    expect(sent).toEqual([0, 1000]);
  });
});

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

describe('secrets', () => {
  it('seals env vars so history never holds them in clear text', () => {
    const key = randomBytes(32).toString('hex');
    const sealed = sealJson({ TOKEN: 'hunter2' }, key);
    expect(sealed).not.toContain('hunter2');
    expect(openJson(sealed, key)).toEqual({ TOKEN: 'hunter2' });
    expect(() => openJson(sealed, randomBytes(32).toString('hex'))).toThrow();
  });
});

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

describe('worker logs', () => {
  it("routes the Temporal SDK's logs into pino as JSON with their metadata, at the configured level", async () => {
    const { default: pino } = await import('pino');
    const { temporalLoggerFor } = await import('../../src/worker.js');
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const sdk = temporalLoggerFor(logger, 'info');
    sdk.info('deadline reached', { sandboxID: 'abc', workflowId: 'sandbox-abc' });
    sdk.debug('too chatty');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 30, msg: 'deadline reached', sandboxID: 'abc', workflowId: 'sandbox-abc' });
  });
});
