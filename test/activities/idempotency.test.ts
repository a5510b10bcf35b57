/** The Docker activities against the real engine: retries and duplicates are harmless. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { loadConfig } from '../../src/config.js';
import { createDockerClient } from '../../src/docker/client.js';
import { newSandboxID } from '../../src/ids.js';
import { createLogger } from '../../src/logger.js';
import { LOCAL_IMAGES } from '../../src/templates.js';

const docker = createDockerClient('/var/run/docker.sock');
const owner = `test-act-${randomBytes(3).toString('hex')}`;
const acts = createActivities({
  docker,
  logger: createLogger('silent', 'act-test'),
  config: {
    hostName: 'act-host',
    secretKeyHex: randomBytes(32).toString('hex'),
    limits: { pidsLimit: 64 },
    network: loadConfig({ BERTH_API_KEYS: 'act-test-key:act', BERTH_SECRET_KEY: '0'.repeat(64) }).network,
  },
});
const request = (sandboxID: string) => ({ sandboxID, owner, templateID: 'tiny', image: LOCAL_IMAGES.busybox, resources: { cpu: 0.5, memoryMB: 32 } });

afterAll(async () => {
  const containers = await docker.listContainers({ all: true, filters: { label: [`berth.owner=${owner}`] } });
  // Through the activity, so the packet-filter chains go too.
  await Promise.all(containers.map((c) => acts.destroySandbox({ sandboxID: c.Labels['berth.sandbox'] ?? c.Id })));
});

it('never makes two containers for one sandbox, even when provisioning runs twice at once', async () => {
  const sandboxID = newSandboxID();
  const [a, b] = await Promise.all([acts.provisionSandbox(request(sandboxID)), acts.provisionSandbox(request(sandboxID))]);
  const again = await acts.provisionSandbox(request(sandboxID));
  expect(a.containerID).toBe(b.containerID);
  expect(again.containerID).toBe(a.containerID);
  const containers = await docker.listContainers({ all: true, filters: { label: [`berth.sandbox=${sandboxID}`] } });
  expect(containers).toHaveLength(1);
  expect(containers[0]?.State).toBe('running');
  // Three provisions, one jump to the sandbox's chain and one copy of each of its rules.
  const egress = execFileSync('iptables', ['-w', '-S', 'BERTH-EGRESS'], { encoding: 'utf8' });
  expect(egress.split('\n').filter((line) => line.includes(`BERTH-${sandboxID}`))).toHaveLength(1);
  const rules = execFileSync('iptables', ['-w', '-S', `BERTH-${sandboxID}`], { encoding: 'utf8' }).trim().split('\n');
  expect(new Set(rules).size).toBe(rules.length);
});

it('pause, resume and destroy are idempotent', async () => {
  const sandboxID = newSandboxID();
  await acts.provisionSandbox(request(sandboxID));
  await acts.pauseSandbox({ sandboxID, mode: 'freeze' });
  await acts.pauseSandbox({ sandboxID, mode: 'freeze' });
  expect((await docker.getContainer(sandboxID).inspect()).State.Paused).toBe(true);
  await acts.resumeSandbox({ sandboxID });
  await acts.resumeSandbox({ sandboxID });
  expect((await docker.getContainer(sandboxID).inspect()).State.Paused).toBe(false);
  await acts.destroySandbox({ sandboxID });
  await acts.destroySandbox({ sandboxID });
  await expect(docker.getContainer(sandboxID).inspect()).rejects.toMatchObject({ statusCode: 404 });
  expect(execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8' })).not.toContain(`BERTH-${sandboxID}`);
  await expect(acts.pauseSandbox({ sandboxID, mode: 'freeze' })).rejects.toMatchObject({ type: 'ContainerGone' });
});

it("refuses to adopt a container with the sandbox's name that is not berth's", async () => {
  const sandboxID = newSandboxID();
  await docker.createContainer({ name: sandboxID, Image: LOCAL_IMAGES.busybox, Cmd: ['true'], Labels: { 'berth.owner': owner } });
  await expect(acts.provisionSandbox(request(sandboxID))).rejects.toThrow(/not berth's/);
});
