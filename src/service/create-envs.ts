/**
 * The env vars a sandbox was created with, for the data plane to add to every exec. A sandbox
 * claimed from the warm pool runs in a container started before its create, so its container
 * environment lacks them; adding them per exec gives commands, terminals, envd and execd the
 * same `env` either way (for a container made for the sandbox it repeats what is already there).
 *
 * They come sealed from the sandbox's workflow (a query: nothing is written to history) and are
 * opened with the API's secret key; a sandbox's envs never change, so each API process asks once
 * per sandbox (creates through this process prime the cache and never ask).
 */
import { QueryNotRegisteredError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { workflowIdFor } from '../ids.js';
import { openJson } from '../secrets.js';
import { sealedEnvsQuery } from '../workflows/definitions.js';

const CACHE_LIMIT = 10_000;

export class CreateEnvs {
  private readonly cache = new Map<string, Promise<Record<string, string>>>();

  constructor(
    private readonly client: Client,
    private readonly secretKeyHex: string,
  ) {}

  /** The envs `sandboxID` was created with ({} when none). */
  get(sandboxID: string): Promise<Record<string, string>> {
    const cached = this.cache.get(sandboxID);
    if (cached) return cached;
    const lookup = this.query(sandboxID);
    this.remember(sandboxID, lookup);
    // A failed lookup is not kept: the next exec asks again.
    lookup.catch(() => this.cache.delete(sandboxID));
    return lookup;
  }

  /** Records the envs of a sandbox this process just created (sealed as in its spec). */
  prime(sandboxID: string, sealedEnvs: string | undefined): void {
    this.remember(sandboxID, Promise.resolve(this.open(sealedEnvs ?? null)));
  }

  private remember(sandboxID: string, envs: Promise<Record<string, string>>): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(sandboxID, envs);
  }

  private async query(sandboxID: string): Promise<Record<string, string>> {
    try {
      return this.open(await this.client.workflow.getHandle(workflowIdFor(sandboxID)).query(sealedEnvsQuery));
    } catch (err) {
      // Runs of versions without the query were never claimed from a pool: their container has the envs.
      if (err instanceof QueryNotRegisteredError) return {};
      // Gone: the exec itself reports the missing sandbox.
      if (err instanceof WorkflowNotFoundError) return {};
      throw err;
    }
  }

  private open(sealed: string | null): Record<string, string> {
    return sealed ? openJson<Record<string, string>>(sealed, this.secretKeyHex) : {};
  }
}
