/**
 * A second Docker engine on this machine, started (and removed) by the tests that need two
 * Docker hosts. Everything it owns is its own: a Unix socket, data root, exec root and pid file
 * under a temp dir, its own default bridge (a Linux bridge this helper creates, with its own
 * 10.214.x.1/24 subnet, given as `--bridge`), and no iptables rules of Docker's own
 * (`--iptables=false`: the shared engine's chains stay untouched). Never `--bridge none`: a
 * dockerd started that way deletes the machine's `docker0`, the shared engine's bridge. berth
 * gives its sandboxes their own bridge and subnet too (BERTH_NETWORK_NAME / BERTH_NETWORK_SUBNET,
 * see {@link SecondEngine.networkEnv}). The images berth's tests use are copied in with
 * `docker save | docker load`. It never stops, restarts or reconfigures the shared engine.
 */
import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { LOCAL_IMAGES } from '../../src/templates.js';

export interface SecondEngine {
  socketPath: string;
  docker: Docker;
  /** The engine's identity as berth's worker records it (`docker info` ID and data root). */
  engineID: string;
  /** Env for a berth worker on this engine: its socket, its own bridge name and subnet. */
  networkEnv: Record<string, string>;
  /** Kills the engine (SIGKILL, as a lost host) and leaves its files; `stop` removes them. */
  kill(): Promise<void>;
  /** Starts the killed engine again on the same data root (its containers come back stopped). */
  restart(): Promise<void>;
  /** Removes every container, the network, the engine process and its directory. */
  stop(): Promise<void>;
}

/** Bridge names and subnets of their own, not in use on this machine, so two runs side by side do not clash. */
function pickNetworks(): { engineBridge: string; engineAddress: string; name: string; subnet: string } {
  const inUse = execSync('ip -4 -o addr show', { encoding: 'utf8' });
  for (;;) {
    const third = 1 + ((randomBytes(1)[0] ?? 0) % 250);
    if (inUse.includes(` 10.214.${third}.`) || inUse.includes(` 10.215.${third}.`)) continue;
    const suffix = randomBytes(3).toString('hex');
    return { engineBridge: `be2-${suffix}`, engineAddress: `10.214.${third}.1/24`, name: `bs2-${suffix}`, subnet: `10.215.${third}.0/24` };
  }
}

async function waitForPing(docker: Docker, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the second dockerd exited (${child.exitCode}):\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
    try {
      await docker.ping();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`the second dockerd did not answer within 60 s:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

function run(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} failed (${code}): ${stderr}`))));
  });
}

export async function startSecondEngine(images: string[] = [LOCAL_IMAGES.busybox]): Promise<SecondEngine> {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-engine2-'));
  const socketPath = path.join(dir, 'docker.sock');
  const logFile = path.join(dir, 'dockerd.log');
  const { engineBridge, engineAddress, name, subnet } = pickNetworks();
  await run(`ip link add ${engineBridge} type bridge && ip addr add ${engineAddress} dev ${engineBridge} && ip link set ${engineBridge} up`);
  const args = [
    '--host', `unix://${socketPath}`,
    '--data-root', path.join(dir, 'data'),
    '--exec-root', path.join(dir, 'exec'),
    '--pidfile', path.join(dir, 'docker.pid'),
    '--bridge', engineBridge,
    '--iptables=false',
    '--ip-masq=false',
    '--userland-proxy=false',
    '--storage-driver', 'overlay2',
  ];
  let child: ChildProcess | undefined;
  const docker = new Docker({ socketPath });

  async function start(): Promise<void> {
    const log = openSync(logFile, 'a');
    child = spawn('dockerd', args, { stdio: ['ignore', log, log], detached: false });
    await waitForPing(docker, child, logFile);
  }
  /** A pid from one of this engine's own pid files (its managed containerd), or null. */
  function pidFrom(file: string): number | null {
    try {
      const pid = Number(readFileSync(file, 'utf8').trim());
      return pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }
  function killPid(pid: number): void {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  async function kill(): Promise<void> {
    const current = child;
    if (!current || current.exitCode !== null) return;
    // A lost machine takes its containers with it: their processes (by pid, from this engine's
    // own inspect), then dockerd, then its managed containerd (by its pid file).
    const containers = await docker.listContainers().catch(() => []);
    for (const c of containers) {
      const pid = (await docker.getContainer(c.Id).inspect().catch(() => null))?.State.Pid;
      if (pid) killPid(pid);
    }
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill('SIGKILL');
    await exited;
    const containerd = pidFrom(path.join(dir, 'exec', 'containerd', 'containerd.pid'));
    if (containerd) killPid(containerd);
  }

  await start();
  for (const image of images) await run(`docker save ${image} | docker -H unix://${socketPath} load`);
  // Docker 20.10 derives ID from /etc/docker/key.json (shared by both engines here); the data root tells them apart.
  const info = await docker.info();
  const engineID = `${String(info.ID)}@${String(info.DockerRootDir)}`;
  return {
    socketPath,
    docker,
    engineID,
    networkEnv: { DOCKER_SOCKET: socketPath, BERTH_NETWORK_NAME: name, BERTH_NETWORK_SUBNET: subnet },
    kill,
    restart: start,
    async stop() {
      if (child && child.exitCode === null) {
        const containers = await docker.listContainers({ all: true }).catch(() => []);
        await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
        await docker.getNetwork(name).remove().catch(() => undefined);
        const current = child;
        const exited = new Promise((resolve) => current.once('exit', resolve));
        current.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      }
      await kill();
      // Its bridges: the engine's own, and berth's network on it (left behind by a killed engine).
      for (const bridge of [name, engineBridge]) await run(`ip link show ${bridge} >/dev/null 2>&1 && ip link delete ${bridge} || true`).catch(() => undefined);
      await run(`umount -R ${JSON.stringify(path.join(dir, 'exec'))} 2>/dev/null; umount -R ${JSON.stringify(path.join(dir, 'data'))} 2>/dev/null; true`).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
