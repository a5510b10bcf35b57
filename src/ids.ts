import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Sandbox IDs: short lowercase alphanumerics (20 chars ≈ 103 bits). No `-`, never `brd`. */
export const SANDBOX_ID_PATTERN = /^[a-z0-9]{20}$/;

/**
 * Substrings a sandbox ID never contains. `agentbox-python-sdk` (an E2B client) switches to
 * an SSH mode for any sandbox whose ID contains `brd`, so berth never issues such an ID.
 */
const FORBIDDEN = ['brd'];

/** Generates a new random sandbox ID; `pick(n)` draws an index below n (injectable for tests). */
export function newSandboxID(pick: (n: number) => number = randomInt): string {
  for (;;) {
    let id = '';
    for (let i = 0; i < 20; i++) id += ALPHABET[pick(ALPHABET.length)];
    if (!FORBIDDEN.some((s) => id.includes(s))) return id;
  }
}

/** Generates a new snapshot ID (`snap_` + a sandbox-style ID; see SNAPSHOT_ID_PATTERN). */
export function newSnapshotID(pick: (n: number) => number = randomInt): string {
  return `snap_${newSandboxID(pick)}`;
}

/** The workflow ID that carries a sandbox. */
export function workflowIdFor(sandboxID: string): string {
  return `sandbox-${sandboxID}`;
}
