/**
 * File transfers done by berth-agent itself (agent/files.go, docs/agent.md): the bytes never go
 * through a process in the sandbox, a full disk is a clear 507 that leaves nothing behind, and an
 * agent that declines (wrong token, older agent) falls back to a process with the same result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { useAgent } from '../../src/dataplane/agent-route.js';
import { execCollect } from '../../src/dataplane/exec.js';
import { FileOps } from '../../src/dataplane/files.js';
import { Spooler } from '../../src/dataplane/spool.js';
import { agentSocketPath, agentToken } from '../../src/docker/agent.js';
import { createDockerClient } from '../../src/docker/client.js';
import { InsufficientStorageError } from '../../src/errors.js';
import { LOCAL_IMAGES } from '../../src/templates.js';
import { eventually, startStack, type TestStack } from '../helpers/stack.js';
import { createTinyAndBase } from '../helpers/sandboxes.js';

let stack: TestStack;
let tiny: string;
let base: string;
/** A container of this test's own with the agent and a 1 MB tmpfs at /small (no sandbox can have one). */
let own: { name: string; dir: string; docker: Docker } | undefined;
const SECRET = randomBytes(32).toString('hex');

beforeAll(async () => {
  stack = await startStack();
  expect(stack.config.agent.binaryPath, 'BERTH_AGENT_BINARY (source .berth/setup.env)').toBeTruthy();
  ({ tiny, base } = await createTinyAndBase(stack));
  for (const id of [tiny, base]) await eventually(async () => existsSync(agentSocketPath(stack.config.agent.dir, id)!));

  const name = `berth-test-agentfiles-${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync('/tmp/bft-');
  mkdirSync(path.join(dir, name), { mode: 0o700 });
  writeFileSync(path.join(dir, name, 'token'), agentToken(SECRET, name));
  own = { name, dir, docker: createDockerClient(stack.config.dockerSocket) };
  const container = await stack.docker.createContainer({
    name,
    Image: LOCAL_IMAGES.busybox,
    Cmd: ['/.berth-agent', 'serve', '/run/berth'],
    Labels: { 'berth.test': 'agent-files' },
    HostConfig: {
      Binds: [`${stack.config.agent.binaryPath}:/.berth-agent:ro`, `${path.join(dir, name)}:/run/berth`],
      Tmpfs: { '/small': 'size=1m' },
    },
  });
  await container.start();
  await eventually(async () => existsSync(agentSocketPath(dir, name)!));
});
afterAll(async () => {
  if (own) {
    await stack.docker.getContainer(own.name).remove({ force: true }).catch(() => undefined);
    rmSync(own.dir, { recursive: true, force: true });
  }
  await stack?.stop();
});

const headers = () => ({ authorization: `Bearer ${stack.keys.alice}`, 'content-type': 'application/octet-stream' });
const url = (p: string, id = tiny) => `${stack.baseUrl}/sandboxes/${id}/files?path=${p}`;
const sh = async (id: string, script: string, docker = stack.docker) => (await execCollect(docker, id, { cmd: ['/bin/sh', '-c', script], user: '0' })).stdout.toString('utf8');

describe('file transfers by berth-agent', () => {
  it('moves the bytes without any process in the sandbox: works with cat, head and tail removed from a Debian image', async () => {
    // Failed before: uploads ran `cat > tmp` and downloads `head -c` in the sandbox (busybox's
    // shell runs its own applets even without their links, hence Debian).
    expect(await sh(base, 'rm $(which cat head tail) && ! which cat head tail && echo gone')).toBe('gone\n');
    const data = randomBytes(6 * 1024 * 1024 + 13);
    const put = await fetch(url('/tmp/agent/big.bin', base), { method: 'PUT', headers: headers(), body: data });
    expect(put.status).toBe(201);
    expect(await put.json()).toMatchObject({ path: '/tmp/agent/big.bin', type: 'file', size: data.length, mode: '644', owner: 'root' });
    const back = await fetch(url('/tmp/agent/big.bin', base), { headers: headers() });
    expect(back.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await back.arrayBuffer())).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    const part = await fetch(url('/tmp/agent/big.bin', base), { headers: { ...headers(), range: 'bytes=5000000-5000099' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(5_000_000, 5_000_100))).toBe(true);
    // Only the file: no temporary file left next to it.
    expect(await sh(base, 'ls -a /tmp/agent')).toBe('.\n..\nbig.bin\n');
  });

  it('keeps an existing file’s mode and owner, and applies the ones asked for', async () => {
    await sh(tiny, 'echo old > /tmp/kept && chmod 600 /tmp/kept && chown 65534:65534 /tmp/kept');
    const put = await fetch(url('/tmp/kept'), { method: 'PUT', headers: headers(), body: 'new content' });
    expect(await put.json()).toMatchObject({ mode: '600', uid: 65534, gid: 65534, size: 11 });
    const asked = await fetch(`${url('/tmp/asked')}&mode=640&owner=65534`, { method: 'PUT', headers: headers(), body: 'x' });
    expect(await asked.json()).toMatchObject({ mode: '640', uid: 65534 });
  });

  it('answers 400 for a folder in the way, and creates missing parents', async () => {
    await sh(tiny, 'mkdir -p /tmp/adir');
    const res = await fetch(url('/tmp/adir'), { method: 'PUT', headers: headers(), body: 'x' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: '/tmp/adir is a directory' });
    const nested = await fetch(url('/tmp/a/b/c/d.txt'), { method: 'PUT', headers: headers(), body: 'deep' });
    expect(nested.status).toBe(201);
  });

  it('reports a full disk as 507 and leaves nothing behind (streamed and buffered bodies)', async () => {
    const { name, dir, docker } = own!;
    useAgent(docker, { dir, secretKeyHex: SECRET });
    const files = new FileOps(docker, { listEntriesCap: 1000, fileEditCapBytes: 1 << 20, maxUploadBytes: 1 << 30 }, new Spooler({ dataDir: dir, budgetBytes: 1 << 20 }));
    const big = Buffer.alloc(3 * 1024 * 1024, 1);
    const streamed = Readable.from([big.subarray(0, 1 << 20), big.subarray(1 << 20, 2 << 20), big.subarray(2 << 20)]);
    const err = await files.write(name, '/small/too-big.bin', streamed, {}, big.length).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientStorageError);
    expect((err as InsufficientStorageError).status).toBe(507);
    expect((err as Error).message).toMatch(/disk is full.*\/small\/too-big\.bin/);
    await expect(files.write(name, '/small/too-big.bin', big)).rejects.toBeInstanceOf(InsufficientStorageError);
    expect(await sh(name, 'ls -a /small', docker)).toBe('.\n..\n');
    // What fits is written.
    expect((await files.write(name, '/small/fits.bin', Buffer.alloc(1000, 2))).size).toBe(1000);
  });

  it('falls back to a process when the agent declines (wrong token), with the same result', async () => {
    const { name, dir } = own!;
    const other = createDockerClient(stack.config.dockerSocket);
    useAgent(other, { dir, secretKeyHex: randomBytes(32).toString('hex') });
    const files = new FileOps(other, { listEntriesCap: 1000, fileEditCapBytes: 1 << 20, maxUploadBytes: 1 << 30 }, new Spooler({ dataDir: dir, budgetBytes: 1 << 20 }));
    const data = randomBytes(200_000);
    expect((await files.write(name, '/tmp/fallback.bin', Readable.from([data]), {}, data.length)).size).toBe(data.length);
    const file = await files.open(name, '/tmp/fallback.bin');
    expect((await files.readAll('/tmp/fallback.bin', file)).equals(data)).toBe(true);
  });
});
