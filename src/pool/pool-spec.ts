/**
 * The `docker create` body of a warm-pool container: the same hardened spec a sandbox gets
 * (src/activities/container-spec.ts) for the template's image and default resources, with the
 * default egress policy, no env vars and no volumes; labelled as a pool container (no sandbox,
 * no owner: those are the claim's, recorded in the sandbox's workflow).
 */
import type Docker from 'dockerode';
import { containerSpec } from '../activities/container-spec.js';
import { LABELS } from '../docker/labels.js';
import { POOL_LABELS } from '../docker/pool-labels.js';
import { DEFAULT_NETWORK_POLICY } from '../network/policy.js';
import type { Template } from '../templates.js';

export interface PoolSpecOptions {
  pidsLimit: number;
  networkName: string;
  blockedCidrs: string[];
  dnsServers?: string[];
  host: string;
  taskQueue: string;
  /** The worker process making it (see POOL_LABELS.instance). */
  instanceID: string;
}

/**
 * `agent`: berth's agent mounted like a sandbox's (docs/agent.md), its folder named after the pool
 * container and without a token until the claim (src/activities/agent-dir.ts).
 */
export function poolContainerSpec(name: string, template: Template, options: PoolSpecOptions, agent?: { binaryPath: string; hostDir: string }): Docker.ContainerCreateOptions {
  const spec = containerSpec(
    {
      sandboxID: name,
      owner: '',
      templateID: template.id,
      image: template.image,
      resources: { cpu: template.cpu, memoryMB: template.memoryMB },
      network: DEFAULT_NETWORK_POLICY,
    },
    { pidsLimit: options.pidsLimit, envs: {}, networkName: options.networkName, blockedCidrs: options.blockedCidrs, dnsServers: options.dnsServers, host: options.host, taskQueue: options.taskQueue, ...(agent ? { agent } : {}) },
  );
  const labels: Record<string, string> = { ...spec.Labels, [POOL_LABELS.pool]: template.id, [POOL_LABELS.instance]: options.instanceID };
  delete labels[LABELS.sandbox];
  delete labels[LABELS.owner];
  return { ...spec, Labels: labels };
}
