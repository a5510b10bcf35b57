/**
 * The bench must not rot: run it at smoke scale (tiny counts) as a child process and check
 * that it wrote results.json with every scenario, a README table and plots. No timing
 * assertions: benchmarks are not tests.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SCENARIOS, type BenchResults } from '../../bench/lib/types.js';

const outDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-smoke-'));

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

function runBench(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`bench smoke did not finish within ${timeoutMs / 1000} s:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('npm run bench --scale smoke', () => {
  it('writes results.json with every scenario, the table and plots', async () => {
    // The create-pool scenario starts a second stack (its own dev server, worker and API): more room.
    const { code, output } = await runBench(['--scale', 'smoke', '--out', outDir], 300_000);
    expect(code, output).toBe(0);
    const results = JSON.parse(readFileSync(path.join(outDir, 'results.json'), 'utf8')) as BenchResults;
    expect(results.schema).toBe('berth-bench/1');
    expect(results.scale).toBe('smoke');
    const machine = results.machine as Record<string, unknown>;
    for (const key of ['cores', 'memoryMB', 'kernel', 'dockerVersion', 'nodeVersion']) expect(machine[key], key).toBeTruthy();
    expect(results.scenarios.map((s) => s.name)).toEqual([...SCENARIOS]);
    for (const scenario of results.scenarios) {
      // berth ships its data plane: every scenario must run, none may skip.
      expect(scenario.status, `${scenario.name}: ${scenario.reason ?? ''}`).toBe('ok');
      expect(scenario.metrics.length, scenario.name).toBeGreaterThan(0);
      for (const m of scenario.metrics) {
        expect(m.id).toBeTruthy();
        expect(m.target).toBeTruthy();
        expect(m.berth !== null || typeof m.value === 'number', `${scenario.name}/${m.id} has a value`).toBe(true);
      }
      expect(existsSync(path.join(outDir, `${scenario.name}.png`)), `${scenario.name}.png`).toBe(true);
    }
    const readme = readFileSync(path.join(outDir, 'README.md'), 'utf8');
    expect(readme).toContain('| metric | n | berth | raw Docker floor | ratio | target | met? |');
  }, 330_000);
});
