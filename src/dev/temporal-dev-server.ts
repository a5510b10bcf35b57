/**
 * Starts the Temporal CLI dev server (built by scripts/lib/ensure-temporal-cli.sh) with
 * berth's search attributes registered. Used by `npm run up`, the tests and the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ALL_SEARCH_ATTRIBUTES } from '../workflows/definitions.js';

export interface DevServerOptions {
  cliPath?: string;
  ip?: string;
  port?: number;
  uiPort?: number;
  /** SQLite file; omitted → in memory. */
  dbFile?: string;
  logFile?: string;
  headless?: boolean;
  /** Extra `--dynamic-config-value` settings (JSON values as strings). */
  dynamicConfig?: Record<string, string>;
  /**
   * Run in its own process group, so a terminal's Ctrl-C reaches only the caller, which
   * then stops the server last (after the processes that still talk to it).
   */
  detached?: boolean;
  /** Namespaces to create besides `default`. */
  namespaces?: string[];
}

export interface DevServer {
  address: string;
  uiUrl: string;
  process: ChildProcess;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process exited. */
  stop(): Promise<void>;
}

/** Where the Temporal CLI lives: `$BERTH_TEMPORAL_CLI`, else the build cache. */
export function defaultTemporalCliPath(env: Record<string, string | undefined> = process.env): string {
  const cacheDir = env.BERTH_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'berth');
  return env.BERTH_TEMPORAL_CLI ?? path.join(cacheDir, 'bin', 'temporal');
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The `--search-attribute` flags for berth's custom attributes. */
export function searchAttributeFlags(): string[] {
  const typeName: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList', TEXT: 'Text', INT: 'Int', BOOL: 'Bool', DATETIME: 'Datetime', DOUBLE: 'Double' };
  return ALL_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${typeName[key.type] ?? 'Keyword'}`]);
}

/**
 * Server settings berth runs with (also in deploy/temporal-dynamic-config.yaml for compose).
 * The default 20 task reads a second per history shard queue add 30-40 ms to each activity
 * and workflow task once a sandbox has had a few lifecycle calls; measured in
 * docs/benchmarks/README.md (pause 65 → 19.5 ms, resume 93 → 19.4 ms p50).
 */
export const TEMPORAL_DYNAMIC_CONFIG: Record<string, string> = {
  'history.transferProcessorMaxPollRPS': '1000',
  'history.timerProcessorMaxPollRPS': '1000',
  'system.enableActivityEagerExecution': 'true',
  // Bulk kill / pause are batch operations; the default of 1 at a time per namespace would
  // make one owner's bulk call refuse everybody else's.
  'frontend.MaxConcurrentBatchOperationPerNamespace': '50',
  // At 1000 live sandboxes the frontend's own persistence budget (default 2000 QPS) ran out while
  // many visibility calls at once refreshed its search-attribute cache: every List answered
  // "UNAVAILABLE: System Persistence Max QPS Reached" (3220 times in one run). One SQLite file
  // (or one PostgreSQL) behind one frontend: the database, not this limiter, is the real bound.
  'frontend.persistenceMaxQPS': '10000',
  // Visibility calls (List / Count) per namespace per frontend: the dev server sets 100/s. A
  // 200-create burst makes one quota count per create plus placement, listing and the reconciler.
  'frontend.namespaceRPS.visibility': '1000',
};

/** How many times a start is retried when the server lost a port race at bind time. */
const PORT_RACE_ATTEMPTS = 4;

/** Raised when the dev server process exits before its frontend answered. */
class DevServerExitedError extends Error {
  constructor(
    readonly exitCode: number,
    readonly logTail: string,
    logFile: string | undefined,
  ) {
    super(`Temporal dev server exited with ${exitCode}${logFile ? ` (log: ${logFile})` : ''}${logTail ? `:\n${logTail}` : ''}`);
  }

  /** The CLI picks some of its own ports (HTTP API, internal services) at random; concurrent starts can collide. */
  get lostPortRace(): boolean {
    return /address already in use/i.test(this.logTail);
  }
}

/**
 * Starts a dev server and resolves once its frontend answers. When the server loses a
 * port race at bind time (other dev servers starting at the same moment), it is started
 * again on fresh ports (the ports passed in options are kept).
 */
export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await launchDevServer(options);
    } catch (err) {
      if (!(err instanceof DevServerExitedError) || !err.lostPortRace || attempt >= PORT_RACE_ATTEMPTS) throw err;
    }
  }
}

/** Keeps the last `limitBytes` of what a stream wrote. */
function tailCollector(limitBytes: number): { push(chunk: Buffer): void; text(): string } {
  let tail = '';
  return {
    push(chunk) {
      tail = (tail + chunk.toString('utf8')).slice(-limitBytes);
    },
    text: () => tail,
  };
}

function readLogTail(logFile: string, fromOffset: number, limitBytes: number): string {
  try {
    const text = readFileSync(logFile).subarray(fromOffset).toString('utf8');
    return text.slice(-limitBytes);
  } catch {
    return '';
  }
}

async function launchDevServer(options: DevServerOptions): Promise<DevServer> {
  const cliPath = options.cliPath ?? defaultTemporalCliPath();
  if (!existsSync(cliPath)) throw new Error(`Temporal CLI not found at ${cliPath}; run \`npm run setup\` first`);
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const uiPort = options.uiPort ?? (await freePort());
  const httpPort = await freePort();
  const metricsPort = await freePort();
  const args = [
    'server', 'start-dev', '--ip', ip, '--port', String(port), '--ui-port', String(uiPort),
    '--http-port', String(httpPort), '--metrics-port', String(metricsPort), '--log-level', 'warn', ...searchAttributeFlags(),
  ];
  for (const [key, value] of Object.entries({ ...TEMPORAL_DYNAMIC_CONFIG, ...options.dynamicConfig })) args.push('--dynamic-config-value', `${key}=${value}`);
  for (const namespace of options.namespaces ?? []) if (namespace !== 'default') args.push('--namespace', namespace);
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.headless ?? true) args.push('--headless');
  const logOffset = options.logFile && existsSync(options.logFile) ? statSync(options.logFile).size : 0;
  const out = options.logFile ? openSync(options.logFile, 'a') : 'pipe';
  const child = spawn(cliPath, args, { stdio: ['ignore', out, out], detached: options.detached ?? false });
  if (typeof out === 'number') closeSync(out);
  const collected = tailCollector(8192);
  child.stdout?.on('data', (chunk: Buffer) => collected.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => collected.push(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exitCode: number | null = null;
  child.once('exit', (code) => {
    exitCode = code ?? -1;
  });
  const logTail = (): string => (options.logFile ? readLogTail(options.logFile, logOffset, 8192) : collected.text());
  const address = `${ip}:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exitCode !== null) {
      await exited;
      throw new DevServerExitedError(exitCode, logTail(), options.logFile);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`Temporal dev server did not answer on ${address} within 60 s: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (!options.logFile) {
    // Keep draining the pipes so the server never blocks on a full one.
    child.stdout?.resume();
    child.stderr?.resume();
  }
  return {
    address,
    uiUrl: `http://${ip}:${uiPort}`,
    process: child,
    async stop() {
      if (exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
