/**
 * The API's Docker engines, one per host (BERTH_DOCKER_HOSTS), and a dockerode client that
 * sends each sandbox's calls to its own host's engine. The data plane (exec, files, pty, metrics,
 * port proxy) talks to the sandbox's engine directly: command output and file bytes never pass
 * through Temporal. Which host a sandbox is on comes from its workflow (the interaction gate
 * records it before every data-plane call).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import type { DockerEndpoint } from '../config.js';
import { createDockerClient } from './client.js';

/** Sandboxes whose host is remembered (an LRU-ish cap: oldest entries go first). */
const MAX_REMEMBERED = 50_000;

export class DockerHosts {
  private readonly engines = new Map<string, Docker>();
  private readonly sandboxHosts = new Map<string, string>();

  /**
   * @param endpoints host name → endpoint (config.hosts.endpoints)
   * @param defaultHost the host of sandboxes whose host is not known (created before per-host queues)
   * @param given clients to use instead of building one (tests hand in theirs)
   */
  constructor(
    endpoints: Map<string, DockerEndpoint>,
    private readonly defaultHost: string,
    tlsDir: string | undefined,
    given: Map<string, Docker> = new Map(),
  ) {
    for (const [name, endpoint] of endpoints) this.engines.set(name, given.get(name) ?? clientFor(name, endpoint, tlsDir));
    for (const [name, docker] of given) if (!this.engines.has(name)) this.engines.set(name, docker);
  }

  /** The engine of a host (throws for a host the API has no endpoint for). */
  engine(host: string): Docker {
    const docker = this.engines.get(host);
    if (!docker) throw new Error(`no Docker endpoint for host ${host}: add it to BERTH_DOCKER_HOSTS on the API`);
    return docker;
  }

  /** Records where a sandbox runs (from its workflow's info). */
  remember(sandboxID: string, host: string | null): void {
    if (!host) return;
    if (this.sandboxHosts.size >= MAX_REMEMBERED) this.sandboxHosts.delete(this.sandboxHosts.keys().next().value as string);
    this.sandboxHosts.set(sandboxID, host);
  }

  /** The engine of a sandbox's host (the default host when it is not known). */
  engineOf(sandboxID: string): Docker {
    return this.engine(this.sandboxHosts.get(sandboxID) ?? this.defaultHost);
  }

  /**
   * A dockerode client for the data plane: `getContainer(sandboxID)` goes to the sandbox's host;
   * `listContainers` lists every host's engine (the metrics sampler); anything else goes to the
   * default host.
   */
  routed(): Docker {
    const fallback = this.engine(this.defaultHost);
    return new Proxy(fallback, {
      get: (target, prop, receiver) => {
        if (prop === 'getContainer') return (id: string) => this.engineOf(id).getContainer(id);
        if (prop === 'listContainers') {
          return async (options?: Docker.ContainerListOptions) => {
            const lists = await Promise.all([...this.engines.values()].map((d) => d.listContainers(options ?? {}).catch(() => [] as Docker.ContainerInfo[])));
            return lists.flat();
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}

function clientFor(name: string, endpoint: DockerEndpoint, tlsDir: string | undefined): Docker {
  if (endpoint.kind === 'unix') return createDockerClient(endpoint.socketPath);
  if (!tlsDir) throw new Error(`host ${name} is reached over TCP: set BERTH_DOCKER_TLS_DIR (with ${name}/ca.pem, cert.pem, key.pem); berth never talks to a Docker engine over plain TCP`);
  const file = (f: string) => readFileSync(path.join(tlsDir, name, f));
  return new Docker({ protocol: 'https', host: endpoint.host, port: endpoint.port, ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem') });
}
