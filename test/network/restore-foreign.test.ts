/**
 * A worker's start-up rebuilds the packet-filter rules of every berth container on its network.
 * A container labelled berth.managed by something else (a benchmark's raw container named
 * `bench-raw-…`) is no sandbox: its "chain" name would be too long for iptables and the whole
 * start-up failed. Pure: a fake engine and a recording firewall.
 */
import type Docker from 'dockerode';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import type { Firewall } from '../../src/network/firewall.js';
import { createSandboxNetwork } from '../../src/network/sandbox-network.js';

it('restores the rules of sandboxes only, not of other berth-labelled containers', async () => {
  const SANDBOX = 'abcdefghij0123456789';
  const container = (id: string, ip: string) => ({ Labels: { 'berth.managed': 'true', 'berth.sandbox': id }, NetworkSettings: { Networks: { berth0: { IPAddress: ip } } } });
  const docker = {
    getNetwork: () => ({ inspect: async () => ({ IPAM: { Config: [{ Subnet: '10.213.0.0/16' }] }, Options: { 'com.docker.network.bridge.name': 'berth0' } }) }),
    listContainers: async () => [container(SANDBOX, '10.213.0.2'), container('bench-raw-c56bf26e08ce34da', '10.213.0.3')],
  } as unknown as Docker;
  const installed: string[] = [];
  const firewall: Firewall = {
    async prepare() {},
    async install(id) {
      if (`BERTH-${id}`.length > 28) throw new Error(`chain name BERTH-${id} too long`);
      installed.push(id);
    },
    async remove() {},
    async sandboxesWithRules() {
      return [];
    },
    prefetch() {},
  };
  const network = createSandboxNetwork({ docker, config: { name: 'berth0', subnet: '10.213.0.0/16', blockedCidrs: [], enforce: true, dnsServers: [] }, logger: createLogger('silent', 't'), firewall });
  expect(await network.restore()).toEqual({ restored: 1, removed: 0 });
  expect(installed).toEqual([SANDBOX]);
});
