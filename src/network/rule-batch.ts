/**
 * Sandbox rule changes (install, remove) as one atomic `iptables-restore --noflush` script.
 * Several changes queued at once (a burst of creates or kills) go in one script against one
 * listing of BERTH-EGRESS: two iptables runs for the lot instead of two (install) or six
 * (remove) per sandbox, each of which takes the host's xtables lock. Pure: no I/O.
 */
import { CHAINS, sandboxChain, sandboxJump } from './rules.js';

/** A jump of BERTH-EGRESS as `iptables -S` lists it (see parseEgressJumps). */
export interface EgressJump {
  source: string;
  chain: string;
  rule: string[];
}

export type RuleChange =
  /** Installs (or replaces) a sandbox's chain and puts its jump, keyed by its address, on top. */
  | { kind: 'install'; sandboxID: string; ip: string; rules: string[][] }
  /** Removes a sandbox's jumps and its chain (nothing when already gone). */
  | { kind: 'remove'; sandboxID: string };

/**
 * The script applying `changes` in order to a BERTH-EGRESS that holds `jumps`:
 * - install: declaring the chain flushes it (or creates it), the rules refill it, stale jumps
 *   (an earlier attempt, or another sandbox that had this address) are deleted and its own
 *   jump goes to the top of BERTH-EGRESS;
 * - remove: its jumps are deleted, then its chain is declared (created when missing, so the
 *   delete never fails on an absent chain) and deleted.
 * Changes earlier in the batch are taken into account (a jump is never deleted twice). Callers
 * never put two changes of one sandbox in one batch.
 */
export function batchRestoreScript(jumps: readonly EgressJump[], changes: readonly RuleChange[]): string {
  let model = [...jumps];
  const lines = ['*filter'];
  const deleteJumps = (stale: EgressJump[]) => {
    for (const jump of stale) lines.push(['-D', CHAINS.egress, ...jump.rule].join(' '));
    model = model.filter((jump) => !stale.includes(jump));
  };
  for (const change of changes) {
    const chain = sandboxChain(change.sandboxID);
    if (change.kind === 'install') {
      const source = `${change.ip}/32`;
      lines.push(`:${chain} - [0:0]`);
      for (const rule of change.rules) lines.push(['-A', chain, ...rule].join(' '));
      deleteJumps(model.filter((jump) => jump.chain === chain || jump.source === source));
      const jump = sandboxJump(change.sandboxID, change.ip);
      lines.push(['-I', CHAINS.egress, '1', ...jump].join(' '));
      model.unshift({ source, chain, rule: jump });
    } else {
      deleteJumps(model.filter((jump) => jump.chain === chain));
      lines.push(`:${chain} - [0:0]`, `-X ${chain}`);
    }
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}

/**
 * The next batch from a queue of pending changes: up to `max`, in order, stopping before a
 * second change of a sandbox already in it (that one waits for the next batch).
 */
export function takeBatch<T extends { change: RuleChange }>(pending: T[], max: number): T[] {
  const seen = new Set<string>();
  let n = 0;
  while (n < pending.length && n < max) {
    const id = (pending[n] as T).change.sandboxID;
    if (seen.has(id)) break;
    seen.add(id);
    n++;
  }
  return pending.splice(0, n);
}
