/**
 * Placement at create: which Docker host gets a new sandbox. The candidates are the hosts the
 * API has a Docker endpoint for (BERTH_DOCKER_HOSTS); each one's state comes from its host
 * workflow (engine, capacity, images, drained, last report) and its load from visibility
 * (live sandboxes on it with their CPUs and memory) plus this process's creates in flight.
 * The least loaded healthy host that has the image wins; an admin may pin a host.
 */
import type { Client } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes.js';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config.js';
import { ConflictError, InvalidArgumentError, UnavailableError } from '../errors.js';
import { SearchAttr, type Resources } from '../workflows/definitions.js';
import { pickHost, type Reservation } from './placement-score.js';
import { hostDrainUpdate, hostInfoQuery, hostWorkflowId, type HostInfo } from '../workflows/host-definitions.js';
import type { hostWorkflow } from '../workflows/host.js';

/** A host as placement and the admin API see it. */
export interface HostView {
  host: string;
  /** Registered, reporting within its grace period, not lost. */
  healthy: boolean;
  drained: boolean;
  lost: boolean;
  engineID: string | null;
  lastSeenAt: string | null;
  capacity: { cpus: number; memoryMB: number } | null;
  /** Live sandboxes (creating, running, paused) and what they were given. */
  load: { sandboxes: number; cpu: number; memoryMB: number };
  images: string[];
}

/** How long host state and load are reused between creates (visibility lags anyway). */
const CACHE_MS = 1000;
/** Up to this age a create uses the cached listing while a fresh one loads (host state lags by the heartbeat anyway). */
const STALE_MS = 5000;
/** How long a create's reservation counts after it returned (until visibility shows the sandbox). */
const RESERVATION_LINGER_MS = 3000 + STALE_MS;

export class Placement {
  private cached: { atMs: number; hosts: Promise<HostView[]>; withLoad: boolean } | null = null;
  private refreshing: { hosts: Promise<HostView[]>; withLoad: boolean } | null = null;
  private readonly reservations = new Map<string, Reservation>();

  constructor(
    private readonly client: Client,
    private readonly config: BerthConfig,
    private readonly logger: Logger,
  ) {}

  /**
   * The hosts with their state and (with `withLoad`) their load; the API's Docker endpoints are
   * the candidates. A listing up to {@link STALE_MS} old answers a create at once while a fresh
   * one loads in the background (a create does not wait for the host query and the visibility
   * listing each second); older, or `fresh`, waits for a new one.
   */
  async hosts(fresh = false, withLoad = true): Promise<HostView[]> {
    if (fresh) return this.store(this.load(withLoad), withLoad);
    const cached = this.cached && (this.cached.withLoad || !withLoad) ? this.cached : null;
    const age = cached ? Date.now() - cached.atMs : Infinity;
    if (cached && age < CACHE_MS) return cached.hosts;
    if (cached && age < STALE_MS) {
      this.refresh(withLoad).catch((err: unknown) => this.logger.debug({ err }, 'background host listing failed'));
      return cached.hosts;
    }
    return this.refresh(withLoad);
  }

  /** One listing at a time for creates (concurrent ones share it). */
  private refresh(withLoad: boolean): Promise<HostView[]> {
    if (this.refreshing && (this.refreshing.withLoad || !withLoad)) return this.refreshing.hosts;
    const entry = { hosts: this.store(this.load(withLoad), withLoad).finally(() => { if (this.refreshing === entry) this.refreshing = null; }), withLoad };
    this.refreshing = entry;
    return entry.hosts;
  }

  /** Caches a listing once it answered (a failed one keeps the previous). */
  private async store(loading: Promise<HostView[]>, withLoad: boolean): Promise<HostView[]> {
    const atMs = Date.now();
    const hosts = await loading;
    if (!this.cached || this.cached.atMs <= atMs) this.cached = { atMs, hosts: Promise.resolve(hosts), withLoad };
    return hosts;
  }

  /**
   * Picks the host of a new sandbox and reserves its resources there until {@link release}.
   * `pin`: the admin's choice (must be a known, healthy, undrained host).
   */
  async choose(sandboxID: string, need: { image: string; resources: Resources; pin?: string | undefined }): Promise<string> {
    // With one host there is nothing to compare: skip listing every live sandbox (O(live) rows a second at scale).
    const hosts = await this.hosts(false, this.config.hosts.endpoints.size > 1);
    let chosen: HostView | undefined;
    if (need.pin !== undefined) {
      chosen = hosts.find((h) => h.host === need.pin);
      if (!chosen) throw new InvalidArgumentError(`unknown host "${need.pin}"; hosts: ${hosts.map((h) => h.host).join(', ')}`);
      if (chosen.drained) throw new ConflictError(`host ${need.pin} is drained: it takes no new sandboxes (undrain it, or omit host)`);
      if (!chosen.healthy) throw new ConflictError(`host ${need.pin} is not reporting (its worker or engine is down); omit host to place the sandbox elsewhere`);
    } else {
      const usable = hosts.filter((h) => h.healthy && !h.drained);
      if (usable.length === 0) {
        throw new UnavailableError(`no Docker host can take a sandbox now (${describe(hosts)}); start a worker or undrain a host, then retry`);
      }
      chosen = pickHost(usable, need, this.reservations.values());
    }
    if (!chosen) throw new UnavailableError('no Docker host can take a sandbox now; retry');
    this.reservations.set(sandboxID, { host: chosen.host, resources: need.resources });
    return chosen.host;
  }

  /** The create never started a workflow (refused by its quota): its reservation goes at once. */
  cancel(sandboxID: string): void {
    this.reservations.delete(sandboxID);
  }

  /** The create returned: its reservation lingers until visibility has the sandbox. */
  release(sandboxID: string): void {
    setTimeout(() => this.reservations.delete(sandboxID), RESERVATION_LINGER_MS).unref();
  }

  /** Drains (no new sandboxes) or undrains a host. */
  async drain(host: string, drained: boolean): Promise<HostView> {
    if (!this.config.hosts.endpoints.has(host)) {
      throw new InvalidArgumentError(`unknown host "${host}"; hosts: ${[...this.config.hosts.endpoints.keys()].join(', ')}`);
    }
    const handle = this.client.workflow.getHandle<typeof hostWorkflow>(hostWorkflowId(this.config.temporal.taskQueue, host));
    try {
      await handle.executeUpdate(hostDrainUpdate, { args: [{ drained }] });
    } catch (err) {
      if (/not found/i.test(String(err))) throw new ConflictError(`host ${host} has never reported: start its worker first`);
      throw err;
    }
    this.logger.info({ host, drained }, drained ? 'host drained' : 'host undrained');
    const view = (await this.hosts(true)).find((h) => h.host === host);
    if (!view) throw new InvalidArgumentError(`unknown host "${host}"`);
    return view;
  }

  /** Host state from the host workflows, and (with `withLoad`) each host's live sandboxes from visibility. */
  private async load(withLoad: boolean): Promise<HostView[]> {
    const names = [...this.config.hosts.endpoints.keys()];
    const [infos, loads] = await Promise.all([Promise.all(names.map((n) => this.hostInfo(n))), withLoad ? this.loads() : new Map<string, HostView['load']>()]);
    return names.map((host, i) => {
      const info = infos[i] ?? null;
      const report = info?.report ?? null;
      const lastSeenMs = info?.lastSeenMs ?? null;
      const healthy = Boolean(report && lastSeenMs !== null && !info?.lost && Date.now() - lastSeenMs < this.config.hosts.graceMs);
      return {
        host,
        healthy,
        drained: info?.drained ?? false,
        lost: info?.lost ?? false,
        engineID: report?.engineID ?? null,
        lastSeenAt: lastSeenMs === null ? null : new Date(lastSeenMs).toISOString(),
        capacity: report ? { cpus: report.cpus, memoryMB: report.memoryMB } : null,
        load: loads.get(host) ?? { sandboxes: 0, cpu: 0, memoryMB: 0 },
        images: report?.images ?? [],
      };
    });
  }

  private async hostInfo(host: string): Promise<HostInfo | null> {
    try {
      return await this.client.workflow.getHandle<typeof hostWorkflow>(hostWorkflowId(this.config.temporal.taskQueue, host)).query(hostInfoQuery);
    } catch (err) {
      this.logger.debug({ host, err }, 'host workflow not readable (never registered?)');
      return null;
    }
  }

  /** Live sandboxes per host from visibility (one listing of the shared queue's open sandbox workflows). */
  private async loads(): Promise<Map<string, { sandboxes: number; cpu: number; memoryMB: number }>> {
    const loads = new Map<string, { sandboxes: number; cpu: number; memoryMB: number }>();
    const query = `WorkflowType = 'sandboxWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${this.config.temporal.taskQueue.replace(/'/g, '')}'`;
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.client.workflowService.listWorkflowExecutions({ namespace: this.config.temporal.namespace, query, pageSize: 1000, nextPageToken });
      for (const execution of page.executions ?? []) {
        const attrs = decodeTypedSearchAttributes(execution.searchAttributes?.indexedFields);
        const host = attrs.get(SearchAttr.host);
        if (!host) continue;
        const entry = loads.get(host) ?? { sandboxes: 0, cpu: 0, memoryMB: 0 };
        entry.sandboxes++;
        entry.cpu += attrs.get(SearchAttr.cpu) ?? 0;
        entry.memoryMB += attrs.get(SearchAttr.memoryMB) ?? 0;
        loads.set(host, entry);
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return loads;
  }
}

function describe(hosts: HostView[]): string {
  if (hosts.length === 0) return 'no hosts configured';
  return hosts.map((h) => `${h.host}: ${h.drained ? 'drained' : h.lost ? 'lost' : h.healthy ? 'up' : 'not reporting'}`).join(', ');
}
