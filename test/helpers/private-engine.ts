/**
 * A private Docker engine for tests that must restart an engine or register a runtime (runsc)
 * (test/helpers/second-engine.ts is the multi-host one) without
 * touching the shared one: its own unix socket, data root, exec root (and so its own
 * containerd), pid file and config file; its own default bridge (made here, with its own
 * subnet) and no iptables or masquerading, so it changes nothing on the host but its bridges.
 * Never `--bridge=none`: a dockerd started with it deletes the host's `docker0`, which the
 * shared engine uses. `stop()` removes its containers, networks, bridge and folder.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);

export interface PrivateEngineOptions {
  /** Runtimes to register (daemon.json `runtimes`), e.g. runsc with its arguments. */
  runtimes?: Record<string, { path: string; runtimeArgs?: string[] }>;
  /** `--experimental` (docker checkpoint needs it). */
  experimental?: boolean;
}

export interface PrivateEngine {
  /** Its unix socket path (BERTH's DOCKER_SOCKET). */
  socket: string;
  /** `unix://…`, for DOCKER_HOST. */
  dockerHost: string;
  docker: Docker;
  /** Its folder (data root, exec root, logs). */
  dir: string;
  /** Copies images from the shared engine (`docker save | docker load`). */
  loadImages(...refs: string[]): Promise<void>;
  /** Stops the engine (as a host shutdown would: containers are stopped) and starts it again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateEngine(options: PrivateEngineOptions = {}): Promise<PrivateEngine> {
  // Short: containerd's socket lives under the exec root and unix socket paths are limited to 108 bytes.
  const dir = `/tmp/bde-${randomBytes(4).toString('hex')}`;
  mkdirSync(dir, { recursive: true });
  const socket = `${dir}/docker.sock`;
  const hex = randomBytes(3).toString('hex');
  const bridge = `bde${hex}`;
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `10.216.${parseInt(hex.slice(0, 2), 16)}.1/24`, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
  const config = { ...(options.runtimes ? { runtimes: options.runtimes } : {}), ...(options.experimental ? { experimental: true } : {}) };
  writeFileSync(`${dir}/daemon.json`, JSON.stringify(config));
  const args = [
    `--host=unix://${socket}`,
    `--data-root=${dir}/data`,
    `--exec-root=${dir}/exec`,
    `--pidfile=${dir}/dockerd.pid`,
    `--config-file=${dir}/daemon.json`,
    `--bridge=${bridge}`,
    '--iptables=false',
    '--ip-masq=false',
  ];
  const docker = new Docker({ socketPath: socket });
  let daemon: ChildProcess | undefined;

  async function start(): Promise<void> {
    const log = `${dir}/dockerd.log`;
    const out = openSync(log, 'a');
    daemon = spawn('dockerd', args, { stdio: ['ignore', out, out] });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await docker.ping();
        return;
      } catch {
        if (daemon.exitCode !== null) throw new Error(`the private dockerd exited (${daemon.exitCode}); see ${log}`);
        if (Date.now() > deadline) throw new Error(`the private dockerd did not answer within 60 s; see ${log}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async function halt(): Promise<void> {
    const child = daemon;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    daemon = undefined;
  }

  await start();
  return {
    socket,
    dockerHost: `unix://${socket}`,
    docker,
    dir,
    async loadImages(...refs) {
      for (const ref of refs) await run('sh', ['-c', `docker save ${ref} | DOCKER_HOST=unix://${socket} docker load`], { maxBuffer: 1024 * 1024 });
    },
    async restart() {
      await halt();
      await start();
    },
    async stop() {
      try {
        if (daemon && daemon.exitCode === null) {
          for (const c of await docker.listContainers({ all: true })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
          for (const n of await docker.listNetworks()) {
            if (!['bridge', 'host', 'none'].includes(n.Name)) await docker.getNetwork(n.Id).remove().catch(() => undefined);
          }
        }
      } finally {
        await halt();
        // Anything the engine left mounted under its folder goes before the folder does.
        await run('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        await run('ip', ['link', 'del', bridge]).catch(() => undefined);
      }
    },
  };
}
