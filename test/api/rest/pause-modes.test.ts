/**
 * The two pause modes against real Temporal and Docker (docs/pause.md): `freeze` keeps files
 * and running processes; `disk` commits the container to a pause image and removes it (files
 * kept, processes restart), recreates it with the same spec on resume, and cleans its images
 * up on resume and kill. The reconciler leaves a disk-paused sandbox alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../../src/ids.js';
import { checkContainerSignal } from '../../../src/workflows/definitions.js';
import { eventually, startStack, type TestStack } from '../../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ reconcile: true, env: { BERTH_RECONCILE_INTERVAL_MS: '1000', BERTH_ORPHAN_GRACE_MS: '2000' } });
});
afterAll(async () => {
  await stack?.stop();
  if (stack) await removeOwnersPauseImages(stack);
});

/** Pause images the stack's owners left (only when a test failed before its kill): never other stacks'. */
async function removeOwnersPauseImages(s: TestStack): Promise<void> {
  const owners = new Set(Object.values(s.owners));
  const images = await s.docker.listImages({ all: true, filters: JSON.stringify({ label: ['berth.kind=pause'] }) });
  for (const image of images.sort((a, b) => b.Created - a.Created)) {
    if (owners.has(image.Labels?.['berth.owner'] ?? '')) await s.docker.getImage(image.Id).remove({ force: true }).catch(() => undefined);
  }
}

async function create(body: Record<string, unknown> = {}) {
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600, ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { sandboxID: string; [k: string]: unknown };
}

async function run(id: string, cmd: string) {
  const res = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { exitCode: number; stdout: string; stderr: string };
}

/** Starts a background process and a counter loop; answers their PIDs. */
async function startProcesses(id: string): Promise<{ sleeper: string; counter: string }> {
  const out = await run(id, 'sleep 1000 >/dev/null 2>&1 & echo $!; (i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.2; done) >/dev/null 2>&1 & echo $!');
  const [sleeper = '', counter = ''] = out.stdout.trim().split('\n');
  expect(sleeper).toMatch(/^\d+$/);
  return { sleeper, counter };
}

/** How many `sleep 1000` processes (startProcesses' sleeper) run in the sandbox, by command line. */
const sleepersRunning = async (id: string) =>
  Number((await run(id, `for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done | grep -c '^sleep 1000 ' || true`)).stdout.trim());

const alive = async (id: string, pid: string) => (await run(id, `kill -0 ${pid} 2>/dev/null && echo yes || echo no`)).stdout.trim() === 'yes';

async function pauseImages(id: string) {
  return stack.docker.listImages({ all: true, filters: JSON.stringify({ label: ['berth.kind=pause', `berth.sandbox=${id}`] }) });
}

async function containerExists(id: string): Promise<boolean> {
  try {
    await stack.docker.getContainer(id).inspect();
    return true;
  } catch {
    return false;
  }
}

describe('freeze (the default)', () => {
  it('keeps a file and running processes (same PIDs, the counter goes on) across pause and resume', async () => {
    const { sandboxID: id } = await create();
    await run(id, 'echo kept > /tmp/file.txt');
    const { sleeper, counter } = await startProcesses(id);
    const paused = await stack.api('POST', `/sandboxes/${id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: 'paused', pausedMode: 'freeze' });
    expect((await stack.docker.getContainer(id).inspect()).State.Paused).toBe(true);
    expect((await stack.api('POST', `/sandboxes/${id}/resume`)).body.status).toBe('running');
    expect((await run(id, 'cat /tmp/file.txt')).stdout).toBe('kept\n');
    expect(await alive(id, sleeper)).toBe(true);
    expect(await alive(id, counter)).toBe(true);
    const before = Number((await run(id, 'cat /tmp/count')).stdout);
    const after = await eventually(async () => {
      const n = Number((await run(id, 'cat /tmp/count')).stdout);
      return n > before && n;
    });
    expect(after).toBeGreaterThan(before);
    await stack.api('DELETE', `/sandboxes/${id}`);
  });

  it('an explicit {"mode":"freeze"} body is the same', async () => {
    const { sandboxID: id } = await create();
    const paused = await stack.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'freeze' } });
    expect(paused.body).toMatchObject({ status: 'paused', pausedMode: 'freeze' });
    expect(await containerExists(id)).toBe(true);
    await stack.api('DELETE', `/sandboxes/${id}`);
  });
});

describe('disk', () => {
  it('commits and removes the container; resume recreates it with the same spec: files, envs, volume, limits kept; processes restart', async () => {
    const volume = `pm${Date.now().toString(36)}`;
    expect((await stack.api('POST', '/volumes', { body: { name: volume } })).status).toBe(201);
    const { sandboxID: id } = await create({ envs: { SECRET_THING: 'shh' }, volumes: [{ name: volume, mountPath: '/data' }], resources: { cpu: 0.5, memoryMB: 96 } });
    await run(id, 'echo kept > /home/user/file.txt; echo vol > /data/v.txt');
    await startProcesses(id);
    expect(await sleepersRunning(id), 'the probe sees the sleeper').toBe(1);
    const before = await stack.docker.getContainer(id).inspect();

    const paused = await stack.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'disk' } });
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body).toMatchObject({ status: 'paused', pausedMode: 'disk' });
    // No container: no memory or CPU held. The pause image is labelled for its sandbox and owner.
    expect(await containerExists(id)).toBe(false);
    const image = await stack.docker.getImage(`berth-pause:${id}`).inspect();
    expect(image.Config.Labels).toMatchObject({ 'berth.kind': 'pause', 'berth.sandbox': id, 'berth.owner': stack.owners.alice });
    expect((await stack.api('GET', `/sandboxes/${id}`)).body).toMatchObject({ status: 'paused', pausedMode: 'disk' });
    // The data plane answers 409 (no autoResume), with what to do.
    const refused = await stack.api('POST', `/sandboxes/${id}/commands`, { body: { cmd: 'true' } });
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/resume/);
    expect((await stack.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'disk' } })).status).toBe(409);

    const resumed = await stack.api('POST', `/sandboxes/${id}/resume`);
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'running', pausedMode: null });
    expect((await run(id, 'cat /home/user/file.txt /data/v.txt; echo $SECRET_THING')).stdout).toBe('kept\nvol\nshh\n');
    // Processes do not survive a pause to disk: the container started afresh. Its PIDs start
    // over, so the old sleeper's PID may belong to a new process (this check's own shell, say):
    // look for the sleeper by its command line instead.
    expect(await sleepersRunning(id)).toBe(0);
    const after = await stack.docker.getContainer(id).inspect();
    expect(after.Name).toBe(`/${id}`);
    expect(after.Id).not.toBe(before.Id);
    expect(after.HostConfig.Memory).toBe(before.HostConfig.Memory);
    expect(after.HostConfig.NanoCpus).toBe(before.HostConfig.NanoCpus);
    expect(after.HostConfig.CapDrop).toEqual(before.HostConfig.CapDrop);
    expect(after.HostConfig.NetworkMode).toBe(before.HostConfig.NetworkMode);
    expect(after.Config.Labels?.['berth.network.policy']).toBe(before.Config.Labels?.['berth.network.policy']);
    // The image is untagged on resume (its layers stay while the container uses them).
    await expect(stack.docker.getImage(`berth-pause:${id}`).inspect()).rejects.toMatchObject({ statusCode: 404 });

    // A second round trip works too (a pause image on top of the first).
    expect((await stack.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'disk' } })).status).toBe(200);
    expect((await stack.api('POST', `/sandboxes/${id}/resume`)).status).toBe(200);
    expect((await run(id, 'cat /home/user/file.txt')).stdout).toBe('kept\n');

    const events = (await stack.api('GET', `/sandboxes/${id}/events`)).body.events.map((e: { status: string }) => e.status);
    expect(events).toEqual(['creating', 'running', 'paused', 'running', 'paused', 'running']);
    expect((await stack.api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
    expect(await pauseImages(id)).toEqual([]);
    await stack.api('DELETE', `/volumes/${volume}`);
  });

  it('kill of a disk-paused sandbox removes its pause image', async () => {
    const { sandboxID: id } = await create();
    await run(id, 'echo x > /tmp/x');
    expect((await stack.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'disk' } })).status).toBe(200);
    expect((await pauseImages(id)).length).toBeGreaterThan(0);
    expect((await stack.api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
    expect(await pauseImages(id)).toEqual([]);
    expect((await stack.api('GET', `/sandboxes/${id}`)).status).toBe(404);
  });

  it('lifecycle.pauseMode disk: the idle timeout pauses to disk, autoResume brings the files back', async () => {
    const { sandboxID: id } = await create({ timeout: 2, lifecycle: { onTimeout: 'pause', autoResume: true, pauseMode: 'disk' } });
    await run(id, 'echo auto > /tmp/auto.txt');
    const paused = await eventually(async () => {
      const res = await stack.api('GET', `/sandboxes/${id}`);
      return res.body.status === 'paused' && res.body;
    }, 60_000, 250);
    expect(paused).toMatchObject({ pausedMode: 'disk', lifecycle: { pauseMode: 'disk' } });
    expect(await containerExists(id)).toBe(false);
    // A data-plane call resumes it first (autoResume), from its pause image.
    expect((await run(id, 'cat /tmp/auto.txt')).stdout).toBe('auto\n');
    expect((await stack.api('GET', `/sandboxes/${id}`)).body.status).toBe('running');
    await stack.api('DELETE', `/sandboxes/${id}`);
  });

  it('the reconciler and container checks leave a disk-paused sandbox paused (no container is the point)', async () => {
    const { sandboxID: id } = await create();
    expect((await stack.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'disk' } })).status).toBe(200);
    const handle = stack.client.workflow.getHandle(workflowIdFor(id));
    await handle.signal(checkContainerSignal, { source: 'dataplane' });
    // Several reconciler sweeps (every second) run meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const info = await stack.api('GET', `/sandboxes/${id}`);
    expect(info.body).toMatchObject({ status: 'paused', pausedMode: 'disk' });
    expect((await stack.api('POST', `/sandboxes/${id}/resume`)).status).toBe(200);
    await stack.api('DELETE', `/sandboxes/${id}`);
  });

  it('a snapshot of a disk-paused sandbox is a 409; a snapshot taken after its resume outlives its kill', async () => {
    const { sandboxID: id } = await create();
    await run(id, 'echo snap > /home/user/s.txt');
    expect((await stack.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'disk' } })).status).toBe(200);
    const refused = await stack.api('POST', `/sandboxes/${id}/snapshots`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/paused to disk.*resume/);
    expect((await stack.api('GET', `/sandboxes/${id}`)).body).toMatchObject({ status: 'paused', pausedMode: 'disk' });
    expect((await stack.api('POST', `/sandboxes/${id}/resume`)).status).toBe(200);
    // The container made from the pause image carries its labels, and so does a snapshot of it:
    // killing the sandbox removes pause images only, never the user's snapshot.
    const taken = await stack.api('POST', `/sandboxes/${id}/snapshots`);
    expect(taken.status, JSON.stringify(taken.body)).toBe(201);
    expect((await stack.api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
    expect((await stack.api('GET', `/snapshots/${taken.body.snapshotID}`)).status).toBe(200);
    const booted = await create({ templateID: taken.body.snapshotID });
    expect((await run(booted.sandboxID, 'cat /home/user/s.txt')).stdout).toBe('snap\n');
    await stack.api('DELETE', `/sandboxes/${booted.sandboxID}`);
    // The pause layer under the snapshot goes with the snapshot.
    expect((await stack.api('DELETE', `/snapshots/${taken.body.snapshotID}`)).status).toBe(204);
    expect(await pauseImages(id)).toEqual([]);
  });

  it('a bad mode is a 400 that names the modes', async () => {
    const { sandboxID: id } = await create();
    const res = await stack.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'hibernate' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBeTruthy();
    expect(res.body.message).toMatch(/freeze|disk/);
    const badCreate = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', lifecycle: { pauseMode: 'swap' } } });
    expect(badCreate.status).toBe(400);
    await stack.api('DELETE', `/sandboxes/${id}`);
  });

  it('the gvisor template on an engine without runsc fails provisioning with what to do (502)', async () => {
    const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'gvisor', timeout: 60 } });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'provision_failed' });
    expect(res.body.message).toMatch(/runsc is not registered.*docs\/pause\.md/);
  });
});

describe('paused retention of a disk-paused sandbox', () => {
  let short: TestStack;
  beforeAll(async () => {
    short = await startStack({ env: { BERTH_PAUSED_RETENTION_MS: '1500' } });
  });
  afterAll(async () => {
    await short?.stop();
    if (short) await removeOwnersPauseImages(short);
  });

  it('stops it with paused_retention and removes its pause image', async () => {
    const res = await short.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600 } });
    expect(res.status).toBe(201);
    const id = res.body.sandboxID as string;
    expect((await short.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'disk' } })).body.pausedMode).toBe('disk');
    const stop = await eventually(async () => {
      const events = (await short.api('GET', `/sandboxes/${id}/events`)).body.events as Array<{ status: string; reason: string }>;
      return events.at(-1)?.status === 'stopped' && events.at(-1);
    }, 60_000, 250);
    expect(stop).toMatchObject({ reason: 'paused_retention' });
    expect(await short.docker.listImages({ all: true, filters: JSON.stringify({ label: ['berth.kind=pause', `berth.sandbox=${id}`] }) })).toEqual([]);
  });
});

describe('a sandbox claimed from the warm pool', () => {
  let pooled: TestStack;
  beforeAll(async () => {
    pooled = await startStack({ env: { BERTH_WARM_POOL: 'tiny:1', BERTH_WARM_POOL_REFILL_INTERVAL_MS: '500' } });
  });
  afterAll(async () => {
    await pooled?.stop();
    if (pooled) await removeOwnersPauseImages(pooled);
  });

  it('pauses to disk and resumes as its own container (pool labels blanked), files and envs kept', async () => {
    const poolReady = () =>
      eventually(async () => (await pooled.docker.listContainers({ filters: { label: ['berth.pool', `berth.queue=${pooled.config.temporal.taskQueue}`] } })).length === 1, 60_000, 200);
    await poolReady();
    const res = await pooled.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600, envs: { FROM_POOL: 'yes' } } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.sandboxID as string;
    expect((await pooled.docker.getContainer(id).inspect()).Config.Labels['berth.pool']).toBe('tiny');
    const exec = async (cmd: string) => (await pooled.api('POST', `/sandboxes/${id}/commands`, { body: { cmd } })).body as { stdout: string };
    await exec('echo pooled > /home/user/p.txt');
    const paused = await pooled.api('POST', `/sandboxes/${id}/pause`, { body: { mode: 'disk' } });
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect((await pooled.api('POST', `/sandboxes/${id}/resume`)).status).toBe(200);
    const labels = (await pooled.docker.getContainer(id).inspect()).Config.Labels;
    expect(labels['berth.pool']).toBe('');
    expect(labels['berth.sandbox']).toBe(id);
    expect((await exec('cat /home/user/p.txt; echo $FROM_POOL')).stdout).toBe('pooled\nyes\n');
    expect((await pooled.api('DELETE', `/sandboxes/${id}`)).status).toBe(204);
    expect(await pooled.docker.listImages({ all: true, filters: JSON.stringify({ label: ['berth.kind=pause', `berth.sandbox=${id}`] }) })).toEqual([]);
  });
});
