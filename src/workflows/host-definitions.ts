/**
 * The messages of a host workflow (src/workflows/host.ts): one long-lived workflow per Docker
 * host that records what its worker reports (engine, capacity, images), whether an operator
 * drained it, and whether it is lost (silent past its grace period).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/** What a worker reports about its host on every heartbeat. */
export interface HostReport {
  /** Identifies the Docker engine (`docker info` ID and data root): two engines never share one. */
  engineID: string;
  /** Identifies the worker process (host name and pid), shown to operators. */
  workerID: string;
  cpus: number;
  memoryMB: number;
  /** Image references present on the engine (`repo:tag`), at most a few hundred. */
  images: string[];
}

/** A host as the workflow knows it. */
export interface HostInfo {
  host: string;
  /** The last report (null before the first one). */
  report: HostReport | null;
  /** Workflow time of the last report, epoch ms. */
  lastSeenMs: number | null;
  /** No new sandboxes are placed on a drained host; existing ones run out. */
  drained: boolean;
  /** Silent past the grace period: its sandboxes were stopped with `host_lost`. */
  lost: boolean;
  lostAtMs: number | null;
  graceMs: number;
}

export interface HostWorkflowInput {
  host: string;
  graceMs: number;
  /** Carried across continueAsNew. */
  state?: HostInfo;
}

export const hostHeartbeatSignal = defineSignal<[HostReport]>('hostHeartbeat');
export const hostDrainUpdate = defineUpdate<HostInfo, [{ drained: boolean }]>('hostDrain');
export const hostInfoQuery = defineQuery<HostInfo>('hostInfo');

/** The workflow ID of a host's workflow (scoped by the shared task queue). */
export function hostWorkflowId(sharedQueue: string, host: string): string {
  return `berth-host-${sharedQueue}-${host}`;
}

/** Input of the activity that stops a lost host's sandboxes. */
export interface HostLostActivityRequest {
  host: string;
  sharedQueue: string;
  detail: string;
}
