import { randomInt } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Sandbox IDs: short lowercase alphanumerics (20 chars ≈ 103 bits). */
export const SANDBOX_ID_PATTERN = /^[a-z0-9]{20}$/;

/** Generates a new random sandbox ID. */
export function newSandboxID(): string {
  let id = '';
  for (let i = 0; i < 20; i++) id += ALPHABET[randomInt(ALPHABET.length)];
  return id;
}

/** The workflow ID that carries a sandbox. */
export function workflowIdFor(sandboxID: string): string {
  return `sandbox-${sandboxID}`;
}
