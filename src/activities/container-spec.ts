import type Docker from 'dockerode';
import { DEFAULT_NETWORK_POLICY, NETWORK_LABELS } from '../network/policy.js';
import type { ProvisionRequest } from '../workflows/definitions.js';
import { LABELS } from '../docker/labels.js';
import { AGENT_BINARY_IN_SANDBOX, AGENT_DIR_IN_SANDBOX } from '../docker/agent.js';

/**
 * Capabilities a sandbox keeps; everything else is dropped. This is the set an ordinary
 * shell session needs: change file owners and modes (CHOWN, DAC_OVERRIDE, FOWNER, FSETID),
 * switch users (SETUID, SETGID), signal its own processes (KILL) and bind ports below
 * 1024 (NET_BIND_SERVICE). Not kept: NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP,
 * SETPCAP and every admin capability.
 */
export const SANDBOX_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'NET_BIND_SERVICE'];

/** PID 1 of a sandbox: waits forever, exits promptly on SIGTERM, runs anywhere `/bin/sh` exists. */
export const KEEPALIVE_COMMAND = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

/**
 * PID 1 of a sandbox with berth's agent (docs/agent.md): starts the agent in the background,
 * then waits like {@link KEEPALIVE_COMMAND}. The agent is not what keeps the container
 * alive: when it fails to start or dies, the sandbox runs on and berth uses docker exec.
 */
export const AGENT_KEEPALIVE_COMMAND = [
  '/bin/sh',
  '-c',
  `${AGENT_BINARY_IN_SANDBOX} serve ${AGENT_DIR_IN_SANDBOX} </dev/null >/dev/null 2>&1 & ${KEEPALIVE_COMMAND[2]}`,
];

export interface ContainerSpecOptions {
  pidsLimit: number;
  envs: Record<string, string>;
  /** berth's sandbox network (never Docker's default bridge). */
  networkName: string;
  /** Ranges blocked for every sandbox on this host when it was created (kept on the container). */
  blockedCidrs: string[];
  /** DNS servers configured when it was created (BERTH_NETWORK_DNS_SERVERS; none: the host's resolv.conf). */
  dnsServers?: string[];
  host?: string;
  taskQueue?: string;
  /** berth's agent: the host's binary and this sandbox's agent folder (both bind-mounted); none: no agent. */
  agent?: { binaryPath: string; hostDir: string };
}

/** The hardened `docker create` body for a sandbox. The container name is the sandbox ID. */
export function containerSpec(req: ProvisionRequest, options: ContainerSpecOptions): Docker.ContainerCreateOptions {
  const memoryBytes = Math.round(req.resources.memoryMB * 1024 * 1024);
  return {
    name: req.sandboxID,
    Image: req.image,
    Cmd: options.agent ? AGENT_KEEPALIVE_COMMAND : KEEPALIVE_COMMAND,
    Hostname: 'sandbox',
    Env: Object.entries(options.envs).map(([k, v]) => `${k}=${v}`),
    Labels: {
      [LABELS.managed]: 'true',
      [LABELS.sandbox]: req.sandboxID,
      [LABELS.owner]: req.owner,
      [LABELS.template]: req.templateID,
      // The egress policy lives on the container, so the worker can rebuild rules from Docker alone.
      [NETWORK_LABELS.policy]: JSON.stringify(req.network ?? DEFAULT_NETWORK_POLICY),
      [NETWORK_LABELS.blocked]: options.blockedCidrs.join(','),
      [NETWORK_LABELS.dns]: (options.dnsServers ?? []).join(','),
      ...(options.host ? { [LABELS.host]: options.host } : {}),
      ...(options.taskQueue ? { [LABELS.queue]: options.taskQueue } : {}),
    },
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    HostConfig: {
      CapDrop: ['ALL'],
      CapAdd: SANDBOX_CAPABILITIES,
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: options.pidsLimit,
      Memory: memoryBytes,
      MemorySwap: memoryBytes,
      NanoCpus: Math.round(req.resources.cpu * 1e9),
      Init: true,
      // A gVisor sandbox (runtime runsc) has no network: berth runs runsc with --network=none.
      NetworkMode: req.runtime ? 'none' : options.networkName,
      ...(req.runtime ? { Runtime: req.runtime } : {}),
      RestartPolicy: { Name: 'no' },
      Binds: options.agent ? [`${options.agent.binaryPath}:${AGENT_BINARY_IN_SANDBOX}:ro`, `${options.agent.hostDir}:${AGENT_DIR_IN_SANDBOX}`] : [],
      ...(req.volumes?.length ? { Mounts: req.volumes.map((v) => ({ Type: 'volume' as const, Source: v.volume, Target: v.mountPath, ReadOnly: v.readOnly })) } : {}),
      Privileged: false,
    },
  };
}
