/**
 * Per-owner quotas on creates: how many live sandboxes, and how much CPU and memory they
 * reserve in total. Live sandboxes are read from Temporal visibility; creates this process has
 * in flight are added from memory, since they may not be visible yet.
 *
 * Cost per create (docs/scaling.md, "Owner quotas at scale"): one CountWorkflowExecutions. Only
 * when the count times the per-sandbox maximum (BERTH_MAX_CPU / BERTH_MAX_MEMORY_MB) could
 * exceed the owner's CPU or memory limit are the live sandboxes listed and their `BerthCpu` /
 * `BerthMemoryMB` search attributes summed (the exact check). Listing every live sandbox on every
 * create made a burst O(n²) and pushed the dev server past its persistence QPS at 1000 live.
 */
import type { Client } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes.js';
import { QuotaExceededError } from '../errors.js';
import { infoQuery, SearchAttr, type Resources } from '../workflows/definitions.js';
import { sandboxVisibilityQuery } from './visibility-query.js';

export interface OwnerLimits {
  maxSandboxesPerOwner: number;
  maxCpuPerOwner: number;
  maxMemoryMBPerOwner: number;
  /** The most one sandbox may ask for (what create accepts): bounds the usage of counted sandboxes. */
  maxCpu: number;
  maxMemoryMB: number;
}

/** How the last check of an owner was made (tests and metrics read it). */
export type QuotaPath = 'count' | 'list';

/** What an owner's live sandboxes hold. */
export interface OwnerUsage {
  sandboxes: number;
  cpu: number;
  memoryMB: number;
}

export class OwnerQuota {
  /** Creates in flight in this process, per owner: sandbox ID → resources. */
  private readonly creating = new Map<string, Map<string, Resources>>();
  /** How many checks took each path (the cheap count, or the exact list). */
  readonly checks: Record<QuotaPath, number> = { count: 0, list: 0 };

  constructor(
    private readonly client: Client,
    private readonly namespace: string,
    private readonly limits: OwnerLimits,
  ) {}

  /**
   * Reserves room for one more sandbox of `owner` with `resources`, or throws 429 naming
   * what is used and the limit. Call {@link release} once the create ended (either way).
   * In-flight creates are reserved before visibility is read, so parallel creates in this
   * process cannot all pass on the same count.
   */
  async reserve(owner: string, sandboxID: string, resources: Resources): Promise<void> {
    const mine = this.creating.get(owner) ?? new Map<string, Resources>();
    this.creating.set(owner, mine);
    const others = [...mine.entries()];
    mine.set(sandboxID, resources);
    try {
      const exclude = others.map(([id]) => id);
      const pending: OwnerUsage = { sandboxes: others.length, cpu: 0, memoryMB: 0 };
      for (const [, r] of others) {
        pending.cpu += r.cpu;
        pending.memoryMB += r.memoryMB;
      }
      const live = await this.liveCount(owner, exclude);
      const { maxCpu, maxMemoryMB } = this.limits;
      // Each counted sandbox holds at most what create accepts: if even that fits, no need to sum.
      const bound = add(pending, { sandboxes: live, cpu: live * maxCpu, memoryMB: live * maxMemoryMB });
      this.checkCount(owner, bound.sandboxes);
      if (this.fits(bound, resources)) {
        this.checks.count++;
        return;
      }
      this.checks.list++;
      const usage = add(pending, await this.liveUsage(owner, exclude));
      this.checkCount(owner, usage.sandboxes);
      this.check(owner, usage, resources);
    } catch (err) {
      this.release(owner, sandboxID);
      throw err;
    }
  }

  release(owner: string, sandboxID: string): void {
    const mine = this.creating.get(owner);
    mine?.delete(sandboxID);
    if (mine?.size === 0) this.creating.delete(owner);
  }

  private checkCount(owner: string, sandboxes: number): void {
    const { maxSandboxesPerOwner } = this.limits;
    if (sandboxes >= maxSandboxesPerOwner) {
      throw new QuotaExceededError(`owner ${owner} already has ${sandboxes} live sandboxes (limit ${maxSandboxesPerOwner}); kill or let some stop first`);
    }
  }

  private fits(used: OwnerUsage, wanted: Resources): boolean {
    return used.cpu + wanted.cpu <= this.limits.maxCpuPerOwner + 1e-9 && used.memoryMB + wanted.memoryMB <= this.limits.maxMemoryMBPerOwner;
  }

  private check(owner: string, used: OwnerUsage, wanted: Resources): void {
    const { maxCpuPerOwner, maxMemoryMBPerOwner } = this.limits;
    if (used.cpu + wanted.cpu > maxCpuPerOwner + 1e-9) {
      throw new QuotaExceededError(
        `owner ${owner} has ${round(used.cpu)} CPUs in live sandboxes; ${wanted.cpu} more would exceed the limit of ${maxCpuPerOwner} ` +
          '(BERTH_MAX_CPU_PER_OWNER): ask for less, or kill or let some sandboxes stop first',
      );
    }
    if (used.memoryMB + wanted.memoryMB > maxMemoryMBPerOwner) {
      throw new QuotaExceededError(
        `owner ${owner} has ${used.memoryMB} MB of memory in live sandboxes; ${wanted.memoryMB} MB more would exceed the limit of ${maxMemoryMBPerOwner} MB ` +
          '(BERTH_MAX_MEMORY_MB_PER_OWNER): ask for less, or kill or let some sandboxes stop first',
      );
    }
  }

  /** How many live sandboxes the owner has (minus `exclude`), from visibility: one count call. */
  private async liveCount(owner: string, exclude: string[]): Promise<number> {
    const query = sandboxVisibilityQuery({ owner, excludeSandboxIDs: exclude });
    const answer = await this.client.workflowService.countWorkflowExecutions({ namespace: this.namespace, query });
    return Number(answer.count ?? 0);
  }

  /** The owner's live sandboxes (minus `exclude`) from visibility: count and resources. */
  private async liveUsage(owner: string, exclude: string[]): Promise<OwnerUsage> {
    const usage: OwnerUsage = { sandboxes: 0, cpu: 0, memoryMB: 0 };
    const query = sandboxVisibilityQuery({ owner, excludeSandboxIDs: exclude });
    const unlabelled: string[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.client.workflowService.listWorkflowExecutions({ namespace: this.namespace, pageSize: 1000, query, nextPageToken });
      for (const execution of page.executions ?? []) {
        usage.sandboxes++;
        const attrs = decodeTypedSearchAttributes(execution.searchAttributes?.indexedFields);
        const cpu = attrs.get(SearchAttr.cpu);
        const memoryMB = attrs.get(SearchAttr.memoryMB);
        if (cpu === undefined || memoryMB === undefined) unlabelled.push(execution.execution?.workflowId ?? '');
        else {
          usage.cpu += cpu;
          usage.memoryMB += memoryMB;
        }
      }
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    // Sandboxes started before the resource attributes existed: ask them.
    const infos = await Promise.all(
      unlabelled.map((workflowId) =>
        this.client.workflow
          .getHandle(workflowId)
          .query(infoQuery)
          .catch(() => undefined),
      ),
    );
    for (const info of infos) {
      usage.cpu += info?.resources.cpu ?? 0;
      usage.memoryMB += info?.resources.memoryMB ?? 0;
    }
    return usage;
  }
}

function add(a: OwnerUsage, b: OwnerUsage): OwnerUsage {
  return { sandboxes: a.sandboxes + b.sandboxes, cpu: a.cpu + b.cpu, memoryMB: a.memoryMB + b.memoryMB };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
