/** Runs iptables (and iptables-restore) for berth's rules. The only place that executes them. */
import { execFile, spawn } from 'node:child_process';

export interface Iptables {
  /** Runs `iptables -w <args>` and answers its stdout; rejects with iptables' message. */
  run(args: string[]): Promise<string>;
  /** Like run, but answers false instead of rejecting (for -C checks and deletes that may find nothing). */
  attempt(args: string[]): Promise<boolean>;
  /** Applies a script with `iptables-restore -w --noflush` in one transaction. */
  restore(script: string): Promise<void>;
}

export function createIptables(binary = 'iptables', restoreBinary = 'iptables-restore'): Iptables {
  function run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(binary, ['-w', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${binary} ${args.join(' ')}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      });
    });
  }
  return {
    run,
    async attempt(args) {
      try {
        await run(args);
        return true;
      } catch {
        return false;
      }
    },
    restore(script) {
      return new Promise((resolve, reject) => {
        const child = spawn(restoreBinary, ['-w', '--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('error', (err) => reject(new Error(`${restoreBinary}: ${err.message}`)));
        child.on('close', (code) => {
          if (code === 0) resolve();
          else reject(new Error(`${restoreBinary} failed (exit ${code}): ${stderr.trim()}`));
        });
        child.stdin.end(script);
      });
    },
  };
}
