/**
 * The floor's containers join berth's sandbox network (same bridge as the sandboxes), but
 * they are not sandboxes: a berth worker starting on the same engine while a bench runs must
 * not take them for its own. Before, they carried berth.sandbox, so every worker's rule
 * restore tried to install a chain named after one (`BERTH-bench-raw-…`, too long for
 * iptables) and failed its start-up.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { cleanupContainers, RawDocker } from '../../bench/lib/raw.js';
import { loadConfig } from '../../src/config.js';
import { createDockerClient } from '../../src/docker/client.js';
import { createLogger } from '../../src/logger.js';
import { createSandboxNetwork } from '../../src/network/sandbox-network.js';

const docker = createDockerClient('/var/run/docker.sock');
const runId = randomBytes(4).toString('hex');
const config = loadConfig({ BERTH_API_KEYS: 'floor-test-key:floor', BERTH_SECRET_KEY: '0'.repeat(64) });
const network = createSandboxNetwork({ docker, config: config.network, logger: createLogger('silent', 'floor-test') });

afterAll(async () => {
  await cleanupContainers(docker, runId);
});

it("a worker's rule restore ignores the floor's containers on berth's network, and the bench's clean-up removes them", async () => {
  await network.prepare();
  const raw = new RawDocker(docker, runId, network.name);
  const name = await raw.createAndStart();
  const info = await raw.inspect(name);
  expect(Object.keys(info.NetworkSettings.Networks)).toEqual([network.name]);
  await expect(network.restore()).resolves.toBeDefined();
  expect(await cleanupContainers(docker, runId)).toBe(1);
  await expect(raw.inspect(name)).rejects.toMatchObject({ statusCode: 404 });
});
