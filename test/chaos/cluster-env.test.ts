/**
 * The chaos cluster's API once could not start in CI: it listened for envd on the default port
 * 49983, which `npm run up` (test/e2e/up.test.ts, run beside it) held, so it exited and the
 * smoke waited 180 s for a ready API. Every listener of the cluster now gets a port of its own.
 */
import { expect, it } from 'vitest';
import { clusterEnv } from '../../chaos/lib/cluster.js';
import { loadConfig } from '../../src/config.js';

it("gives every listener of the chaos cluster its own port, none of berth's defaults", () => {
  const ports = { temporal: 41001, ui: 41002, api: 41003, envd: 41004, workerMetrics: 41005 };
  const config = loadConfig(clusterEnv({ dir: '/tmp/chaos-env-test', runId: 'r1', ports, apiKey: 'chaos-key-test' }));
  const defaults = loadConfig({ BERTH_API_KEYS: 'chaos-key-test:o', BERTH_SECRET_KEY: 'a'.repeat(64) });
  const listeners = {
    api: config.api.port,
    envd: config.e2bEnvd.port,
    workerMetrics: Number(config.workerMetrics.bindAddress.split(':').pop()),
  };
  expect(listeners).toEqual({ api: ports.api, envd: ports.envd, workerMetrics: ports.workerMetrics });
  expect(config.workerMetrics.scrapeUrl).toBe(`http://127.0.0.1:${ports.workerMetrics}/metrics`);
  expect(config.e2bEnvd.port).not.toBe(defaults.e2bEnvd.port);
  expect(config.workerMetrics.bindAddress).not.toBe(defaults.workerMetrics.bindAddress);
});
