/**
 * The worker's side of berth's in-sandbox agent (docs/agent.md): before a sandbox's container
 * is created, its host folder is made (mode 0700, root's) with the token the agent reads at
 * start; when the sandbox is destroyed, the folder goes.
 */
import { access, chmod, constants, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AGENT_TOKEN_FILE, agentHostDir, agentSocketPath, agentToken } from '../docker/agent.js';

export interface AgentDirConfig {
  secretKeyHex: string;
  agent: { binaryPath: string | null; dir: string };
}

/** A sandbox ID that is safe as one path segment (never empty, `.`, `..` or with a `/`). */
const SAFE_ID = /^[A-Za-z0-9_-]+$/;

/**
 * Prepares the sandbox's agent folder; returns the spec's agent option, or undefined (no agent: no
 * binary, or a path too long for a socket). `withToken: false` (a warm-pool container, named
 * before anyone owns it): no token, so its agent answers nobody until {@link claimAgentDir}.
 */
export async function prepareAgentDir(config: AgentDirConfig, sandboxID: string, withToken = true): Promise<{ binaryPath: string; hostDir: string } | undefined> {
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
  if (withToken) await writeFile(path.join(hostDir, AGENT_TOKEN_FILE), `${agentToken(config.secretKeyHex, sandboxID)}\n`, { mode: 0o600 });
  return { binaryPath: path.resolve(binaryPath), hostDir };
}

/**
 * A warm-pool container's agent folder becomes its sandbox's: renamed from the pool name to the
 * sandbox ID (the container's bind mount follows the folder, so the agent's socket is then at the
 * sandbox's own path). False when there is nothing to move (the pool container has no agent) or
 * the sandbox already has a folder (an earlier attempt's): the claim then goes on without an agent
 * (commands use docker exec). Call {@link giveAgentToken} once the container is the sandbox's.
 */
export async function moveAgentDir(config: Pick<AgentDirConfig, 'agent'>, from: string, to: string): Promise<boolean> {
  if (!config.agent.binaryPath || !SAFE_ID.test(from) || !SAFE_ID.test(to) || !agentSocketPath(config.agent.dir, to)) return false;
  const target = path.resolve(agentHostDir(config.agent.dir, to));
  if (await access(target).then(() => true, () => false)) return false;
  try {
    await rename(path.resolve(agentHostDir(config.agent.dir, from)), target);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Writes the sandbox's token where its (already running) agent takes it at its next request. */
export async function giveAgentToken(config: AgentDirConfig, sandboxID: string): Promise<void> {
  await writeFile(path.join(agentHostDir(config.agent.dir, sandboxID), AGENT_TOKEN_FILE), `${agentToken(config.secretKeyHex, sandboxID)}\n`, { mode: 0o600 });
}

/** Removes the sandbox's agent folder (nothing when there is none). */
export async function removeAgentDir(config: Pick<AgentDirConfig, 'agent'>, sandboxID: string): Promise<void> {
  if (!SAFE_ID.test(sandboxID)) return;
  await rm(agentHostDir(config.agent.dir, sandboxID), { recursive: true, force: true });
}
