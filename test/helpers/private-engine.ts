/**
 * A private Docker engine on this machine, for tests that need a second Docker host, must
 * restart or kill an engine, or register a runtime (runsc), without touching the shared one.
 * Everything it owns is its own: a unix socket, data root, exec root (and so its own
 * containerd), pid file and config file under a short folder in /tmp; its own default bridge
 * (a Linux bridge made here, 10.214.x.1/24, given as `--bridge`) and no iptables or
 * masquerading of Docker's own (the shared engine's chains stay untouched). Never
 * `--bridge=none`: a dockerd started that way deletes the machine's `docker0`, the shared
 * engine's bridge. berth's network on it gets its own name and subnet (10.215.x.0/24, see
 * {@link PrivateEngine.networkEnv}); both subnets are picked free on this machine. Images come
 * from the shared engine with `docker save | docker load`. `stop()` removes its containers,
 * networks, bridges, mounts and folder; it never stops, restarts or reconfigures the shared engine.
 */
import { execFile, execSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);

export interface PrivateEngineOptions {
  /** Images to copy in from the shared engine at start. */
  images?: string[];
  /** Runtimes to register (daemon.json `runtimes`), e.g. runsc with its arguments. */
  runtimes?: Record<string, { path: string; runtimeArgs?: string[] }>;
  /** `--experimental` (docker checkpoint needs it). */
  experimental?: boolean;
}

export interface PrivateEngine {
  /** Its unix socket path (berth's DOCKER_SOCKET). */
  socket: string;
  /** `unix://…`, for DOCKER_HOST and BERTH_DOCKER_HOSTS. */
  dockerHost: string;
  docker: Docker;
  /** Its folder (data root, exec root, logs). */
  dir: string;
  /** The engine's identity as berth's worker records it (`docker info` ID and data root). */
  engineID: string;
  /** Env for berth on this engine: its socket, and a berth network name and subnet of its own. */
  networkEnv: { DOCKER_SOCKET: string; BERTH_NETWORK_NAME: string; BERTH_NETWORK_SUBNET: string };
  /** Copies images from the shared engine (`docker save | docker load`). */
  loadImages(...refs: string[]): Promise<void>;
  /** Kills the engine as a lost machine dies (its containers' processes, dockerd, containerd: SIGKILL); leaves its files. */
  kill(): Promise<void>;
  /** Stops the engine if it runs (SIGTERM: as a host shutdown, containers are stopped) and starts it again on the same data root. */
  restart(): Promise<void>;
  /** Removes every container and network, the engine, its bridges and its folder. */
  stop(): Promise<void>;
}

/** Subnets not in use on this machine (so runs side by side do not clash): the engine's bridge and berth's network. */
function pickNetworks(): { engineBridge: string; engineAddress: string; name: string; subnet: string } {
  const inUse = execSync('ip -4 -o addr show', { encoding: 'utf8' });
  for (;;) {
    const third = 1 + ((randomBytes(1)[0] ?? 0) % 250);
    if (inUse.includes(` 10.214.${third}.`) || inUse.includes(` 10.215.${third}.`)) continue;
    const suffix = randomBytes(3).toString('hex');
    return { engineBridge: `bde${suffix}`, engineAddress: `10.214.${third}.1/24`, name: `bdn${suffix}`, subnet: `10.215.${third}.0/24` };
  }
}

/** Still running: a child killed by a signal has `signalCode` set and `exitCode` null. */
function running(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

function killPid(pid: number | null): void {
  if (!pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function pidFrom(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export async function startPrivateEngine(options: PrivateEngineOptions = {}): Promise<PrivateEngine> {
  // Short: containerd's socket lives under the exec root and unix socket paths are limited to 108 bytes.
  const dir = `/tmp/bde-${randomBytes(4).toString('hex')}`;
  mkdirSync(dir, { recursive: true });
  const socket = `${dir}/docker.sock`;
  const logFile = `${dir}/dockerd.log`;
  const { engineBridge, engineAddress, name, subnet } = pickNetworks();
  await run('ip', ['link', 'add', engineBridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', engineAddress, 'dev', engineBridge]);
  await run('ip', ['link', 'set', engineBridge, 'up']);
  const config = { ...(options.runtimes ? { runtimes: options.runtimes } : {}), ...(options.experimental ? { experimental: true } : {}) };
  writeFileSync(`${dir}/daemon.json`, JSON.stringify(config));
  const args = [
    `--host=unix://${socket}`,
    `--data-root=${dir}/data`,
    `--exec-root=${dir}/exec`,
    `--pidfile=${dir}/dockerd.pid`,
    `--config-file=${dir}/daemon.json`,
    `--bridge=${engineBridge}`,
    '--iptables=false',
    '--ip-masq=false',
    '--userland-proxy=false',
    '--storage-driver=overlay2',
  ];
  const docker = new Docker({ socketPath: socket });
  let daemon: ChildProcess | undefined;

  async function start(): Promise<void> {
    const child = spawn('dockerd', args, { stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')] });
    daemon = child;
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await docker.ping();
        return;
      } catch {
        const tail = () => readFileSync(logFile, 'utf8').slice(-3000);
        if (!running(child)) throw new Error(`the private dockerd exited (${child.exitCode ?? child.signalCode}):\n${tail()}`);
        if (Date.now() > deadline) throw new Error(`the private dockerd did not answer within 60 s:\n${tail()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async function halt(): Promise<void> {
    const child = daemon;
    if (!child || !running(child)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (running(child)) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  async function kill(): Promise<void> {
    const child = daemon;
    if (!child || !running(child)) return;
    // A lost machine takes its containers with it: their processes (by pid, from this engine's
    // own inspect), then dockerd, then its managed containerd (by its pid file).
    for (const c of await docker.listContainers().catch(() => [])) {
      killPid((await docker.getContainer(c.Id).inspect().catch(() => null))?.State.Pid ?? null);
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    killPid(pidFrom(`${dir}/exec/containerd/containerd.pid`));
  }

  async function loadImages(...refs: string[]): Promise<void> {
    for (const ref of refs) await run('sh', ['-c', `docker save ${ref} | DOCKER_HOST=unix://${socket} docker load`], { maxBuffer: 1024 * 1024 });
  }

  async function stop(): Promise<void> {
    try {
      if (running(daemon)) {
        for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
        for (const n of await docker.listNetworks().catch(() => [])) {
          if (!['bridge', 'host', 'none'].includes(n.Name)) await docker.getNetwork(n.Id).remove().catch(() => undefined);
        }
      }
    } finally {
      await halt();
      killPid(pidFrom(`${dir}/exec/containerd/containerd.pid`));
      // Anything the engine left mounted under its folder goes before the folder does.
      await run('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      // Its bridges: the engine's own, and berth's network on it (left behind by a killed engine).
      for (const bridge of [name, engineBridge]) await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    }
  }

  try {
    await start();
    await loadImages(...(options.images ?? []));
  } catch (err) {
    await stop();
    throw err;
  }
  // Docker 20.10 derives ID from /etc/docker/key.json (shared by every engine on this machine); the data root tells them apart.
  const info = (await docker.info()) as { ID: string; DockerRootDir: string };
  return {
    socket,
    dockerHost: `unix://${socket}`,
    docker,
    dir,
    engineID: `${info.ID}@${info.DockerRootDir}`,
    networkEnv: { DOCKER_SOCKET: socket, BERTH_NETWORK_NAME: name, BERTH_NETWORK_SUBNET: subnet },
    loadImages,
    kill,
    async restart() {
      await halt();
      await start();
    },
    stop,
  };
}
