/**
 * The one primitive of the data plane: run a process inside a sandbox with the Docker exec
 * API, stream its stdin, stdout and stderr (binary-safe, with backpressure), and learn its
 * exit code. Every other data-plane module is built on {@link startExec}.
 */
import { PassThrough, Writable, type Readable } from 'node:stream';
import type Docker from 'dockerode';
import { dataPlaneError } from '../docker/errors.js';
import { ContainerMissingError } from '../errors.js';
import { agentStart, agentStartDetached } from './agent-client.js';
import { agentTargetFor } from './agent-route.js';

/** What to run. `cmd` is an argv (no shell unless you pass `/bin/sh -c`). */
export interface ExecOptions {
  cmd: string[];
  env?: Record<string, string>;
  /** `name`, `uid` or `uid:gid`; the image's default user when omitted. */
  user?: string;
  /** Absolute working directory; the image's default when omitted. */
  cwd?: string;
  /** Bytes to feed to stdin; stdin is closed after them (or at once when omitted). */
  stdin?: Readable | Buffer;
}

/** A started process. */
export interface ExecHandle {
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the exit code once the process ended and its output was consumed. */
  exit: Promise<number>;
  /** Drops the attachment (the process keeps running unless killed). */
  detach(): void;
}

/** Root inside the container, by number so it works without /etc/passwd. */
export const ROOT = '0';

/** The `docker exec` create body for `options`; `attach` says which streams are attached. */
export function execCreateOptions(options: Omit<ExecOptions, 'stdin'>, attach: { stdin: boolean; output: boolean }): Docker.ExecCreateOptions {
  return {
    Cmd: options.cmd,
    Env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(options.user ? { User: options.user } : {}),
    ...(options.cwd ? { WorkingDir: options.cwd } : {}),
    AttachStdin: attach.stdin,
    AttachStdout: attach.output,
    AttachStderr: attach.output,
    Tty: false,
  };
}

/**
 * Starts `options.cmd` in container `containerID`: through the sandbox's agent when it has a
 * live one (docs/agent.md), else with docker exec. Both give the same streams, exit code,
 * env, user and cwd semantics.
 */
export async function startExec(docker: Docker, containerID: string, options: ExecOptions): Promise<ExecHandle> {
  const target = agentTargetFor(docker, containerID);
  if (target) {
    const handle = await agentStart(target, options, () => exitOfLostAgent(docker, containerID));
    if (handle) return handle;
  }
  return dockerStartExec(docker, containerID, options);
}

/**
 * Starts `options.cmd` detached (no stdin, output discarded): through the agent when it can,
 * else `docker exec` with Detach.
 */
export async function startDetached(docker: Docker, containerID: string, options: Omit<ExecOptions, 'stdin'>): Promise<void> {
  const target = agentTargetFor(docker, containerID);
  if (target && (await agentStartDetached(target, options)) !== null) return;
  const exec = await docker
    .getContainer(containerID)
    .exec(execCreateOptions(options, { stdin: false, output: false }))
    .catch((err: unknown) => {
      throw dataPlaneError(err, containerID, { exec: true });
    });
  await exec.start({ Detach: true }).catch((err: unknown) => {
    throw dataPlaneError(err, containerID, { exec: true });
  });
}

/** The agent's connection ended without an exit code: the container's fate decides (gone: the same error docker exec gives; else -1). */
async function exitOfLostAgent(docker: Docker, containerID: string): Promise<number> {
  const info = await docker
    .getContainer(containerID)
    .inspect()
    .catch((err: unknown) => {
      throw dataPlaneError(err, containerID, { exec: true });
    });
  if (!info.State.Running) throw new ContainerMissingError(containerID, `sandbox ${containerID} is not running (its container exited); it is being stopped (container_lost)`);
  return -1;
}

/** Starts `options.cmd` in container `containerID` with the Docker exec API. */
export async function dockerStartExec(docker: Docker, containerID: string, options: ExecOptions): Promise<ExecHandle> {
  const container = docker.getContainer(containerID);
  const withStdin = options.stdin !== undefined;
  const exec = await container
    .exec(execCreateOptions(options, { stdin: withStdin, output: true }))
    .catch((err: unknown) => {
      throw dataPlaneError(err, containerID, { exec: true });
    });
  const socket = (await exec.start({ hijack: true, stdin: withStdin }).catch((err: unknown) => {
    throw dataPlaneError(err, containerID, { exec: true });
  })) as NodeJS.ReadWriteStream & { destroy(): void };

  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const demux = demuxer(stdout, stderr);
  socket.pipe(demux);
  const ended = new Promise<void>((resolve) => {
    demux.on('finish', resolve);
    const finish = () => {
      if (!demux.writableEnded) demux.end();
    };
    socket.on('error', finish);
    socket.on('close', finish);
  });

  if (options.stdin !== undefined) {
    const input = options.stdin;
    if (Buffer.isBuffer(input)) {
      socket.end(input);
    } else {
      // An input that breaks off (client aborted an upload) closes stdin without EOF semantics
      // being trusted: the attachment is dropped and callers check completeness themselves.
      input.on('error', () => socket.destroy());
      input.on('close', () => {
        if (!input.readableEnded) socket.destroy();
      });
      input.pipe(socket as unknown as Writable);
    }
  }

  const exit = ended.then(async () => {
    stdout.end();
    stderr.end();
    for (let i = 0; i < 100; i++) {
      const info = await exec.inspect();
      if (!info.Running && info.ExitCode !== null) return info.ExitCode;
      await new Promise((r) => setTimeout(r, 20));
    }
    return -1;
  });
  return {
    stdout,
    stderr,
    exit,
    detach: () => socket.destroy(),
  };
}

/**
 * Parses Docker's multiplexed attach stream (8-byte frame headers: stream, 0, 0, 0, size)
 * into two streams, waiting for a full consumer before reading on (backpressure).
 */
export function demuxer(stdout: PassThrough, stderr: PassThrough): Writable {
  let pending = Buffer.alloc(0);
  let frameStream = 0;
  let frameLeft = 0;
  // Returns true when the caller must wait for `done` (the consumer is full).
  const push = (target: PassThrough, chunk: Buffer, done: () => void): boolean => {
    if (target.destroyed || target.writableEnded) return false; // consumer gone: drop
    if (target.write(chunk)) return false;
    const resume = () => {
      target.off('drain', resume);
      target.off('close', resume);
      done();
    };
    target.on('drain', resume);
    target.on('close', resume);
    return true;
  };
  return new Writable({
    write(chunk: Buffer, _enc, callback) {
      let data = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      pending = Buffer.alloc(0);
      const step = (): void => {
        while (data.length > 0) {
          if (frameLeft === 0) {
            if (data.length < 8) {
              pending = Buffer.from(data);
              break;
            }
            frameStream = data[0] ?? 1;
            frameLeft = data.readUInt32BE(4);
            data = data.subarray(8);
            continue;
          }
          const take = data.subarray(0, frameLeft);
          data = data.subarray(take.length);
          frameLeft -= take.length;
          const target = frameStream === 2 ? stderr : stdout;
          if (frameStream !== 0 && push(target, take, step)) return;
        }
        callback();
      };
      step();
    },
  });
}

/** Reads a stream to memory, keeping at most `cap` bytes (the rest is counted and dropped). */
export async function collect(stream: Readable, cap: number): Promise<{ data: Buffer; total: number; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (kept < cap) {
      const slice = chunk.subarray(0, cap - kept);
      chunks.push(slice);
      kept += slice.length;
    }
  }
  return { data: Buffer.concat(chunks), total, truncated: total > kept };
}

/** Runs a short internal helper to completion and returns its buffered output. */
export async function execCollect(
  docker: Docker,
  containerID: string,
  options: ExecOptions,
  cap = 64 * 1024 * 1024,
): Promise<{ exitCode: number; stdout: Buffer; stderr: string }> {
  const handle = await startExec(docker, containerID, options);
  const [out, err] = await Promise.all([collect(handle.stdout, cap), collect(handle.stderr, 64 * 1024)]);
  const exitCode = await handle.exit;
  return { exitCode, stdout: out.data, stderr: err.data.toString('utf8') };
}

