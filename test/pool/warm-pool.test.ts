/**
 * The warm pool end to end (real Temporal dev server, real Docker engine): a create claims a
 * ready container, gets its envs, metadata, owner and resources, the pool refills, two creates
 * never share a container, a crashed worker's pool containers are removed, and creates that
 * cannot use the pool (volumes, a network policy) or a stack without a pool behave as before.
 */
import { execFileSync } from 'node:child_process';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReconcileActivities } from '../../src/activities/reconcile.js';
import { LABELS } from '../../src/docker/labels.js';
import { workflowIdFor } from '../../src/ids.js';
import { createLogger } from '../../src/logger.js';
import { isUnclaimedPoolContainer, POOL_LABELS } from '../../src/docker/pool-labels.js';
import { poolContainerSpec } from '../../src/pool/pool-spec.js';
import { serverStream } from '../helpers/envd.js';
import { TermClient } from '../helpers/pty-client.js';
import { eventually, startStack, type TestStack } from '../helpers/stack.js';

const POOL_SIZE = 2;
let stack: TestStack;

/** This stack's unclaimed pool containers (running ones unless `all`). */
async function poolContainers(all = false): Promise<Docker.ContainerInfo[]> {
  const listed = await stack.docker.listContainers({ all, filters: { label: [POOL_LABELS.pool, `${LABELS.queue}=${stack.config.temporal.taskQueue}`] } });
  return listed.filter((c) => isUnclaimedPoolContainer(c));
}

const poolFull = () => eventually(async () => (await poolContainers()).length === POOL_SIZE && (await poolContainers(true)).length === POOL_SIZE, 60_000, 200);

beforeAll(async () => {
  stack = await startStack({ env: { BERTH_WARM_POOL: `tiny:${POOL_SIZE}`, BERTH_WARM_POOL_REFILL_INTERVAL_MS: '500' } });
  await poolFull();
});
afterAll(async () => {
  await stack?.stop();
});

async function create(body: Record<string, unknown>, as = 'alice') {
  const res = await stack.api('POST', '/sandboxes', { as, body: { templateID: 'tiny', timeout: 300, ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { sandboxID: string; status: string };
}

describe('warm pool', () => {
  it('a create claims a ready container: running, with its envs, metadata, owner and resources', async () => {
    const before = new Set((await poolContainers()).map((c) => c.Id));
    const sb = await create({ envs: { POOL_GREETING: 'hello from the pool', SECOND: 'two' }, metadata: { job: 'pool-test' }, resources: { memoryMB: 96, cpu: 0.25 } });
    expect(sb.status).toBe('running');

    const container = await stack.docker.getContainer(sb.sandboxID).inspect();
    expect(before.has(container.Id), 'the sandbox runs in a container that was in the pool').toBe(true);
    expect(container.State.Running).toBe(true);
    expect(container.Config.Labels[POOL_LABELS.pool]).toBe('tiny');
    // Resources of the create, not the pool's (tiny: 0.5 CPU, 64 MB).
    expect(container.HostConfig.Memory).toBe(96 * 1024 * 1024);
    expect(container.HostConfig.NanoCpus).toBe(0.25e9);
    // Its packet-filter chain is installed at the claim (pool containers have none: all their traffic is dropped).
    const rules = execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' });
    expect(rules).toContain(`BERTH-${sb.sandboxID}`);
    for (const c of await poolContainers()) expect(rules).not.toContain(`BERTH-${c.Names[0]?.slice(1) ?? ''}`);

    const got = await stack.api('GET', `/sandboxes/${sb.sandboxID}`);
    expect(got.body).toMatchObject({ sandboxID: sb.sandboxID, status: 'running', metadata: { job: 'pool-test' } });
    // The caller's; another owner does not see it.
    expect((await stack.api('GET', `/sandboxes/${sb.sandboxID}`, { as: 'bob' })).status).toBe(404);
    expect((await stack.api('POST', `/sandboxes/${sb.sandboxID}/commands`, { as: 'bob', body: { cmd: 'env' } })).status).toBe(404);

    // Envs given at create apply to commands (foreground and background) ...
    const env = await stack.api('POST', `/sandboxes/${sb.sandboxID}/commands`, { body: { cmd: 'env' } });
    expect(env.status).toBe(200);
    expect(env.body.stdout).toContain('POOL_GREETING=hello from the pool\n');
    expect(env.body.stdout).toContain('SECOND=two\n');
    // ... a command's own envs win over the create's
    const own = await stack.api('POST', `/sandboxes/${sb.sandboxID}/commands`, { body: { cmd: 'echo "$SECOND"', envs: { SECOND: 'mine' } } });
    expect(own.body.stdout).toBe('mine\n');
    const bg = await stack.api('POST', `/sandboxes/${sb.sandboxID}/commands`, { body: { cmd: 'echo "bg:$POOL_GREETING"', background: true } });
    expect(bg.status, JSON.stringify(bg.body)).toBeLessThan(300);
    const cmdID = bg.body.cmdID as string;
    await eventually(async () => {
      const logs = await stack.api('GET', `/sandboxes/${sb.sandboxID}/commands/${cmdID}/logs`);
      return logs.status === 200 && String(logs.body.stdout).includes('bg:hello from the pool');
    });

    // ... and to terminals.
    const pty = await stack.api('POST', `/sandboxes/${sb.sandboxID}/pty`, { body: {} });
    expect(pty.status).toBe(201);
    const term = await TermClient.open(stack.baseUrl, sb.sandboxID, pty.body.pid as number, stack.keys.alice as string);
    try {
      term.type('echo "[$POOL_GREETING]"\n');
      await term.waitFor(/\[hello from the pool\]\r\n/);
    } finally {
      await term.close();
      await stack.api('DELETE', `/sandboxes/${sb.sandboxID}/pty/${pty.body.pid}`);
    }
  });

  it("the create's envs reach E2B envd processes and OpenSandbox execd commands in a claimed sandbox", async () => {
    const sb = await create({ envs: { DOOR_ENV: 'through-the-doors' } });
    expect((await stack.docker.getContainer(sb.sandboxID).inspect()).Config.Labels[POOL_LABELS.pool]).toBe('tiny');
    const envd = await serverStream({ stack, sandboxID: sb.sandboxID }, 'process.Process/Start', {
      process: { cmd: '/bin/sh', args: ['-c', 'echo "envd:$DOOR_ENV"'], envs: {} },
      stdin: false,
    });
    expect(envd.status).toBe(200);
    const stdout = envd.messages.map((m: { event?: { data?: { stdout?: string } } }) => Buffer.from(m.event?.data?.stdout ?? '', 'base64').toString('utf8')).join('');
    expect(stdout).toBe('envd:through-the-doors\n');
    const execd = await fetch(`${stack.baseUrl}/v1/sandboxes/${sb.sandboxID}/proxy/44772/command`, {
      method: 'POST',
      headers: { 'OPEN-SANDBOX-API-KEY': stack.keys.alice ?? '', 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'echo "execd:$DOOR_ENV"' }),
    });
    expect(execd.status).toBe(200);
    expect(await execd.text()).toContain('execd:through-the-doors');
  });

  it('the pool refills to its size after claims', async () => {
    await poolFull();
    const taken = await Promise.all([create({}), create({})]);
    for (const sb of taken) expect((await stack.docker.getContainer(sb.sandboxID).inspect()).Config.Labels[POOL_LABELS.pool]).toBe('tiny');
    await poolFull();
    const metrics = await fetch(`${stack.baseUrl}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(new RegExp(`berth_warm_pool_claims_total\\{[^}]*task_queue="${stack.config.temporal.taskQueue}"[^}]*\\} [1-9]`));
    expect(metrics).toMatch(new RegExp(`berth_warm_pool_refills_total\\{[^}]*task_queue="${stack.config.temporal.taskQueue}"[^}]*\\} [1-9]`));
  });

  it('concurrent creates get different containers, and a claimed container never goes back to the pool', async () => {
    await poolFull();
    const sandboxes = await Promise.all([create({}), create({}), create({})]);
    const ids = await Promise.all(sandboxes.map(async (sb) => (await stack.docker.getContainer(sb.sandboxID).inspect()).Id));
    expect(new Set(ids).size).toBe(3);
    // Each answers as itself: a file written in one is not in the others.
    const [first, ...others] = sandboxes;
    await stack.api('POST', `/sandboxes/${first?.sandboxID}/commands`, { body: { cmd: 'echo mine > /tmp/owner' } });
    for (const sb of others) {
      expect((await stack.api('POST', `/sandboxes/${sb.sandboxID}/commands`, { body: { cmd: 'cat /tmp/owner' } })).body.exitCode).not.toBe(0);
    }
    // Killed sandboxes' containers are removed, not returned to the pool.
    for (const sb of sandboxes) expect((await stack.api('DELETE', `/sandboxes/${sb.sandboxID}`)).status).toBe(204);
    await poolFull();
    const pooled = new Set((await poolContainers(true)).map((c) => c.Id));
    for (const id of ids) {
      expect(pooled.has(id)).toBe(false);
      await expect(stack.docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    }
  });

  it('a pool container that died before its claim still gives a running, usable sandbox', async () => {
    await poolFull();
    // Killed from outside (OOM, an operator): the pool may still hold them until its next sweep.
    await Promise.all((await poolContainers()).map((c) => stack.docker.getContainer(c.Id).kill()));
    const sb = await create({ envs: { AFTER: 'death' } });
    expect((await stack.docker.getContainer(sb.sandboxID).inspect()).State.Running).toBe(true);
    const res = await stack.api('POST', `/sandboxes/${sb.sandboxID}/commands`, { body: { cmd: 'echo "$AFTER"' } });
    expect(res.body).toMatchObject({ exitCode: 0, stdout: 'death\n' });
    await poolFull();
  });

  it('creates with volumes or a network policy get a container of their own', async () => {
    const policy = await create({ network: { allowInternet: false } });
    expect((await stack.docker.getContainer(policy.sandboxID).inspect()).Config.Labels[POOL_LABELS.pool]).toBeUndefined();
    const volume = `pool-vol-${Date.now()}`;
    expect((await stack.api('POST', '/volumes', { body: { name: volume, sizeMB: 16 } })).status).toBe(201);
    const withVolume = await create({ volumes: [{ name: volume, mountPath: '/data' }] });
    const info = await stack.docker.getContainer(withVolume.sandboxID).inspect();
    expect(info.Config.Labels[POOL_LABELS.pool]).toBeUndefined();
    expect(info.Config.Labels[LABELS.sandbox]).toBe(withVolume.sandboxID);
    expect((await stack.api('DELETE', `/sandboxes/${withVolume.sandboxID}`)).status).toBe(204);
  });

  it('the reconciler knows claimed containers by name: a live one stays, one whose workflow ended is removed, the pool is left alone', async () => {
    await poolFull();
    const [live, ended] = await Promise.all([create({}), create({})]);
    await poolFull();
    await stack.client.workflow.getHandle(workflowIdFor(ended.sandboxID)).terminate('test: the workflow ends without removing its container');
    const sweep = createReconcileActivities({
      docker: stack.docker,
      logger: createLogger('silent', 'pool-test'),
      hostName: stack.config.hostName,
      taskQueue: stack.config.temporal.taskQueue,
      client: () => stack.client,
    });
    const result = await sweep.sweepContainers({ orphanGraceMs: 0 });
    expect(result.orphansRemoved).toEqual([ended.sandboxID]);
    expect(result.lostReported).toEqual([]);
    await expect(stack.docker.getContainer(ended.sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await stack.docker.getContainer(live.sandboxID).inspect()).State.Running).toBe(true);
    expect(await poolContainers()).toHaveLength(POOL_SIZE);
  });

  it("a crashed worker's pool containers (started, or created but never started) are removed at restart, and the pool refills", async () => {
    const claimedBefore = await create({});
    await stack.stopWorker();
    // What a process killed mid-refill leaves: containers with the pool labels of its (now dead) instance.
    const template = stack.config.templates.get('tiny');
    if (!template) throw new Error('no tiny template');
    const options = {
      pidsLimit: stack.config.limits.pidsLimit,
      networkName: stack.config.network.name,
      blockedCidrs: stack.config.network.blockedCidrs,
      host: stack.config.hostName,
      taskQueue: stack.config.temporal.taskQueue,
      instanceID: 'deadbeef0000',
    };
    const started = await stack.docker.createContainer(poolContainerSpec(`berth-pool-crashed${Date.now()}a`, template, options));
    await started.start();
    const neverStarted = await stack.docker.createContainer(poolContainerSpec(`berth-pool-crashed${Date.now()}b`, template, options));
    await stack.startWorker();
    await poolFull();
    for (const c of [started, neverStarted]) await expect(c.inspect()).rejects.toMatchObject({ statusCode: 404 });
    // The restarted worker rebuilt the packet-filter rules of the sandbox claimed before (found by its name).
    expect(execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' })).toContain(`BERTH-${claimedBefore.sandboxID}`);
    const after = await stack.api('POST', `/sandboxes/${claimedBefore.sandboxID}/commands`, { body: { cmd: 'true' } });
    expect(after.body.exitCode, JSON.stringify(after.body)).toBe(0);
    // Sandboxes still come from the (new) pool.
    const sb = await create({});
    expect((await stack.docker.getContainer(sb.sandboxID).inspect()).Config.Labels[POOL_LABELS.pool]).toBe('tiny');
  });
});

describe('pool off (the default)', () => {
  let plain: TestStack;
  beforeAll(async () => {
    plain = await startStack();
  });
  afterAll(async () => {
    await plain?.stop();
  });

  it('creates make their own container and no pool container exists', async () => {
    const res = await plain.api('POST', '/sandboxes', { body: { templateID: 'tiny', envs: { COLD: 'yes' } } });
    expect(res.status).toBe(201);
    const info = await plain.docker.getContainer(res.body.sandboxID as string).inspect();
    expect(info.Config.Labels[POOL_LABELS.pool]).toBeUndefined();
    expect(info.Config.Labels[LABELS.owner]).toBe(plain.owners.alice);
    expect(info.Config.Env).toContain('COLD=yes');
    const listed = await plain.docker.listContainers({ all: true, filters: { label: [POOL_LABELS.pool, `${LABELS.queue}=${plain.config.temporal.taskQueue}`] } });
    expect(listed).toHaveLength(0);
    const env = await plain.api('POST', `/sandboxes/${res.body.sandboxID}/commands`, { body: { cmd: 'echo "$COLD"' } });
    expect(env.body.stdout).toBe('yes\n');
  });
});
