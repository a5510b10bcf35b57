/** `Sandbox`: create, connect, list and drive one berth sandbox. */
import { Commands } from './commands.js';
import { ConnectionConfig, type ConnectionOptions, type RequestOptions } from './connection.js';
import { NotFoundError } from './errors.js';
import { Files } from './files.js';
import { Pty } from './pty.js';
import { SandboxPaginator, type SandboxListQuery } from './paginator.js';
import { Transport } from './transport.js';
import type {
  CreateSandboxBody,
  SandboxEndpoint,
  SandboxEvents,
  SandboxInfo,
  SandboxLifecycle,
  SandboxMetrics,
  SandboxNetworkPolicy,
  SandboxResources,
  SandboxSnapshots,
  SnapshotInfo,
  PauseMode,
  SnapshotPage,
  TimeoutMode,
  VolumeMount,
} from './types.js';

/** Options of {@link Sandbox.create}. */
export interface SandboxCreateOpts extends ConnectionOptions, RequestOptions {
  /** Template to boot, or one of your snapshot IDs (`snap_…`); default `base`. */
  template?: string;
  /** Boot from one of your snapshots (same as `template: snapshotID`); see {@link Sandbox.restore}. */
  snapshotID?: string;
  /** A Docker image instead of a template (only when the server allows it). */
  image?: string;
  /** Timeout (rounded up to whole seconds); per-template default when omitted. Idle unless `timeoutMode: 'absolute'`. */
  timeoutMs?: number;
  /** `idle` (default) or `absolute`; shorthand for `lifecycle.timeoutMode`. */
  timeoutMode?: TimeoutMode;
  metadata?: Record<string, string>;
  /** Environment variables of every command (sealed; never stored in clear text). */
  envs?: Record<string, string>;
  resources?: Partial<SandboxResources>;
  lifecycle?: Partial<SandboxLifecycle>;
  /** Egress policy; default: internet allowed, private ranges and link-local denied. */
  network?: Partial<SandboxNetworkPolicy>;
  /** Volumes of yours to mount (see {@link Volume}): `[{ name, mountPath, readOnly? }]`. */
  volumes?: VolumeMount[];
  /** `false`: return while the sandbox is still `creating` (default: wait until running). */
  wait?: boolean;
}

/** Options of {@link Sandbox.connect}. */
export interface SandboxConnectOpts extends ConnectionOptions, RequestOptions {
  /** Keep the sandbox alive at least this long from now (never shortens). */
  timeoutMs?: number;
}

function requestOpts(opts: RequestOptions): RequestOptions {
  return { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}) };
}

const seconds = (ms: number) => ms / 1000;

/** One sandbox. Get one with {@link Sandbox.create}, {@link Sandbox.connect} or {@link Sandbox.ref}. */
export class Sandbox {
  readonly sandboxID: string;
  readonly commands: Commands;
  readonly files: Files;
  /** Interactive terminals. */
  readonly pty: Pty;
  /** The connection settings this sandbox uses. */
  readonly connection: ConnectionConfig;
  private readonly transport: Transport;

  protected constructor(sandboxID: string, connection: ConnectionConfig) {
    this.sandboxID = sandboxID;
    this.connection = connection;
    this.transport = new Transport(connection);
    this.commands = new Commands(sandboxID, this.transport);
    this.files = new Files(sandboxID, this.transport);
    this.pty = new Pty(sandboxID, this.transport);
  }

  private path(suffix = ''): string {
    return `/sandboxes/${encodeURIComponent(this.sandboxID)}${suffix}`;
  }

  /** Creates a sandbox (waits until it runs unless `wait: false`). */
  static async create(opts?: SandboxCreateOpts): Promise<Sandbox>;
  static async create(template: string, opts?: SandboxCreateOpts): Promise<Sandbox>;
  static async create(templateOrOpts?: string | SandboxCreateOpts, maybeOpts: SandboxCreateOpts = {}): Promise<Sandbox> {
    const opts = typeof templateOrOpts === 'string' ? { ...maybeOpts, template: templateOrOpts } : (templateOrOpts ?? {});
    const connection = new ConnectionConfig(opts);
    const body: CreateSandboxBody = {
      ...(opts.template !== undefined ? { templateID: opts.template } : {}),
      ...(opts.image !== undefined ? { image: opts.image } : {}),
      ...(opts.snapshotID !== undefined ? { snapshotID: opts.snapshotID } : {}),
      ...(opts.timeoutMs !== undefined ? { timeout: Math.max(1, Math.ceil(seconds(opts.timeoutMs))) } : {}),
      ...(opts.metadata ? { metadata: opts.metadata } : {}),
      ...(opts.envs ? { envs: opts.envs } : {}),
      ...(opts.resources ? { resources: opts.resources } : {}),
      ...(opts.lifecycle || opts.timeoutMode ? { lifecycle: { ...opts.lifecycle, ...(opts.timeoutMode ? { timeoutMode: opts.timeoutMode } : {}) } } : {}),
      ...(opts.network ? { network: opts.network } : {}),
      ...(opts.volumes ? { volumes: opts.volumes } : {}),
    };
    const info = await new Transport(connection).json<SandboxInfo>('POST', '/sandboxes', {
      ...requestOpts(opts),
      query: { wait: opts.wait === false ? 'false' : undefined },
      json: body,
    });
    const sbx = new Sandbox(info.sandboxID, connection);
    sbx.lastInfo = info;
    return sbx;
  }

  /** Connects to a sandbox: resumes it if paused, keeps it alive at least `timeoutMs`. */
  static async connect(sandboxID: string, opts: SandboxConnectOpts = {}): Promise<Sandbox> {
    const sbx = new Sandbox(sandboxID, new ConnectionConfig(opts));
    sbx.lastInfo = await sbx.transport.json<SandboxInfo>('POST', sbx.path('/connect'), {
      ...requestOpts(opts),
      json: opts.timeoutMs !== undefined ? { timeout: seconds(opts.timeoutMs) } : {},
    });
    return sbx;
  }

  /** A handle on a sandbox without calling the API (no connect, no resume). */
  static ref(sandboxID: string, opts: ConnectionOptions = {}): Sandbox {
    return new Sandbox(sandboxID, new ConnectionConfig(opts));
  }

  /** Lists sandboxes page by page: `for await (const page of Sandbox.list())`, or `.items()`. */
  static list(query: SandboxListQuery = {}): SandboxPaginator {
    return new SandboxPaginator(new Transport(new ConnectionConfig(query)), query);
  }

  /** Kills a sandbox by ID; false when it was already gone. */
  static kill(sandboxID: string, opts: ConnectionOptions & RequestOptions = {}): Promise<boolean> {
    return Sandbox.ref(sandboxID, opts).kill(opts);
  }

  /** Boots a new sandbox from one of your snapshots (its files; resources and timeout default from its source template). */
  static restore(snapshotID: string, opts: Omit<SandboxCreateOpts, 'template' | 'image' | 'snapshotID'> = {}): Promise<Sandbox> {
    return Sandbox.create({ ...opts, snapshotID });
  }

  /** Your snapshots, newest first, one page (`nextToken` of the previous page for the next one). */
  static listSnapshots(opts: ConnectionOptions & RequestOptions & { limit?: number; nextToken?: string } = {}): Promise<SnapshotPage> {
    const query = { limit: opts.limit === undefined ? undefined : String(opts.limit), nextToken: opts.nextToken };
    return new Transport(new ConnectionConfig(opts)).json<SnapshotPage>('GET', '/snapshots', { ...requestOpts(opts), query });
  }

  /** One of your snapshots; {@link NotFoundError} when it does not exist (or is not yours). */
  static getSnapshot(snapshotID: string, opts: ConnectionOptions & RequestOptions = {}): Promise<SnapshotInfo> {
    return new Transport(new ConnectionConfig(opts)).json<SnapshotInfo>('GET', `/snapshots/${encodeURIComponent(snapshotID)}`, requestOpts(opts));
  }

  /** Deletes one of your snapshots; false when it was already gone; {@link ConflictError} while a sandbox booted from it lives. */
  static async deleteSnapshot(snapshotID: string, opts: ConnectionOptions & RequestOptions = {}): Promise<boolean> {
    try {
      await new Transport(new ConnectionConfig(opts)).json<undefined>('DELETE', `/snapshots/${encodeURIComponent(snapshotID)}`, requestOpts(opts));
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** Info of a sandbox by ID (does not resume it). */
  static getInfo(sandboxID: string, opts: ConnectionOptions & RequestOptions = {}): Promise<SandboxInfo> {
    return Sandbox.ref(sandboxID, opts).getInfo(opts);
  }

  /** The info of the last lifecycle answer (create, connect, or any call returning info). */
  lastInfo: SandboxInfo | undefined;

  private async info(promise: Promise<SandboxInfo>): Promise<SandboxInfo> {
    this.lastInfo = await promise;
    return this.lastInfo;
  }

  /** Current info (status, endAt, timeout, metadata, …). */
  getInfo(opts: RequestOptions = {}): Promise<SandboxInfo> {
    return this.info(this.transport.json<SandboxInfo>('GET', this.path(), requestOpts(opts)));
  }

  /** True while the sandbox is running (false when paused, stopped or unknown). */
  async isRunning(opts: RequestOptions = {}): Promise<boolean> {
    try {
      return (await this.getInfo(opts)).status === 'running';
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** Kills the sandbox (container and data destroyed); false when it was already gone. */
  async kill(opts: RequestOptions = {}): Promise<boolean> {
    try {
      await this.transport.json<undefined>('DELETE', this.path(), requestOpts(opts));
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** Sets the timeout: the sandbox ends `timeoutMs` from now (may shorten), in either timeout mode. */
  setTimeout(timeoutMs: number, opts: RequestOptions = {}): Promise<SandboxInfo> {
    return this.info(this.transport.json<SandboxInfo>('POST', this.path('/timeout'), { ...requestOpts(opts), json: { timeout: seconds(timeoutMs) } }));
  }

  /** Keeps the sandbox alive at least `durationMs` from now (never shortens). */
  refresh(durationMs: number, opts: RequestOptions = {}): Promise<SandboxInfo> {
    return this.info(this.transport.json<SandboxInfo>('POST', this.path('/refreshes'), { ...requestOpts(opts), json: { duration: seconds(durationMs) } }));
  }

  /**
   * Pauses the sandbox; {@link ConflictError} when already paused. `mode: 'freeze'` (the default)
   * keeps its processes and memory; `mode: 'disk'` keeps its files only: the container is saved
   * and removed (no memory or CPU held, survives an engine restart) and starts afresh on resume.
   * See docs/pause.md.
   */
  pause(opts: RequestOptions & { mode?: PauseMode } = {}): Promise<SandboxInfo> {
    return this.info(this.transport.json<SandboxInfo>('POST', this.path('/pause'), { ...requestOpts(opts), ...(opts.mode ? { json: { mode: opts.mode } } : {}) }));
  }

  /** Thaws a paused sandbox; {@link ConflictError} when running. */
  resume(opts: RequestOptions = {}): Promise<SandboxInfo> {
    return this.info(this.transport.json<SandboxInfo>('POST', this.path('/resume'), requestOpts(opts)));
  }

  /**
   * Snapshots the sandbox's filesystem (a running sandbox is frozen for the commit, a paused one stays
   * paused). Boot it with {@link Sandbox.restore} or `Sandbox.create({ template: snapshot.snapshotID })`.
   */
  createSnapshot(opts: RequestOptions = {}): Promise<SnapshotInfo> {
    return this.transport.json<SnapshotInfo>('POST', this.path('/snapshots'), requestOpts(opts));
  }

  /** The snapshots taken of this sandbox, newest first (also after it stopped). */
  async listSnapshots(opts: RequestOptions = {}): Promise<SnapshotInfo[]> {
    return (await this.transport.json<SandboxSnapshots>('GET', this.path('/snapshots'), requestOpts(opts))).snapshots;
  }

  /** Transitions with reasons; also answers after the sandbox stopped. */
  events(opts: RequestOptions = {}): Promise<SandboxEvents> {
    return this.transport.json<SandboxEvents>('GET', this.path('/events'), requestOpts(opts));
  }

  /** CPU, memory and disk use: the current sample and the series kept by the API. */
  getMetrics(opts: RequestOptions & { start?: Date | number; end?: Date | number } = {}): Promise<SandboxMetrics> {
    const time = (t: Date | number | undefined) => (t === undefined ? undefined : String(t instanceof Date ? t.getTime() : t));
    return this.transport.json<SandboxMetrics>('GET', this.path('/metrics'), { ...requestOpts(opts), query: { start: time(opts.start), end: time(opts.end) } });
  }

  /** How to reach `port` inside the sandbox (proxy URL through the API; send your API key). */
  getEndpoint(port: number, opts: RequestOptions = {}): Promise<SandboxEndpoint> {
    return this.transport.json<SandboxEndpoint>('GET', this.path(`/endpoints/${port}`), requestOpts(opts));
  }

  /** The proxy URL of `port` (built locally, no call): requests to it need the API key. */
  getHost(port: number): string {
    return `${this.connection.apiUrl}${this.path(`/proxy/${port}/`)}`;
  }
}
