/**
 * deploy/worker-host.compose.yml (a worker for an extra Docker host) and the main compose
 * file's many-host settings: one worker per host name, only the first host serves the shared
 * queue's Docker activities, and every variable is one loadConfig accepts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { hostTaskQueue } from '../../src/workflows/host-queue.js';
import { ROOT, DOCKER_SOCKET, composeVars, configKnows, serviceEnv, service, type ComposeFile } from './deploy-files.js';

const extra = parse(readFileSync(path.join(ROOT, 'deploy/worker-host.compose.yml'), 'utf8')) as ComposeFile;

describe('deploy/worker-host.compose.yml', () => {
  it('runs one worker with the Docker socket of its own host and no other service', () => {
    expect(Object.keys(extra.services)).toEqual(['worker']);
    const worker = extra.services.worker;
    expect((worker?.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0] : v.source))).toEqual([DOCKER_SOCKET]);
  });

  it('needs its own host name and the Temporal address; never serves the shared queue', () => {
    const worker = extra.services.worker as NonNullable<typeof extra.services.worker>;
    expect(() => serviceEnv(worker, { ...composeVars, TEMPORAL_ADDRESS: 'temporal.example:7233', BERTH_HOST_NAME: '' })).toThrow('BERTH_HOST_NAME');
    expect(() => serviceEnv(worker, { ...composeVars, BERTH_HOST_NAME: 'docker-host-2', TEMPORAL_ADDRESS: '' })).toThrow('TEMPORAL_ADDRESS');
    const env = serviceEnv(worker, { ...composeVars, BERTH_HOST_NAME: 'docker-host-2', TEMPORAL_ADDRESS: 'temporal.example:7233' });
    for (const key of Object.keys(env).filter((k) => /^(BERTH_|TEMPORAL_|DOCKER_)/.test(k))) expect(configKnows(key), key).toBe(true);
    const config = loadConfig(env);
    expect(config.hostName).toBe('docker-host-2');
    expect(config.hosts.sharedQueueDocker).toBe(false);
    expect(hostTaskQueue(config.temporal.taskQueue, config.hostName)).toBe('berth-host-docker-host-2');
  });

  it('the main compose file: the first host serves the shared queue; the API knows its host', () => {
    const worker = loadConfig(serviceEnv(service('worker')));
    expect(worker.hosts.sharedQueueDocker).toBe(true);
    const api = loadConfig(serviceEnv(service('api')));
    expect([...api.hosts.endpoints.keys()]).toEqual([worker.hostName]);
    expect(api.hosts.graceMs).toBe(worker.hosts.graceMs);
  });
});
