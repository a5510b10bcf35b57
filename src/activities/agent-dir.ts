/**
 * The worker's side of berth's in-sandbox agent (docs/agent.md): before a sandbox's container
 * is created, its host folder is made (mode 0700, root's) with the token the agent reads at
 * start; when the sandbox is destroyed, the folder goes.
 */
import { access, chmod, constants, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AGENT_TOKEN_FILE, agentHostDir, agentSocketPath, agentToken } from '../docker/agent.js';

export interface AgentDirConfig {
  secretKeyHex: string;
  agent: { binaryPath: string | null; dir: string };
}

/** A sandbox ID that is safe as one path segment (never empty, `.`, `..` or with a `/`). */
const SAFE_ID = /^[A-Za-z0-9_-]+$/;

/** Prepares the sandbox's agent folder; returns the spec's agent option, or undefined (no agent: no binary, or a path too long for a socket). */
export async function prepareAgentDir(config: AgentDirConfig, sandboxID: string): Promise<{ binaryPath: string; hostDir: string } | undefined> {
  const { binaryPath, dir } = config.agent;
  if (!binaryPath || !SAFE_ID.test(sandboxID) || !agentSocketPath(dir, sandboxID)) return undefined;
  try {
    await access(binaryPath, constants.X_OK);
  } catch {
    return undefined;
  }
  const hostDir = path.resolve(agentHostDir(dir, sandboxID));
  await mkdir(hostDir, { recursive: true, mode: 0o700 });
  await chmod(hostDir, 0o700);
  await writeFile(path.join(hostDir, AGENT_TOKEN_FILE), `${agentToken(config.secretKeyHex, sandboxID)}\n`, { mode: 0o600 });
  return { binaryPath: path.resolve(binaryPath), hostDir };
}

/** Removes the sandbox's agent folder (nothing when there is none). */
export async function removeAgentDir(config: Pick<AgentDirConfig, 'agent'>, sandboxID: string): Promise<void> {
  if (!SAFE_ID.test(sandboxID)) return;
  await rm(agentHostDir(config.agent.dir, sandboxID), { recursive: true, force: true });
}
