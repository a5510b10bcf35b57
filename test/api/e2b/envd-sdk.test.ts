/**
 * berth's envd driven by the real, unmodified clients (e2b Python, e2b npm) against a live stack:
 * commands with streaming callbacks, background commands, stdin, connect, kill, files and watches.
 * `base` boots the Debian image here: E2B's SDKs run commands with /bin/bash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_IMAGES } from '../../../src/templates.js';
import type { TestStack } from '../../helpers/stack.js';
import { runAgentboxDebug, runE2BNode, runE2BPython, startE2BStack } from './harness.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startE2BStack({ env: { BERTH_TEMPLATE_IMAGES: JSON.stringify({ base: LOCAL_IMAGES.debianPython }) } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('e2b Python SDK → envd', () => {
  it('commands (streaming callbacks, exit codes, background, stdin, connect, kill), files, watch_dir', async () => {
    const run = await runE2BPython(stack, 'e2b_envd.py', [], { E2B_SANDBOX_URL: stack.envdUrl });
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.run).toEqual({ exit_code: 0, stdout: 'hello\nuser\n/home/user\n', stderr: 'oops\n', streamed_out: 'hello\nuser\n/home/user\n', streamed_err: 'oops\n' });
    expect(r.exit7).toEqual({ exit_code: 7, stdout: 'before\n' });
    expect(r.as_root).toBe('root\n');
    expect(r.bg_listed).toBe(true);
    expect(r.bg_stdout).toBe('bg1\nbg2\nbg3\n');
    expect(r.stdin).toBe('got:hello stdin\n');
    expect(r.close_stdin).toBe('piped\neof\n');
    expect(r.write_stream).toBe('/home/user/notes/streamed.bin');
    expect(r.read_stream_len).toBe(100000);
    expect(r.connect).toBe('connected\n');
    expect(r.kill).toBe(true);
    expect(r.kill_again).toBe(false);
    expect(r.write).toEqual({ name: 'a.txt', path: '/home/user/notes/a.txt', type: 'file' });
    expect(r.read).toBe('alpha\n');
    expect(r.read_bytes).toEqual([...Buffer.from('alpha\n')]);
    expect(r.write_relative).toBe('/home/user/rel.txt');
    expect(r.make_dir).toBe(true);
    expect(r.make_dir_again).toBe(false);
    expect(r.list).toEqual([
      ['a.txt', 'file', '/home/user/notes/a.txt'],
      ['sub', 'dir', '/home/user/notes/sub'],
    ]);
    expect(r.info).toEqual({ size: 6, owner: 'user', permissions: '-rw-r--r--' });
    expect(r.rename).toBe('/home/user/notes/b.txt');
    expect([r.exists_old, r.exists_new, r.exists_removed]).toEqual([false, true, false]);
    expect(r.read_missing).toBe('FileNotFoundException');
    expect(r.watch).toContainEqual(['watched.txt', 'create']);
    expect(r.is_running).toBe(true);
    expect(r.killed).toBe(true);
    expect(r.is_running_after_kill).toBe(false);
  });
});

describe('e2b npm SDK → envd', () => {
  it('commands (streaming callbacks, exit codes, background, stdin, kill), files, watchDir (stream)', async () => {
    const run = await runE2BNode(stack, 'e2b_envd.ts', [], { E2B_SANDBOX_URL: stack.envdUrl });
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.run).toEqual({ exitCode: 0, stdout: 'hello\nuser\n', stderr: 'oops\n', streamed: 'hello\nuser\n', streamedErr: 'oops\n' });
    expect(r.exit5).toBe(5);
    expect(r.bgListed).toBe(true);
    expect(r.bgStdout).toBe('bg1\nbg2\n');
    expect(r.stdin).toBe('got:js stdin\n');
    expect(r.kill).toBe(true);
    expect(r.write).toMatchObject({ name: 'a.txt', path: '/home/user/js/a.txt' });
    expect(r.read).toBe('alpha');
    expect(r.makeDir).toBe(true);
    expect(r.makeDirAgain).toBe(false);
    expect(r.list).toEqual([
      ['a.txt', 'file', '/home/user/js/a.txt'],
      ['sub', 'dir', '/home/user/js/sub'],
    ]);
    expect(r.rename).toBe('/home/user/js/b.txt');
    expect(r.existsRemoved).toBe(false);
    expect(r.watch).toContainEqual(['watched.txt', 'create']);
    expect(r.killed).toBe(true);
  });
});

describe('StreamInput over HTTP/1.1', () => {
  it('e2b Python commands.stream_input sends its chunks in order', async () => {
    const run = await runE2BPython(stack, 'e2b_stream_input.py', [], { E2B_SANDBOX_URL: stack.envdUrl });
    expect(run.code, run.stderr).toBe(0);
    expect(run.result).toEqual({ stream_input: 'ok', stdout: 'first\nsecond\n' });
  });
});

describe('pty through envd', () => {
  it('e2b Python: pty.create, send_stdin, resize, wait with on_pty, kill', async () => {
    const run = await runE2BPython(stack, 'e2b_pty.py', [], { E2B_SANDBOX_URL: stack.envdUrl });
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.first.output).toContain('42');
    expect(r.first.output).toContain('24 80');
    expect(r.first.exit_code).toBe(3);
    expect(r.resized).toContain('30 100');
    expect(r.kill).toBe(true);
    expect(r.killed).toBe(true);
  });

  it('e2b npm: pty.create with onData, sendInput, resize, wait, kill', async () => {
    const run = await runE2BNode(stack, 'e2b_pty.ts', [], { E2B_SANDBOX_URL: stack.envdUrl });
    expect(run.code, run.stderr).toBe(0);
    const r = run.result;
    expect(r.output).toContain('42');
    expect(r.output).toContain('24 80');
    expect(r.output).toContain('30 100');
    expect(r.exitCode).toBe(4);
    expect(r.kill).toBe(true);
    expect(r.killed).toBe(true);
  });
});

describe('agentbox-python-sdk (debug mode) → envd on localhost:49983', () => {
  it('routes by the envd access token alone; answers only the fields agentbox parses', async () => {
    const run = await runAgentboxDebug(stack, 'agentbox_envd.py', [], stack.envdUrl);
    expect(run.code, run.stderr).toBe(0);
    expect(run.seen.some((s) => s.includes('localhost:49983/process.Process/Start'))).toBe(true);
    const r = run.result;
    expect(r.run).toEqual({ exit_code: 0, stdout: 'hi\nuser\n', stderr: 'err\n', streamed: 'hi\nuser\n' });
    expect(r.bg_listed).toBe(true);
    expect(r.bg).toBe('bg\n');
    expect(r.write).toEqual({ name: 'a.txt', path: '/home/user/ab/a.txt' });
    expect(r.read).toBe('agent');
    expect(r.make_dir).toBe(true);
    expect(r.list).toEqual([
      ['a.txt', '/home/user/ab/a.txt'],
      ['sub', '/home/user/ab/sub'],
    ]);
    expect(r.rename).toBe('/home/user/ab/b.txt');
    expect([r.exists, r.exists_removed]).toEqual([true, false]);
    expect(r.watch).toContain('watched.txt');
    await stack.api('DELETE', `/sandboxes/${r.sandbox_id}`);
  });
});
