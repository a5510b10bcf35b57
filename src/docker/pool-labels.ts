/**
 * How warm-pool containers are told apart from sandboxes. Labels are immutable in Docker, so a
 * pool container keeps its pool labels after a create claims it; what changes is its name (the
 * claim renames it to the sandbox ID). Everything that maps a container to its sandbox goes
 * through {@link sandboxIdOfContainer}, never straight to the `berth.sandbox` label, and nothing
 * reads an owner from a pool container's labels (the sandbox's owner is in its workflow).
 */
import { LABELS } from './labels.js';

export const POOL_LABELS = {
  /** The template a pool container was made for. Present on every container that started in the pool. */
  pool: 'berth.pool',
  /** The worker process that made it: a pool container of another (dead) process is removed, never claimed. */
  instance: 'berth.pool.instance',
} as const;

/** Names of unclaimed pool containers. Sandbox IDs never contain `-`, so the two never collide. */
export const POOL_NAME_PREFIX = 'berth-pool-';

/** A container as listed (`Names: ['/x']`) or inspected (`Name: '/x'`), with its labels. */
export interface NamedContainer {
  Names?: string[];
  Name?: string;
  Labels?: Record<string, string> | null;
}

function nameOf(container: NamedContainer): string {
  const raw = container.Name ?? container.Names?.[0] ?? '';
  return raw.startsWith('/') ? raw.slice(1) : raw;
}

/** True for a container that started in a warm pool (claimed or not). */
export function isPoolOrigin(container: NamedContainer): boolean {
  return Boolean(container.Labels?.[POOL_LABELS.pool]);
}

/** True for a pool container no create has claimed yet. */
export function isUnclaimedPoolContainer(container: NamedContainer): boolean {
  return isPoolOrigin(container) && nameOf(container).startsWith(POOL_NAME_PREFIX);
}

/**
 * The sandbox a berth container belongs to: its `berth.sandbox` label for a container made for
 * the sandbox, its name for a claimed pool container, and null for an unclaimed pool container.
 */
export function sandboxIdOfContainer(container: NamedContainer): string | null {
  if (isPoolOrigin(container)) return isUnclaimedPoolContainer(container) ? null : nameOf(container) || null;
  return container.Labels?.[LABELS.sandbox] ?? null;
}
