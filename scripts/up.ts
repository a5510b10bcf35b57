/**
 * Runs berth's whole stack on embedded defaults: the Temporal dev server (SQLite in the
 * data folder), one worker and the API, then prints where everything is. Ctrl-C stops all.
 * Started by `npm run up` after scripts/setup.sh.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startTemporalDevServer } from '../src/dev/temporal-dev-server.js';

const env = process.env;
const dataDir = path.resolve(env.BERTH_DATA_DIR ?? '.berth');
const logDir = path.join(dataDir, 'logs');
mkdirSync(logDir, { recursive: true });
const temporalPort = Number(env.BERTH_TEMPORAL_PORT ?? 7233);
const temporalUiPort = Number(env.BERTH_TEMPORAL_UI_PORT ?? 8233);
const apiPort = Number(env.BERTH_API_PORT ?? 3000);
/** E2B's envd (docs/e2b-envd.md); 49983 like envd, 0 = not served. */
const envdPort = Number(env.BERTH_E2B_ENVD_PORT ?? 49983);
const workerMetricsPort = Number(env.BERTH_WORKER_METRICS_PORT ?? 9464);
const t0 = Date.now();

function step(name: string): (note?: string) => void {
  const started = Date.now();
  process.stdout.write(`[berth] ${name} ...`);
  return (note) => process.stdout.write(` done${note ? ` (${note})` : ''} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

/** A value persisted in the data folder, created once. */
function persistent(file: string, make: () => string): string {
  const full = path.join(dataDir, file);
  if (existsSync(full)) return readFileSync(full, 'utf8').trim();
  const value = make();
  writeFileSync(full, `${value}\n`, { mode: 0o600 });
  return value;
}

const apiKey = persistent('dev-api-key', () => `berth_dev_${randomBytes(16).toString('hex')}`);
/** The same owner's key for the E2B SDKs (E2B's key format; it selects the E2B door: docs/e2b.md). */
const e2bApiKey = persistent('dev-e2b-api-key', () => `e2b_${randomBytes(20).toString('hex')}`);
const childEnv: Record<string, string | undefined> = {
  ...env,
  BERTH_API_KEYS: env.BERTH_API_KEYS ?? `${apiKey}:dev,${e2bApiKey}:dev`,
  BERTH_SECRET_KEY: env.BERTH_SECRET_KEY ?? persistent('secret-key', () => randomBytes(32).toString('hex')),
  TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
  TEMPORAL_UI_URL: `http://127.0.0.1:${temporalUiPort}`,
  BERTH_API_PORT: String(apiPort),
  BERTH_WORKER_METRICS_ADDRESS: `127.0.0.1:${workerMetricsPort}`,
  BERTH_WORKER_METRICS_URL: `http://127.0.0.1:${workerMetricsPort}/metrics`,
  BERTH_DATA_DIR: dataDir,
};

const children: ChildProcess[] = [];
function startNode(name: string, entry: string): ChildProcess {
  const out = openSync(path.join(logDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { env: childEnv, stdio: ['ignore', out, out] });
  child.once('exit', (code, signal) => {
    whenNotStopping(() => {
      console.error(`[berth] ${name} exited (${signal ?? code}); see ${path.join(logDir, `${name}.log`)}`);
      void stopAll(1);
    });
  });
  children.push(child);
  return child;
}

let stopping = false;
let stopDevServer: (() => Promise<void>) | undefined;

/**
 * Runs `fn` unless up is stopping, checked again shortly after: a terminal's Ctrl-C
 * signals the whole process group, so a child may exit on it just before up's own
 * SIGINT handler runs; that is a normal stop, not a crash.
 */
function whenNotStopping(fn: () => void): void {
  if (stopping) return;
  setTimeout(() => {
    if (!stopping) fn();
  }, 300);
}
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\n[berth] stopping API, worker and Temporal dev server ...');
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
  await stopDevServer?.();
  console.log('[berth] stopped. Sandboxes keep running; their timers resume with the next `npm run up`.');
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

/** Whether nothing listens on 127.0.0.1:`port` (a listener on 0.0.0.0 counts too). */
async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * Fails early, naming the variable to change, when a port up needs is taken. Without this
 * a Temporal server already on the port (another `npm run up`, a standalone dev server)
 * answers the readiness probe while ours exits on "address already in use", and berth
 * silently runs against someone else's server, with none of its state in our data folder.
 */
async function checkPorts(): Promise<void> {
  const wanted: [number, string][] = [
    [temporalPort, 'BERTH_TEMPORAL_PORT'],
    [temporalUiPort, 'BERTH_TEMPORAL_UI_PORT'],
    [apiPort, 'BERTH_API_PORT'],
    [envdPort, 'BERTH_E2B_ENVD_PORT'],
    [workerMetricsPort, 'BERTH_WORKER_METRICS_PORT'],
  ];
  const taken: string[] = [];
  for (const [port, variable] of wanted) {
    if (port > 0 && !(await portFree(port))) taken.push(`:${port} (set ${variable})`);
  }
  if (taken.length > 0) {
    throw new Error(`port already in use: ${taken.join(', ')}. Is another \`npm run up\` running? Stop it, or choose free ports.`);
  }
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs / 1000} s; see logs in ${logDir}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Waits until `file` holds `needle` past `offset` (a process's "started" log line). */
async function waitForLogLine(file: string, offset: number, needle: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(file) && readFileSync(file).subarray(offset).includes(needle)) return;
    if (Date.now() > deadline) throw new Error(`${path.basename(file, '.log')} did not start within ${timeoutMs / 1000} s; see ${file}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  await checkPorts();
  let done = step(`Temporal dev server on :${temporalPort} (SQLite ${path.join(dataDir, 'temporal.db')})`);
  const server = await startTemporalDevServer({
    port: temporalPort,
    uiPort: temporalUiPort,
    dbFile: path.join(dataDir, 'temporal.db'),
    logFile: path.join(logDir, 'temporal.log'),
    headless: false,
    // Ctrl-C reaches up, the API and the worker, not the dev server: up stops it last, so
    // the API can still deliver its pending touches while it shuts down.
    detached: true,
    // A namespace set for berth (TEMPORAL_NAMESPACE) exists from the start.
    namespaces: env.TEMPORAL_NAMESPACE ? [env.TEMPORAL_NAMESPACE] : [],
  });
  stopDevServer = () => server.stop();
  // Never leave it behind, whatever ends up (stopAll has normally stopped it already).
  process.once('exit', () => {
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill('SIGKILL');
  });
  const devServerExited = () =>
    whenNotStopping(() => {
      console.error(`[berth] Temporal dev server exited; see ${path.join(logDir, 'temporal.log')}`);
      void stopAll(1);
    });
  // It may already have exited (e.g. lost a race for its port) while the probe answered.
  if (server.process.exitCode !== null || server.process.signalCode !== null) throw new Error(`Temporal dev server exited at start; see ${path.join(logDir, 'temporal.log')}`);
  server.process.once('exit', devServerExited);
  done();
  const workerLog = path.join(logDir, 'worker.log');
  const workerLogOffset = existsSync(workerLog) ? statSync(workerLog).size : 0;
  done = step('worker');
  startNode('worker', 'src/worker.ts');
  startNode('api', 'src/api/main.ts'); // starts meanwhile; its step waits below
  // The worker says "worker started" (at info level) once connected with its task queue.
  if (['trace', 'debug', 'info'].includes(env.BERTH_LOG_LEVEL ?? 'info')) await waitForLogLine(workerLog, workerLogOffset, '"msg":"worker started"', 60_000);
  done();
  done = step(`API on :${apiPort}`);
  await waitReady(`http://127.0.0.1:${apiPort}/readyz`, 60_000);
  done();
  const api = `http://127.0.0.1:${apiPort}`;
  console.log(`
[berth] up in ${((Date.now() - t0) / 1000).toFixed(1)}s
  API          ${api}
  API docs     ${api}/docs   (OpenAPI: ${api}/openapi.json)
  Temporal UI  http://127.0.0.1:${temporalUiPort}
  API key      ${env.BERTH_API_KEYS ? '(from BERTH_API_KEYS)' : apiKey}
  E2B API key  ${env.BERTH_API_KEYS ? '(an e2b_<hex> key in BERTH_API_KEYS)' : e2bApiKey}   (E2B SDKs: E2B_API_URL=${api} E2B_API_KEY=<it>; see docs/e2b.md)
  E2B envd     ${envdPort > 0 ? `http://127.0.0.1:${envdPort}   (E2B SDKs: E2B_SANDBOX_URL=http://127.0.0.1:${envdPort}; see docs/e2b-envd.md)` : 'off (BERTH_E2B_ENVD_PORT=0)'}
  Logs         ${logDir}/{api,worker,temporal}.log

  Try: curl -s -X POST ${api}/sandboxes -H "Authorization: Bearer ${env.BERTH_API_KEYS ? '<key>' : apiKey}" \\
         -H 'content-type: application/json' -d '{"templateID":"base","timeout":300}'

Press Ctrl-C to stop.`);
}

main().catch(async (err: unknown) => {
  console.error(`\n[berth] up failed: ${(err as Error).message}`);
  await stopAll(1);
});
