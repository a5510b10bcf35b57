/** Pure parts of the CLI: argument parsing, durations, the TTY-only spinner and progress line. */
import { describe, expect, it } from 'vitest';
import { durationMs, parseArgs, UsageError } from '../../sdk/typescript/src/cli/args.js';
import { Progress, table, withSpinner } from '../../sdk/typescript/src/cli/output.js';

function sink(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (s: string) => written.push(s) > 0 };
}

describe('CLI helpers', () => {
  it('parses flags, repeated flags and stops at the command of exec', () => {
    const a = parseArgs(['--env', 'A=1', 'sbx1', '--env=B=2', '--json'], { env: 'list', json: 'boolean' });
    expect(a.positionals).toEqual(['sbx1']);
    expect(a.flags.get('env')).toEqual(['A=1', 'B=2']);
    const exec = parseArgs(['--cwd', '/tmp', 'sbx1', 'ls', '-la', '--json'], { cwd: 'string', json: 'boolean' }, {}, 1);
    expect(exec.positionals).toEqual(['sbx1', 'ls', '-la', '--json']);
    expect(() => parseArgs(['--nope'], {})).toThrow(UsageError);
    expect(() => parseArgs(['--env'], { env: 'list' })).toThrow(/needs a value/);
  });

  it('reads durations with units as milliseconds', () => {
    expect(durationMs('300', 'x')).toBe(300_000);
    expect(durationMs('90s', 'x')).toBe(90_000);
    expect(durationMs('5m', 'x')).toBe(300_000);
    expect(durationMs('1h', 'x')).toBe(3_600_000);
    expect(() => durationMs('soon', 'x')).toThrow(UsageError);
    expect(() => durationMs('0', 'x')).toThrow(UsageError);
  });

  it('draws a spinner and progress only on a TTY', async () => {
    const tty = sink(true);
    expect(await withSpinner(tty, 'creating', Promise.resolve(42))).toBe(42);
    expect(tty.written.join('')).toContain('creating');
    const pipe = sink(false);
    await withSpinner(pipe, 'creating', Promise.resolve(1));
    expect(pipe.written).toEqual([]);

    const progress = new Progress(tty, 'copy', 2048);
    progress.add(1024);
    progress.finish();
    expect(tty.written.join('')).toMatch(/copy {2}1\.0 KiB \/ 2\.0 KiB {2}50%/);
    const quiet = new Progress(pipe, 'copy', 10);
    quiet.add(10);
    quiet.finish();
    expect(pipe.written).toEqual([]);
  });

  it('aligns table columns', () => {
    expect(table(['ID', 'STATUS'], [['abc', 'running'], ['a', 'paused']])).toBe('ID   STATUS\nabc  running\na    paused\n');
  });
});
