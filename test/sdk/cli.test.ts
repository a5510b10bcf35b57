/** The `berth` CLI as a child process (`npx berth …` from the repo root, or its bin with node) against a live stack. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
let dir: string;
const repo = path.resolve(import.meta.dirname, '../..');
const suite = `cli-${randomBytes(3).toString('hex')}`;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI: `npx berth ARGS` in the repo with `npx: true` (proves the clone's bin works), else the
 * bin script with node directly (the same code, without npm's start-up cost).
 */
function berth(args: string[], opts: { input?: string; env?: Record<string, string | undefined>; cwd?: string; npx?: boolean } = {}): Promise<Ran> {
  const env: Record<string, string | undefined> = { ...process.env, BERTH_API_URL: stack.baseUrl, BERTH_API_KEY: stack.keys.alice, ...opts.env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return new Promise((resolve, reject) => {
    const [bin, binArgs] = opts.npx ? ['npx', ['--no-install', 'berth']] : [process.execPath, [path.join(repo, 'sdk/typescript/bin/berth.js')]];
    const child = spawn(bin, [...binArgs, ...args], { cwd: opts.cwd ?? repo, env: env as NodeJS.ProcessEnv, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

beforeAll(async () => {
  stack = await startStack();
  dir = mkdtempSync(path.join(tmpdir(), 'berth-cli-'));
});
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('berth CLI', () => {
  it('create → exec (exit code passes through) → cp both ways → ls --json → kill', async () => {
    const created = await berth(['create', 'tiny', '--memory-mb', '128', '--timeout', '5m', '--metadata', `suite=${suite}`, '--env', 'WHO=cli', '-q'], { npx: true });
    expect(created.stderr).toBe(''); // no spinner when stderr is not a TTY
    expect(created.code).toBe(0);
    const id = created.stdout.trim();
    expect(id).toMatch(/^[A-Za-z0-9]+$/);

    const hi = await berth(['exec', id, 'echo hi $WHO; echo warn >&2; exit 7'], { npx: true });
    expect(hi).toMatchObject({ code: 7, stdout: 'hi cli\n', stderr: 'warn\n' });
    const argv = await berth(['exec', '--cwd', '/tmp', '--env', 'X=1', id, 'sh', '-c', 'echo $X $(pwd) "$0"', 'arg zero']);
    expect(argv).toMatchObject({ code: 0, stdout: '1 /tmp arg zero\n' });
    const json = await berth(['exec', '--json', id, 'echo out; exit 3']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ exitCode: 3, stdout: 'out\n' });
    const piped = await berth(['exec', '--stdin', id, 'wc -c'], { input: 'twelve bytes' });
    expect(piped.stdout.trim()).toBe('12');

    const local = path.join(dir, 'up.bin');
    const data = randomBytes(3 * 1024 * 1024);
    writeFileSync(local, data);
    const up = await berth(['cp', local, `${id}:/home/user/in/`]);
    expect(up).toMatchObject({ code: 0, stderr: '' });
    expect((await berth(['exec', id, 'wc -c < /home/user/in/up.bin'])).stdout.trim()).toBe(String(data.length));
    const downDir = path.join(dir, 'down');
    mkdirSync(downDir);
    const down = await berth(['cp', `${id}:/home/user/in/up.bin`, downDir]);
    expect(down.code).toBe(0);
    expect(readFileSync(path.join(downDir, 'up.bin')).equals(data)).toBe(true);
    const toStdout = await berth(['cp', `${id}:/etc/hostname`, '-']);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdout.length).toBeGreaterThan(0);
    expect((await berth(['cp', `${id}:/no/such/file`, path.join(dir, 'x')])).code).toBe(1);

    const ls = await berth(['ls', '--json', '--metadata', `suite=${suite}`]);
    expect(ls.code).toBe(0);
    const rows = JSON.parse(ls.stdout) as Array<{ sandboxID: string; status: string }>;
    expect(rows).toEqual([expect.objectContaining({ sandboxID: id, status: 'running' })]);
    const human = await berth(['ls', '--metadata', `suite=${suite}`]);
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+TEMPLATE\s+STATUS/);
    expect(human.stdout).toContain(id);

    expect((await berth(['kill', id])).stdout).toBe(`killed ${id}\n`);
    const again = await berth(['kill', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not found');
    const events = await berth(['events', id]);
    expect(events.stdout).toMatch(/stopped\s+user/);
  });

  it('info, pause, resume, timeout, refresh, background exec and logs; errors exit non-zero', async () => {
    const id = (await berth(['create', '--template', 'tiny', '--memory-mb', '128', '-q'])).stdout.trim();
    const info = JSON.parse((await berth(['info', id, '--json'])).stdout) as { status: string; templateID: string };
    expect(info).toMatchObject({ status: 'running', templateID: 'tiny' });
    expect((await berth(['pause', id])).stdout).toMatch(/STATUS\s+paused/);
    const twice = await berth(['pause', id]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/conflict/);
    expect((await berth(['resume', id])).stdout).toMatch(/STATUS\s+running/);
    const t = JSON.parse((await berth(['timeout', id, '2m', '--json'])).stdout) as { timeout: number };
    expect(t.timeout).toBe(120);
    expect((await berth(['refresh', id, '10m'])).code).toBe(0);

    const bg = await berth(['exec', '--background', id, 'echo one; sleep 1; echo two; exit 9']);
    expect(bg.code).toBe(0);
    const cmdID = bg.stdout.trim();
    const followed = await berth(['logs', id, cmdID, '--follow']);
    expect(followed).toMatchObject({ code: 9, stdout: 'one\ntwo\n' });
    expect((await berth(['logs', id, cmdID])).stdout).toBe('one\ntwo\n');

    const unknown = await berth(['info', 'nosuchsandbox']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/not_found, HTTP 404/);
    expect((await berth(['info', id, '--api-key', 'wrong'])).stderr).toMatch(/HTTP 401/);
    expect((await berth(['timeout', id, 'soon'])).code).toBe(2);
    expect((await berth(['frobnicate'])).code).toBe(2);
    expect((await berth(['kill', id, '--json'])).stdout).toContain('"killed": true');
  });

  it('on a terminal: a spinner while creating and a progress line for cp', async () => {
    // util-linux `script` gives the CLI a pseudo-terminal (stdout and stderr both land in it).
    const inPty = (command: string) =>
      new Promise<Ran>((resolve, reject) => {
        const child = spawn('script', ['-qefc', command, '/dev/null'], {
          cwd: repo,
          env: { ...process.env, BERTH_API_URL: stack.baseUrl, BERTH_API_KEY: stack.keys.alice },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
      });
    const created = await inPty('npx --no-install berth create tiny --memory-mb 128 -q');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/⠋ creating sandbox \(tiny\)/);
    // The spinner line is cleared (\r ESC[K) before the ID; npx may draw its own spinner after it.
    const id = new RegExp(`\r${String.fromCharCode(27)}\\[K([A-Za-z0-9]+)\r?\n`).exec(created.stdout)?.[1] ?? '';
    expect(id).not.toBe('');
    const local = path.join(dir, 'tty.bin');
    writeFileSync(local, randomBytes(2 * 1024 * 1024));
    const copied = await inPty(`npx --no-install berth cp ${local} ${id}:/tmp/tty.bin`);
    expect(copied.code).toBe(0);
    expect(copied.stdout).toMatch(/2\.0 MiB \/ 2\.0 MiB {2}100%/);
    expect((await berth(['kill', id])).code).toBe(0);
  });

  it('defaults to the dev key in .berth/dev-api-key when BERTH_API_KEY is unset', async () => {
    const project = path.join(dir, 'project');
    mkdirSync(path.join(project, '.berth', 'sub'), { recursive: true });
    writeFileSync(path.join(project, '.berth', 'dev-api-key'), `${stack.keys.bob}\n`);
    const ls = await berth(['ls', '--json'], { cwd: path.join(project, '.berth', 'sub'), env: { BERTH_API_KEY: undefined } });
    expect(ls.code).toBe(0);
    expect(JSON.parse(ls.stdout)).toEqual([]);
    const none = await berth(['ls'], { cwd: path.join(project, '.berth', 'sub'), env: { BERTH_API_KEY: undefined, BERTH_API_URL: `${stack.baseUrl}/x` } });
    expect(none.code).toBe(1);
  });
});
