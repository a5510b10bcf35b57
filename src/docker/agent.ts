/**
 * Where berth's in-sandbox agent lives (docs/agent.md), shared by the worker (which mounts it
 * into a new sandbox) and the API (which talks to it): paths on the host and in the
 * container, and the per-sandbox token.
 */
import { createHmac } from 'node:crypto';
import path from 'node:path';

/** The agent binary inside every sandbox (a read-only bind mount of the host's binary). */
export const AGENT_BINARY_IN_SANDBOX = '/.berth-agent';
/** The sandbox's agent folder inside the container (a bind mount of {@link agentHostDir}). */
export const AGENT_DIR_IN_SANDBOX = '/run/berth';
/** The socket's file name in the agent folder. */
export const AGENT_SOCKET = 'agent.sock';
/** The token's file name in the agent folder (the agent reads and removes it at start). */
export const AGENT_TOKEN_FILE = 'token';
/** Longest unix socket path Linux accepts (sun_path is 108 bytes), with a margin. */
const MAX_SOCKET_PATH = 100;

/** The host folder of one sandbox's agent. */
export function agentHostDir(agentDir: string, sandboxID: string): string {
  return path.join(agentDir, sandboxID);
}

/** The host path of one sandbox's agent socket, or null when it would be too long for a unix socket. */
export function agentSocketPath(agentDir: string, sandboxID: string): string | null {
  const p = path.join(agentHostDir(agentDir, sandboxID), AGENT_SOCKET);
  return Buffer.byteLength(p) <= MAX_SOCKET_PATH ? p : null;
}

/** The token berth presents to a sandbox's agent: derived from berth's secret key, so the worker and every API process agree without sharing state. */
export function agentToken(secretKeyHex: string, sandboxID: string): string {
  return createHmac('sha256', Buffer.from(secretKeyHex, 'hex')).update(`berth-agent\0${sandboxID}`).digest('hex');
}
