/**
 * Which Docker client's sandboxes have berth's agent (docs/agent.md): the API registers its
 * agent folder and secret once per Docker client with {@link useAgent}; {@link agentTargetFor}
 * then says how to reach one sandbox's agent. A client without a registration always uses
 * docker exec.
 */
import { existsSync } from 'node:fs';
import type Docker from 'dockerode';
import { agentSocketPath, agentToken } from '../docker/agent.js';
import type { AgentTarget } from './agent-client.js';

interface AgentRoute {
  dir: string;
  secretKeyHex: string;
}

const routes = new WeakMap<Docker, AgentRoute>();

/** Sends the data plane of `docker`'s sandboxes through their agents (when they have one). */
export function useAgent(docker: Docker, route: AgentRoute): void {
  routes.set(docker, route);
}

/** Stops using agents for `docker`'s sandboxes. */
export function stopUsingAgent(docker: Docker): void {
  routes.delete(docker);
}

/** How to reach the agent of sandbox `sandboxID` on `docker`, or null (no agent registered, or no usable socket path). */
export function agentTargetFor(docker: Docker, sandboxID: string): AgentTarget | null {
  const route = routes.get(docker);
  if (!route) return null;
  const socketPath = agentSocketPath(route.dir, sandboxID);
  return socketPath ? { socketPath, token: agentToken(route.secretKeyHex, sandboxID) } : null;
}

/**
 * Whether sandbox `sandboxID` has an agent socket (its agent most likely runs): the data plane
 * then prefers streaming through processes over Docker's archive API and the spool. A dead
 * agent leaves its socket behind; those calls still work, through docker exec.
 */
export function agentAvailable(docker: Docker, sandboxID: string): boolean {
  const target = agentTargetFor(docker, sandboxID);
  return target !== null && existsSync(target.socketPath);
}
