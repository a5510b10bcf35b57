/** Reads what really happened to a chaos run's sandboxes, from Temporal and from Docker. */
import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import { workflowIdFor } from '../../src/ids.js';
import { infoQuery, type SandboxInfo, type SandboxResult } from '../../src/workflows/definitions.js';
import type { ContainerState, SandboxObservation, WorkflowState } from './audit.js';

export interface Expectation {
  expect: SandboxObservation['expect'];
  endAtMs: number | null;
}

/** Every live sandbox of the owner in Temporal, and every container of the owner in Docker. */
export async function discover(client: Client, docker: Docker, owner: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'sandboxWorkflow' AND ExecutionStatus = 'Running' AND BerthOwner = '${owner}'` })) {
    ids.add(execution.workflowId.replace(/^sandbox-/, ''));
  }
  for (const c of await docker.listContainers({ all: true, filters: { label: [`berth.owner=${owner}`] } })) {
    const id = c.Labels['berth.sandbox'];
    if (id) ids.add(id);
  }
  return ids;
}

export async function observe(client: Client, docker: Docker, sandboxID: string, expectation: Expectation): Promise<SandboxObservation> {
  const base = { sandboxID, ...expectation };
  const container = await containerState(docker, sandboxID);
  const handle = client.workflow.getHandle(workflowIdFor(sandboxID));
  let workflow: WorkflowState = 'absent';
  let info: SandboxInfo | null = null;
  try {
    const description = await handle.describe();
    if (description.status.name === 'RUNNING') {
      workflow = 'open';
      info = await handle.query(infoQuery);
    } else {
      workflow = 'closed';
      if (description.status.name === 'COMPLETED') info = ((await handle.result()) as SandboxResult).info;
    }
  } catch (err) {
    if (!/not found/i.test(String(err))) throw err;
  }
  return {
    ...base,
    workflow,
    status: info?.status ?? null,
    stopReason: info?.stopReason ?? null,
    stoppedAtMs: info?.stoppedAt ? Date.parse(info.stoppedAt) : null,
    container,
  };
}

async function containerState(docker: Docker, sandboxID: string): Promise<ContainerState> {
  try {
    const state = (await docker.getContainer(sandboxID).inspect()).State;
    if (state.Paused) return 'paused';
    return state.Running ? 'running' : 'exited';
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return 'absent';
    throw err;
  }
}
