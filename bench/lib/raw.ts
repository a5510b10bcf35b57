/**
 * The floor: the same operations straight on the Docker engine with dockerode, the same
 * image and the same hardened container spec berth uses (src/activities/container-spec.ts).
 */
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { containerSpec } from '../../src/activities/container-spec.js';
import { LABELS } from '../../src/docker/labels.js';

export const BENCH_IMAGE = 'berth/busybox:1';
export const BENCH_TEMPLATE = 'tiny';
/** Extra label on every floor container so cleanup finds them. */
export const BENCH_LABEL = 'berth.bench';

export class RawDocker {
  constructor(
    readonly docker: Docker,
    readonly runId: string,
    /** berth's sandbox network (e.g. berth0), so the floor pays the same bridge as berth's sandboxes. */
    readonly networkName: string,
  ) {}

  get owner(): string {
    return `bench-${this.runId}-raw`;
  }

  /** docker create + start with berth's spec for template `tiny` (0.5 CPU, 64 MB). */
  async createAndStart(): Promise<string> {
    const name = `bench-raw-${randomBytes(8).toString('hex')}`;
    const spec = containerSpec(
      { sandboxID: name, owner: this.owner, templateID: BENCH_TEMPLATE, image: BENCH_IMAGE, resources: { cpu: 0.5, memoryMB: 64 } },
      // The raw floor: berth's sandbox network (the same bridge), but no packet-filter rules to install.
      { pidsLimit: 512, envs: {}, networkName: this.networkName, blockedCidrs: [] },
    );
    // Not a sandbox to any berth worker on this engine: without berth.sandbox / berth.managed no
    // worker's rule restore or reconciler takes it for one of its sandboxes (on berth's network,
    // a restore tried to install a chain named after it and failed, stopping that worker's start).
    const { [LABELS.sandbox]: _sandbox, [LABELS.managed]: _managed, ...labels } = spec.Labels ?? {};
    spec.Labels = { ...labels, [BENCH_LABEL]: this.runId };
    const container = await this.docker.createContainer(spec);
    await container.start();
    return name;
  }

  async remove(name: string): Promise<void> {
    await this.docker.getContainer(name).remove({ force: true, v: true });
  }

  pause(name: string): Promise<unknown> {
    return this.docker.getContainer(name).pause();
  }

  unpause(name: string): Promise<unknown> {
    return this.docker.getContainer(name).unpause();
  }

  inspect(name: string): Promise<Docker.ContainerInspectInfo> {
    return this.docker.getContainer(name).inspect();
  }

  /** A raw exec round trip: create, start attached, demultiplex, wait for the end, read the exit code. */
  async exec(name: string, cmd: string[]): Promise<{ exitCode: number | null; stdoutBytes: number }> {
    const exec = await this.docker.getContainer(name).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = (await exec.start({ hijack: true, stdin: false })) as Readable;
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let stdoutBytes = 0;
    stdout.on('data', (c: Buffer) => (stdoutBytes += c.length));
    stderr.resume();
    this.docker.modem.demuxStream(stream, stdout, stderr);
    await new Promise<void>((resolve, reject) => {
      stream.once('end', () => resolve());
      stream.once('close', () => resolve());
      stream.once('error', reject);
    });
    const info = await exec.inspect();
    return { exitCode: info.ExitCode, stdoutBytes };
  }

  /** Writes `data` as `dir/file` through the archive API (PUT /containers/{id}/archive). */
  async putFile(name: string, dir: string, file: string, data: Buffer): Promise<void> {
    await this.docker.getContainer(name).putArchive(tarOf(file, data), { path: dir });
  }

  /** Reads a file through the archive API; returns the tar stream's byte count. */
  async getFile(name: string, filePath: string): Promise<number> {
    const stream = (await this.docker.getContainer(name).getArchive({ path: filePath })) as unknown as Readable;
    let bytes = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) bytes += chunk.length;
    return bytes;
  }
}

/** A one-file ustar archive. */
export function tarOf(file: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512, 0);
  header.write(file, 0, 100, 'utf8');
  header.write('0000644\0', 100, 8, 'ascii');
  header.write('0000000\0', 108, 8, 'ascii');
  header.write('0000000\0', 116, 8, 'ascii');
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  header.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136, 12, 'ascii');
  header.write('        ', 148, 8, 'ascii');
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512, 0);
  return Buffer.concat([header, data, pad, Buffer.alloc(1024, 0)]);
}

/**
 * Removes every container this run created, berth's and the floor's. With `runId` null:
 * those of earlier bench runs that died, i.e. bench containers older than two hours (a
 * younger one may belong to a bench running right now, e.g. the smoke test of `npm test`).
 */
export async function cleanupContainers(docker: Docker, runId: string | null): Promise<number> {
  // berth's sandboxes of the bench owner (managed) and the floor's containers (bench label).
  const [managed, floor] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`] } }),
    docker.listContainers({ all: true, filters: { label: [BENCH_LABEL] } }),
  ]);
  const containers = [...new Map([...managed, ...floor].map((c) => [c.Id, c])).values()];
  const prefix = runId ? `bench-${runId}` : 'bench-';
  const staleBefore = Date.now() / 1000 - 2 * 3600;
  // By owner, or by task queue: warm-pool containers (claimed or not) carry no owner label.
  const ours = (c: Docker.ContainerInfo) => (c.Labels[LABELS.owner] ?? '').startsWith(prefix) || (c.Labels[LABELS.queue] ?? '').startsWith(`berth-${prefix}`);
  const mine = containers.filter((c) => ours(c) && (runId !== null || c.Created < staleBefore));
  let removed = 0;
  for (let i = 0; i < mine.length; i += 16) {
    await Promise.all(
      mine.slice(i, i + 16).map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .then(() => removed++)
          .catch(() => undefined),
      ),
    );
  }
  return removed;
}
