/**
 * Headless Chromium (Debian's `chromium`, installed by scripts/lib/ensure-chromium.sh) for
 * browser tests. Every request not for 127.0.0.1 goes to a proxy on loopback that refuses it
 * (so no byte leaves this machine), and the page's own requests are recorded through the
 * DevTools protocol (over a pipe): a test sees each URL the page asked for, refused or not.
 * Chromium's own background requests (component updates, account checks, which Debian's build
 * makes despite --disable-background-networking) reach the proxy too but are not the page's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A proxy on 127.0.0.1 that records what it is asked for and refuses it (403), never forwarding. */
export interface RecordingProxy {
  port: number;
  /** `CONNECT host:port` or `GET http://…` lines, in arrival order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(403, { Connection: 'close' }).end('blocked by the test proxy');
  });
  server.on('connect', (req, socket) => {
    requests.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function chromiumPath(): string {
  const bin = process.env.BERTH_CHROMIUM;
  if (!bin) throw new Error('BERTH_CHROMIUM is not set: run scripts/setup.sh (it installs Debian\'s chromium) and source .berth/setup.env');
  return bin;
}

export interface PageLoad {
  /** The page's DOM (outerHTML) once `until` held or the wait ran out. */
  dom: string;
  /** Every URL the page (and its frames) requested, in order. */
  requests: string[];
  /** Whether `until` held before the wait ran out. */
  settled: boolean;
}

/**
 * Loads `url` in headless Chromium and waits until the JavaScript expression `until` is true
 * in the page (polled; gives up after `waitMs`), then returns the DOM and the page's requests.
 * Only 127.0.0.1 is reached directly: everything else, localhost and link-local included
 * (`<-loopback>` drops Chromium's implicit bypass list), goes to the refusing proxy at `proxyPort`.
 */
export async function loadPage(url: string, options: { proxyPort: number; until: string; waitMs?: number }): Promise<PageLoad> {
  const profile = mkdtempSync(join(tmpdir(), 'berth-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--no-first-run',
    '--no-default-browser-check',
    `--user-data-dir=${profile}`,
    `--proxy-server=http://127.0.0.1:${options.proxyPort}`,
    '--proxy-bypass-list=<-loopback>;127.0.0.1',
    '--remote-debugging-pipe',
    'about:blank',
  ];
  // Async on purpose: the server under test may answer from this same process.
  const child = spawn(chromiumPath(), args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const cdp = new Cdp(child);
  try {
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: Array<{ targetId: string; type: string }> };
    const page = targetInfos.find((t) => t.type === 'page');
    if (!page) throw new Error('chromium opened no page');
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: page.targetId, flatten: true })) as { sessionId: string };
    const requests: string[] = [];
    cdp.on('Network.requestWillBeSent', (params) => requests.push((params as { request: { url: string } }).request.url));
    await cdp.send('Network.enable', {}, sessionId);
    await cdp.send('Page.enable', {}, sessionId);
    await cdp.send('Page.navigate', { url }, sessionId);
    const evaluate = async (expression: string): Promise<unknown> => {
      const res = (await cdp.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value?: unknown } };
      return res.result.value;
    };
    const deadline = Date.now() + (options.waitMs ?? 60_000);
    let settled = false;
    while (!settled && Date.now() < deadline) {
      settled = (await evaluate(`Boolean(${options.until})`)) === true;
      if (!settled) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const dom = String(await evaluate('document.documentElement.outerHTML'));
    return { dom, requests: [...requests], settled };
  } catch (err) {
    throw new Error(`${(err as Error).message}; chromium said: ${stderr}`);
  } finally {
    await cdp.send('Browser.close').catch(() => undefined);
    if (child.exitCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DevTools protocol over Chromium's pipe (fd 3 in, fd 4 out; messages end with NUL). */
class Cdp {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Array<(params: unknown) => void>>();
  private buffer = Buffer.alloc(0);
  private readonly input: Writable;

  constructor(child: ChildProcess) {
    this.input = child.stdio[3] as Writable;
    const output = child.stdio[4] as Readable;
    output.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      let end: number;
      while ((end = this.buffer.indexOf(0)) >= 0) {
        const message = JSON.parse(this.buffer.subarray(0, end).toString('utf8')) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown };
        this.buffer = this.buffer.subarray(end + 1);
        if (message.id !== undefined) {
          const waiter = this.pending.get(message.id);
          this.pending.delete(message.id);
          if (message.error) waiter?.reject(new Error(`DevTools: ${message.error.message}`));
          else waiter?.resolve(message.result);
        } else if (message.method) {
          for (const listener of this.listeners.get(message.method) ?? []) listener(message.params);
        }
      }
    });
    child.on('close', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`chromium exited (${code})`));
      this.pending.clear();
    });
    this.input.on('error', () => undefined);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  on(method: string, listener: (params: unknown) => void): void {
    this.listeners.set(method, [...(this.listeners.get(method) ?? []), listener]);
  }
}
