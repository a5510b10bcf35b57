/**
 * Pause and resume call the engine first and inspect only when it refuses: the answers a
 * user sees must be the same as with an inspect first (real engine).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { freezeContainer, thawContainer } from '../../src/activities/freeze.js';
import { loadConfig } from '../../src/config.js';
import { createDockerClient } from '../../src/docker/client.js';
import { newSandboxID } from '../../src/ids.js';
import { createLogger } from '../../src/logger.js';
import { LOCAL_IMAGES } from '../../src/templates.js';

const docker = createDockerClient('/var/run/docker.sock');
const owner = `test-freeze-${randomBytes(3).toString('hex')}`;
const acts = createActivities({
  docker,
  logger: createLogger('silent', 'freeze-test'),
  config: {
    hostName: 'freeze-host',
    secretKeyHex: randomBytes(32).toString('hex'),
    limits: { pidsLimit: 64 },
    network: loadConfig({ BERTH_API_KEYS: 'freeze-test-key:act', BERTH_SECRET_KEY: '0'.repeat(64) }).network,
  },
});
const request = (sandboxID: string) => ({ sandboxID, owner, templateID: 'tiny', image: LOCAL_IMAGES.busybox, resources: { cpu: 0.5, memoryMB: 32 } });

afterAll(async () => {
  const containers = await docker.listContainers({ all: true, filters: { label: [`berth.owner=${owner}`] } });
  await Promise.all(containers.map((c) => acts.destroySandbox({ sandboxID: c.Labels['berth.sandbox'] ?? c.Id })));
});

it('pauses and resumes a running sandbox, and a repeat is a no-op', async () => {
  const sandboxID = newSandboxID();
  await acts.provisionSandbox(request(sandboxID));
  await acts.pauseSandbox({ sandboxID, mode: 'freeze' });
  expect((await docker.getContainer(sandboxID).inspect()).State.Paused).toBe(true);
  expect(await freezeContainer(docker, sandboxID)).toEqual({ kind: 'done' });
  await acts.resumeSandbox({ sandboxID });
  const state = (await docker.getContainer(sandboxID).inspect()).State;
  expect(state.Paused).toBe(false);
  expect(state.Running).toBe(true);
  expect(await thawContainer(docker, sandboxID)).toEqual({ kind: 'done' });
});

it('a sandbox whose container exited is gone for pause and for resume, not paused or resumed', async () => {
  const sandboxID = newSandboxID();
  await acts.provisionSandbox(request(sandboxID));
  await docker.getContainer(sandboxID).kill();
  await docker.getContainer(sandboxID).wait();
  await expect(acts.pauseSandbox({ sandboxID, mode: 'freeze' })).rejects.toMatchObject({ type: 'ContainerGone', message: expect.stringContaining('has exited') });
  await expect(acts.resumeSandbox({ sandboxID })).rejects.toMatchObject({ type: 'ContainerGone', message: expect.stringContaining('has exited') });
  expect(await freezeContainer(docker, sandboxID)).toMatchObject({ kind: 'exited' });
});

it('a sandbox whose container was removed is gone for pause and for resume', async () => {
  const sandboxID = newSandboxID();
  await expect(acts.pauseSandbox({ sandboxID, mode: 'freeze' })).rejects.toMatchObject({ type: 'ContainerGone' });
  await expect(acts.resumeSandbox({ sandboxID })).rejects.toMatchObject({ type: 'ContainerGone' });
  expect(await thawContainer(docker, sandboxID)).toEqual({ kind: 'missing' });
});

it("a local pause or resume that reaches another host's worker refuses without touching the container", async () => {
  const sandboxID = newSandboxID();
  await acts.provisionSandbox(request(sandboxID));
  await expect(acts.pauseSandbox({ sandboxID, mode: 'freeze', onHost: 'another-host' })).rejects.toMatchObject({ type: 'WrongHost' });
  expect((await docker.getContainer(sandboxID).inspect()).State.Paused).toBe(false);
  await acts.pauseSandbox({ sandboxID, mode: 'freeze', onHost: 'freeze-host' });
  expect((await docker.getContainer(sandboxID).inspect()).State.Paused).toBe(true);
  await expect(acts.resumeSandbox({ sandboxID, onHost: 'another-host' })).rejects.toMatchObject({ type: 'WrongHost' });
  expect((await docker.getContainer(sandboxID).inspect()).State.Paused).toBe(true);
});
