/**
 * Snapshots with the warm pool on: a sandbox that claimed a pool container is snapshotted like
 * any other, and a boot from its snapshot makes its own container (a snapshot is never a pool
 * template) that holds the files and runs commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUnclaimedPoolContainer, POOL_LABELS } from '../../../src/docker/pool-labels.js';
import { LABELS } from '../../../src/docker/labels.js';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startStack({ env: { BERTH_WARM_POOL: 'tiny:1', BERTH_WARM_POOL_REFILL_INTERVAL_MS: '500' } });
  await eventually(async () => {
    const listed = await stack.docker.listContainers({ filters: { label: [POOL_LABELS.pool, `${LABELS.queue}=${stack.config.temporal.taskQueue}`] } });
    return listed.some((c) => isUnclaimedPoolContainer(c));
  }, 60_000, 200);
});
afterAll(async () => {
  await stack?.stop();
});

describe('snapshots and the warm pool', () => {
  it('a claimed sandbox is snapshotted, and its snapshot boots a sandbox of its own with the files', async () => {
    const source = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', envs: { FROM_POOL: 'yes' } } });
    expect(source.status, JSON.stringify(source.body)).toBe(201);
    const id = source.body.sandboxID as string;
    expect((await stack.docker.getContainer(id).inspect()).Config.Labels[POOL_LABELS.pool], 'it claimed a pool container').toBe('tiny');
    expect((await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'echo pooled > /tmp/p.txt' } })).body.exitCode).toBe(0);

    const taken = await stack.api('POST', `/sandboxes/${id}/snapshots`);
    expect(taken.status, JSON.stringify(taken.body)).toBe(201);
    expect(taken.body.templateID).toBe('tiny');

    const booted = await stack.api('POST', '/sandboxes', { body: { templateID: taken.body.snapshotID } });
    expect(booted.status, JSON.stringify(booted.body)).toBe(201);
    const read = await stack.api('POST', `/sandboxes/${booted.body.sandboxID}/commands`, { body: { cmd: 'cat /tmp/p.txt; echo "[$FROM_POOL]"' } });
    expect(read.body.stdout).toBe('pooled\n[]\n');
    const container = await stack.docker.getContainer(booted.body.sandboxID).inspect();
    expect(container.Config.Image).toBe(`berth-snapshot/${taken.body.snapshotID}:latest`);

    for (const sb of [id, booted.body.sandboxID as string]) expect((await stack.api('DELETE', `/sandboxes/${sb}`)).status).toBe(204);
    expect((await stack.api('DELETE', `/snapshots/${taken.body.snapshotID}`)).status).toBe(204);
  });
});
