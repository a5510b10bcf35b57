/**
 * The warm pool of one worker (one Docker host and task queue): per template, a few started
 * containers that no one has used, so a create can claim one instead of creating and starting
 * a container. The worker keeps it filled in the background (after every claim and every
 * `refillIntervalMs`); {@link WarmPool.take} hands an entry to exactly one caller (a synchronous
 * pop in this process, the only one that claims from this pool), and a container never goes
 * back once a claim renamed it. See docs/warm-pool.md.
 *
 * Never leaked: every pool container carries the pool labels (template, host, queue, worker
 * process). {@link WarmPool.sweep} (at start, on every refill tick and from the reconciler)
 * removes the ones this process does not hold: leftovers of a crashed process (created but never
 * started, or started but never recorded) and extras.
 */
import { randomBytes } from 'node:crypto';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { dockerMessage, dockerStatus } from '../docker/errors.js';
import { LABELS } from '../docker/labels.js';
import { isUnclaimedPoolContainer, POOL_LABELS, POOL_NAME_PREFIX } from '../docker/pool-labels.js';
import type { Template } from '../templates.js';
import type { Resources } from '../workflows/definitions.js';
import { poolContainerSpec, type PoolSpecOptions } from './pool-spec.js';

/** A ready container: started, on berth's network, no packet-filter chain yet (all its traffic is dropped). */
export interface PoolEntry {
  name: string;
  id: string;
  ip: string;
  templateID: string;
  image: string;
  resources: Resources;
  labels: Record<string, string>;
}

export type PoolEvent = 'claim' | 'miss' | 'refill' | 'refill_failed' | 'removed';

export interface WarmPoolDeps {
  docker: Docker;
  logger: Logger;
  /** Pool size per template (absent or 0: none). */
  sizes: Record<string, number>;
  templates: Map<string, Template>;
  refillIntervalMs: number;
  /** Everything of the container spec but the name; `instanceID` is generated when omitted. */
  spec: Omit<PoolSpecOptions, 'instanceID'> & { instanceID?: string };
  /** Makes sure berth's network exists before the first container joins it. */
  prepareNetwork: () => Promise<void>;
  /**
   * berth's agent in pool containers: prepares a pool container's agent folder (no token; see
   * src/activities/agent-dir.ts) and removes it with the container. Absent: no agent.
   */
  agent?: {
    prepare: (name: string) => Promise<{ binaryPath: string; hostDir: string } | undefined>;
    remove: (name: string) => Promise<void>;
  };
  /** Called on each claim, miss, refill… (metrics). */
  onEvent?: (event: PoolEvent, templateID: string) => void;
}

export interface PoolStats {
  ready: Record<string, number>;
  claims: number;
  misses: number;
  refills: number;
  refillFailures: number;
  removed: number;
}

export class WarmPool {
  readonly instanceID: string;
  private readonly ready = new Map<string, PoolEntry[]>();
  /** Names of containers this process is creating right now (the sweep leaves them alone). */
  private readonly inflight = new Set<string>();
  /** Names handed to a create that has not renamed (or given back) them yet: the sweep leaves them alone. */
  private readonly claiming = new Set<string>();
  private readonly counts = { claims: 0, misses: 0, refills: 0, refillFailures: 0, removed: 0 };
  private refilling: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly deps: WarmPoolDeps) {
    this.instanceID = deps.spec.instanceID ?? randomBytes(6).toString('hex');
  }

  /** True when at least one template has a pool. */
  get enabled(): boolean {
    return Object.values(this.deps.sizes).some((n) => n > 0);
  }

  sizeOf(templateID: string): number {
    return this.deps.sizes[templateID] ?? 0;
  }

  stats(): PoolStats {
    const ready: Record<string, number> = {};
    for (const [templateID, size] of Object.entries(this.deps.sizes)) if (size > 0) ready[templateID] = this.ready.get(templateID)?.length ?? 0;
    return { ready, ...this.counts };
  }

  /** Removes what a previous process left, then fills the pools and keeps them filled. */
  async start(): Promise<void> {
    if (!this.enabled) return;
    await this.sweep();
    this.timer = setInterval(() => {
      this.sweep()
        .catch((err: unknown) => this.deps.logger.warn({ err }, 'warm pool sweep failed'))
        .finally(() => this.kick());
    }, this.deps.refillIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Stops refilling and removes the ready containers (nobody will claim them). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.refilling;
    const entries = [...this.ready.values()].flat();
    this.ready.clear();
    await Promise.all(entries.map((e) => this.remove(e.id, e.name)));
  }

  /**
   * Hands a ready container of the template (with this image) to one caller, or undefined (a miss).
   * Starts a refill either way.
   */
  take(templateID: string, image: string): PoolEntry | undefined {
    if (this.sizeOf(templateID) <= 0 || this.stopped) return undefined;
    const list = this.ready.get(templateID) ?? [];
    const index = list.findIndex((e) => e.image === image);
    const entry = index >= 0 ? list.splice(index, 1)[0] : undefined;
    if (entry) {
      this.claiming.add(entry.name);
      this.record('claim', templateID);
    } else this.record('miss', templateID);
    this.kick();
    return entry;
  }

  /** A create that took an entry did not use it (it was never renamed): ready again. */
  giveBack(entry: PoolEntry): void {
    this.claiming.delete(entry.name);
    if (this.stopped) {
      void this.remove(entry.id, entry.name);
      return;
    }
    const list = this.ready.get(entry.templateID) ?? [];
    list.unshift(entry);
    this.ready.set(entry.templateID, list);
  }

  /** The create renamed the entry's container to its sandbox ID (or it vanished): it is no longer the pool's. */
  claimed(entry: PoolEntry): void {
    this.claiming.delete(entry.name);
  }

  /** Counts a create that could not use the pool (volumes, a network policy, …). */
  bypass(templateID: string): void {
    if (this.sizeOf(templateID) > 0) this.record('miss', templateID);
  }

  /** Starts a refill unless one runs (then it runs once more afterwards). */
  kick(): void {
    if (this.stopped || !this.enabled) return;
    if (this.refilling) {
      this.again = true;
      return;
    }
    this.refilling = this.refillAll()
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'warm pool refill failed'))
      .finally(() => {
        this.refilling = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Waits until no refill runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.refilling) await this.refilling;
  }

  /**
   * Removes this host and queue's unclaimed pool containers that this process does not hold
   * (another process's, a crashed refill's, extras), and forgets held ones that stopped running.
   * Claimed containers (renamed to a sandbox ID) are sandboxes: never touched here.
   */
  async sweep(): Promise<string[]> {
    const { host, taskQueue } = this.deps.spec;
    const heldBefore = new Set([...this.ready.values()].flat().map((e) => e.name));
    const containers = await this.deps.docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.managed}=true`, POOL_LABELS.pool, `${LABELS.host}=${host}`, `${LABELS.queue}=${taskQueue}`] },
    });
    const runningHeld = new Set<string>();
    const removed: string[] = [];
    for (const c of containers) {
      if (!isUnclaimedPoolContainer(c)) continue;
      const name = (c.Names[0] ?? '').replace(/^\//, '');
      if (this.inflight.has(name) || this.claiming.has(name)) continue;
      // Held now (not only before the listing: a refill may have recorded it meanwhile).
      const held = this.holds(name) && c.Labels[POOL_LABELS.instance] === this.instanceID;
      if (held && c.State === 'running') {
        runningHeld.add(name);
        continue;
      }
      // Held but no longer running, a crashed process's, or one nobody holds: it goes. By its
      // pool name: a claim renames it first, so a container claimed since the listing is safe.
      await this.remove(name, name);
      removed.push(name);
    }
    for (const [templateID, list] of this.ready) {
      const [keep, gone] = [list.filter((e) => !heldBefore.has(e.name) || runningHeld.has(e.name)), list.filter((e) => heldBefore.has(e.name) && !runningHeld.has(e.name))];
      this.ready.set(templateID, keep);
      // Held ones that vanished (removed by hand, engine restarted): their agent folders go too.
      for (const e of gone) if (!removed.includes(e.name)) await this.removeAgentDir(e.name);
    }
    if (removed.length > 0) this.deps.logger.info({ removed }, 'warm pool: removed stale pool containers');
    return removed;
  }

  private holds(name: string): boolean {
    for (const list of this.ready.values()) if (list.some((e) => e.name === name)) return true;
    return false;
  }

  private async refillAll(): Promise<void> {
    for (const [templateID, size] of Object.entries(this.deps.sizes)) {
      const template = this.deps.templates.get(templateID);
      if (!template || size <= 0) continue;
      while (!this.stopped && (this.ready.get(templateID)?.length ?? 0) < size) {
        const ok = await this.createOne(template);
        if (!ok) break; // try again on the next tick
      }
    }
  }

  private async createOne(template: Template): Promise<boolean> {
    const name = `${POOL_NAME_PREFIX}${randomBytes(8).toString('hex')}`;
    this.inflight.add(name);
    let id: string | undefined;
    try {
      await this.deps.prepareNetwork();
      const agent = await this.deps.agent?.prepare(name);
      const spec = poolContainerSpec(name, template, { ...this.deps.spec, instanceID: this.instanceID }, agent);
      id = (await this.deps.docker.createContainer(spec)).id;
      const container = this.deps.docker.getContainer(id);
      await container.start();
      const info = await container.inspect();
      const ip = info.NetworkSettings.Networks?.[this.deps.spec.networkName]?.IPAddress;
      if (!ip) throw new Error(`pool container ${name} has no address on ${this.deps.spec.networkName}`);
      if (this.stopped) throw new Error('warm pool stopped');
      const entry: PoolEntry = {
        name,
        id,
        ip,
        templateID: template.id,
        image: template.image,
        resources: { cpu: template.cpu, memoryMB: template.memoryMB },
        labels: spec.Labels ?? {},
      };
      const list = this.ready.get(template.id) ?? [];
      list.push(entry);
      this.ready.set(template.id, list);
      this.record('refill', template.id);
      return true;
    } catch (err) {
      if (id) await this.remove(id, name);
      else await this.removeAgentDir(name);
      if (!this.stopped) {
        this.record('refill_failed', template.id);
        this.deps.logger.warn({ template: template.id, err: dockerMessage(err) }, 'warm pool: could not make a pool container');
      }
      return false;
    } finally {
      this.inflight.delete(name);
    }
  }

  private async remove(id: string, name: string): Promise<void> {
    try {
      await this.deps.docker.getContainer(id).remove({ force: true, v: true });
      this.counts.removed++;
      this.deps.onEvent?.('removed', name);
    } catch (err) {
      if (dockerStatus(err) !== 404) {
        this.deps.logger.warn({ name, err: dockerMessage(err) }, 'warm pool: could not remove a pool container');
        return;
      }
    }
    await this.removeAgentDir(name);
  }

  /** Removes an unclaimed pool container's agent folder (a claim renamed a claimed one's to its sandbox ID). */
  private async removeAgentDir(name: string): Promise<void> {
    await this.deps.agent?.remove(name).catch((err: unknown) => this.deps.logger.warn({ name, err }, 'warm pool: could not remove an agent folder'));
  }

  private record(event: Exclude<PoolEvent, 'removed'>, templateID: string): void {
    if (event === 'claim') this.counts.claims++;
    else if (event === 'miss') this.counts.misses++;
    else if (event === 'refill') this.counts.refills++;
    else this.counts.refillFailures++;
    this.deps.onEvent?.(event, templateID);
  }
}
