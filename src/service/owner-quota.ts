/**
 * Per-owner quotas on creates: how many live sandboxes, and how much CPU and memory they
 * reserve in total. Live sandboxes are read from Temporal visibility (one list call; the
 * resources are the `BerthCpu` / `BerthMemoryMB` search attributes set when the workflow
 * starts); creates this process has in flight are added from memory, since they may not be
 * visible yet.
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
}

/** What an owner's live sandboxes hold. */
export interface OwnerUsage {
  sandboxes: number;
  cpu: number;
  memoryMB: number;
}

export class OwnerQuota {
  /** Creates in flight in this process, per owner: sandbox ID → resources. */
  private readonly creating = new Map<string, Map<string, Resources>>();

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
      const usage = await this.liveUsage(owner, others.map(([id]) => id));
      for (const [, r] of others) {
        usage.sandboxes++;
        usage.cpu += r.cpu;
        usage.memoryMB += r.memoryMB;
      }
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

  private check(owner: string, used: OwnerUsage, wanted: Resources): void {
    const { maxSandboxesPerOwner, maxCpuPerOwner, maxMemoryMBPerOwner } = this.limits;
    if (used.sandboxes >= maxSandboxesPerOwner) {
      throw new QuotaExceededError(`owner ${owner} already has ${used.sandboxes} live sandboxes (limit ${maxSandboxesPerOwner}); kill or let some stop first`);
    }
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

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
