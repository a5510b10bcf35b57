/**
 * Two test files (or two workers on one host) starting at once both found no `berth0` and both
 * created it: the engine refused the second create ("Pool overlaps with other one on this
 * address space", 403) while the first one's network was not yet visible by name, and the
 * second worker failed to start (a CI run lost test/sdk/typescript-sdk.test.ts this way). A
 * stand-in engine that shows the concurrent creator's network only a moment later, then the real
 * engine with a network of the test's own (the last test fails there without the wait).
 */
import type Docker from 'dockerode';
import { expect, it } from 'vitest';
import { createDockerClient } from '../../src/docker/client.js';
import { createLogger } from '../../src/logger.js';
import { NO_FIREWALL } from '../../src/network/firewall.js';
import { createSandboxNetwork } from '../../src/network/sandbox-network.js';

const config = { name: 'berth0', subnet: '10.213.0.0/16', blockedCidrs: [], enforce: false, dnsServers: [] };
const made = { Name: 'berth0', IPAM: { Config: [{ Subnet: config.subnet }] }, Options: { 'com.docker.network.bridge.name': 'berth0' } };

function engine(visibleAfterMs: number | null): Docker {
  let refusedAt = 0;
  const notFound = Object.assign(new Error('(HTTP code 404) no such network'), { statusCode: 404 });
  return {
    getNetwork: () => ({
      inspect: async () => {
        if (refusedAt && visibleAfterMs !== null && Date.now() - refusedAt >= visibleAfterMs) return made;
        throw notFound;
      },
    }),
    createNetwork: async () => {
      refusedAt = Date.now();
      throw Object.assign(new Error('(HTTP code 403) unexpected - Pool overlaps with other one on this address space'), { statusCode: 403 });
    },
  } as unknown as Docker;
}

it("waits for a concurrent creator's network when the engine refuses its own create", async () => {
  const network = createSandboxNetwork({ docker: engine(300), config, logger: createLogger('silent', 't'), firewall: NO_FIREWALL });
  await expect(network.prepare()).resolves.toBeUndefined();
});

it("still fails, with the engine's reason, when no network ever shows up", async () => {
  const network = createSandboxNetwork({ docker: engine(null), config, logger: createLogger('silent', 't'), firewall: NO_FIREWALL });
  await expect(network.prepare()).rejects.toThrow(/could not create Docker network berth0 \(10\.213\.0\.0\/16\): .*Pool overlaps/);
}, 20_000);

it('lets two workers on the real engine prepare the same new network at once', async () => {
  const docker = createDockerClient(process.env.DOCKER_SOCKET ?? '/var/run/docker.sock');
  const race = { ...config, name: 'berthrace0', subnet: '10.252.0.0/16' };
  const drop = () => docker.getNetwork(race.name).remove().catch(() => undefined);
  await drop();
  try {
    for (let round = 0; round < 3; round++) {
      const workers = [0, 1].map(() => createSandboxNetwork({ docker, config: race, logger: createLogger('silent', 't'), firewall: NO_FIREWALL }));
      const results = await Promise.allSettled(workers.map((w) => w.prepare()));
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(['ok', 'ok']);
      await drop();
    }
  } finally {
    await drop();
  }
}, 60_000);
