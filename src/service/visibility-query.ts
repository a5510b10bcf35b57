/** Builds Temporal visibility queries for listing sandboxes. Pure; unit tested. */
import { workflowIdFor } from '../ids.js';
import type { SandboxStatus } from '../workflows/definitions.js';

const LIVE: SandboxStatus[] = ['creating', 'running', 'paused'];

function quote(value: string): string {
  if (/['"\\]/.test(value)) throw new Error(`value ${value} contains a quote or backslash`);
  return `'${value}'`;
}

export interface SandboxFilter {
  owner: string;
  statuses?: SandboxStatus[];
  /** `key=value` pairs, all required. */
  metadata?: string[];
  /** Sandboxes left out of the result (by ID). */
  excludeSandboxIDs?: string[];
}

/**
 * The visibility query for a filter. Live states come from open workflows; stopped and
 * failed ones from completed workflows (a run that continued as new is never listed).
 */
export function sandboxVisibilityQuery(filter: SandboxFilter): string {
  const statuses = filter.statuses?.length ? filter.statuses : LIVE;
  const live = statuses.filter((s) => LIVE.includes(s));
  const ended = statuses.filter((s) => !LIVE.includes(s));
  const groups: string[] = [];
  if (live.length) groups.push(`(ExecutionStatus = 'Running' AND BerthState IN (${live.map(quote).join(', ')}))`);
  if (ended.length) groups.push(`(ExecutionStatus = 'Completed' AND BerthState IN (${ended.map(quote).join(', ')}))`);
  const clauses = [`WorkflowType = 'sandboxWorkflow'`, `BerthOwner = ${quote(filter.owner)}`, `(${groups.join(' OR ')})`];
  for (const pair of filter.metadata ?? []) clauses.push(`BerthMetadata = ${quote(pair)}`);
  if (filter.excludeSandboxIDs?.length) clauses.push(`WorkflowId NOT IN (${filter.excludeSandboxIDs.map((id) => quote(workflowIdFor(id))).join(', ')})`);
  return clauses.join(' AND ');
}
