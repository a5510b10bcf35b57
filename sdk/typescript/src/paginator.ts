/** Paging through `GET /sandboxes`. */
import type { ConnectionOptions, RequestOptions } from './connection.js';
import type { Transport } from './transport.js';
import type { SandboxListItem, SandboxPage, SandboxStatus } from './types.js';

/** Filter and page size of {@link Sandbox.list}. */
export interface SandboxListQuery extends ConnectionOptions, RequestOptions {
  /** One or several states; default: every live one (creating, running, paused). */
  status?: SandboxStatus | SandboxStatus[];
  /** Metadata that must match (all pairs). */
  metadata?: Record<string, string>;
  /** Page size, 1-1000 (default 100). */
  limit?: number;
  /** Start from this token (from an earlier page). */
  nextToken?: string;
}

/** Pages of sandboxes. Iterate with `for await (const page of paginator)` or `.items()`. */
export class SandboxPaginator implements AsyncIterable<SandboxListItem[]> {
  private token: string | undefined;
  private done = false;

  constructor(
    private readonly transport: Transport,
    private readonly query: SandboxListQuery,
  ) {
    this.token = query.nextToken;
  }

  /** Whether another page may exist. */
  get hasNext(): boolean {
    return !this.done;
  }

  /** Token of the next page (undefined before the first call or after the last page). */
  get nextToken(): string | undefined {
    return this.token;
  }

  /** Fetches the next page; an empty array once done. */
  async nextItems(): Promise<SandboxListItem[]> {
    if (this.done) return [];
    const q = this.query;
    const status = q.status === undefined ? undefined : Array.isArray(q.status) ? q.status.join(',') : q.status;
    const page = await this.transport.json<SandboxPage>('GET', '/sandboxes', {
      ...(q.signal ? { signal: q.signal } : {}),
      ...(q.requestTimeoutMs !== undefined ? { requestTimeoutMs: q.requestTimeoutMs } : {}),
      query: {
        status,
        metadata: q.metadata ? Object.entries(q.metadata).map(([k, v]) => `${k}=${v}`) : undefined,
        limit: q.limit,
        nextToken: this.token,
      },
    });
    this.token = page.nextToken ?? undefined;
    if (!page.nextToken) this.done = true;
    return page.sandboxes;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SandboxListItem[]> {
    while (this.hasNext) yield await this.nextItems();
  }

  /** Every sandbox, across pages. */
  async *items(): AsyncGenerator<SandboxListItem> {
    for await (const page of this) yield* page;
  }
}
