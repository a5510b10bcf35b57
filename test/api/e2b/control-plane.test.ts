/**
 * The E2B control plane driven by the real, unmodified clients (e2b Python, e2b npm,
 * agentbox) against a live stack: real Temporal, real Docker.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type TestStack } from '../../helpers/stack.js';
import { runE2BPython, startE2BStack } from './harness.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startE2BStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('e2b Python SDK', () => {
  it('create with metadata/envs → get_info → set_timeout → pause → connect resumes → list by metadata → metrics → kill → kill again is False', async () => {
    const tag = randomBytes(4).toString('hex');
    const run = await runE2BPython(stack, 'e2b_control.py', [tag]);
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.sandbox_id).toMatch(/^[a-z0-9]{20}$/);
    expect(r.info).toMatchObject({ sandbox_id: r.sandbox_id, template_id: 'base', metadata: { suite: 'e2b-py', tag }, state: 'running' });
    expect(r.info.end_at - r.info.started_at).toBeGreaterThan(110);
    // set_timeout(60): endAt = now + 60 (it shortened the 120 s one).
    expect(Math.abs(r.end_at_after_set_timeout - (r.now_after_set_timeout + 60))).toBeLessThan(5);
    expect(r.pause).toBe(true);
    expect(r.state_after_pause).toBe('paused');
    expect(r.pause_again).toBe(false);
    expect(r.connect_id).toBe(r.sandbox_id);
    expect(r.state_after_connect).toBe('running');
    expect(r.listed).toEqual([r.sandbox_id]);
    expect(r.listed_paused).toEqual([]);
    expect(r.metrics.length).toBeGreaterThan(0);
    expect(r.metrics[0].mem_total).toBeGreaterThan(0);
    expect(r.kill).toBe(true);
    expect(r.kill_again).toBe(false);
    expect(r.kill_by_id).toBe(false);
    expect(r.get_after_kill).toBe('SandboxNotFoundException');
    // berth agrees: the sandbox is gone and its container removed.
    expect((await stack.api('GET', `/sandboxes/${r.sandbox_id}`)).status).toBe(404);
    await eventually(async () => (await stack.docker.listContainers({ all: true, filters: { label: [`berth.sandbox=${r.sandbox_id}`] } })).length === 0);
  });
});
