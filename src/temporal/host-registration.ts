/**
 * A worker's registration of its Docker host: before it serves the host's task queue it checks
 * that no other live worker serves the same host name with a different engine (that would send
 * one host's activities to two engines), then reports the host (engine, capacity, images) to
 * the host's workflow every heartbeat period. A report is sent only when the engine answers: a
 * host whose worker or engine is down goes silent and, past the grace period, is lost.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { hostHeartbeatSignal, hostWorkflowId, type HostReport } from '../workflows/host-definitions.js';
import type { hostWorkflow } from '../workflows/host.js';
import { lastHostReport } from './host-last-report.js';

const MAX_IMAGES_REPORTED = 300;

export interface HostRegistrationOptions {
  client: Client;
  docker: Docker;
  logger: Logger;
  sharedQueue: string;
  hostName: string;
  heartbeatMs: number;
  graceMs: number;
}

/** A worker would serve a host name another live worker serves with another engine. */
export class HostConflictError extends Error {}

/** The engine's identity: Docker's ID and its data root (Docker 20.10 derives the ID from /etc/docker/key.json, which two engines on one machine share). */
export async function engineIdentity(docker: Docker): Promise<{ engineID: string; cpus: number; memoryMB: number }> {
  const info = (await docker.info()) as { ID: string; DockerRootDir: string; NCPU: number; MemTotal: number };
  return { engineID: `${info.ID}@${info.DockerRootDir}`, cpus: info.NCPU, memoryMB: Math.floor(info.MemTotal / (1024 * 1024)) };
}

const workerID = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

async function hostReport(docker: Docker): Promise<HostReport> {
  const identity = await engineIdentity(docker);
  const images = (await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  return { ...identity, workerID, images: images.slice(0, MAX_IMAGES_REPORTED) };
}

/** Rejects after `ms` (an engine that does not answer must not hang the worker's start). */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the Docker engine did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Registers the host and keeps reporting it. Throws {@link HostConflictError} when another live
 * worker serves this host name with a different engine. When the engine does not answer at
 * start, the check runs with the first report that succeeds, and a conflict found then is
 * handed to `onConflict` (the worker stops). Returns a function that stops reporting.
 */
export async function registerHost(options: HostRegistrationOptions & { onConflict?: (err: HostConflictError) => void }): Promise<() => void> {
  const { client, docker, logger, sharedQueue, hostName, heartbeatMs, graceMs } = options;
  const workflowId = hostWorkflowId(sharedQueue, hostName);
  let checked = false;

  async function checkConflict(report: HostReport): Promise<void> {
    // From the host workflow's history, not a query: a query needs a worker polling the shared
    // queue, and a restarted lone worker (not polling yet) would wait ~30 s for the server to give up.
    const last = await lastHostReport(client, workflowId);
    const alive = last !== null && Date.now() - last.seenAtMs < graceMs;
    if (last && alive && last.report.engineID !== report.engineID) {
      throw new HostConflictError(
        `host name ${hostName} is already served by a live worker (${last.report.workerID}) with another Docker engine (${last.report.engineID}; this one is ${report.engineID}). ` +
          'Give each Docker host its own BERTH_HOST_NAME, or stop the other worker and wait for its host to be declared lost.',
      );
    }
    if (last && alive) logger.info({ host: hostName, previousWorker: last.report.workerID }, 'same engine as the last live worker of this host: taking over at once');
    checked = true;
  }
  const send = (r: HostReport) =>
    client.workflow.signalWithStart<typeof hostWorkflow, [HostReport]>('hostWorkflow', {
      workflowId,
      taskQueue: sharedQueue,
      args: [{ host: hostName, graceMs }],
      signal: hostHeartbeatSignal,
      signalArgs: [r],
      staticSummary: `Docker host ${hostName}`,
    });
  async function beat(): Promise<void> {
    const report = await within(Math.max(2000, heartbeatMs), hostReport(docker));
    if (!checked) await checkConflict(report);
    if (stopped) return;
    await send(report);
  }

  let stopped = false;
  try {
    await beat();
    logger.info({ host: hostName }, 'host registered');
  } catch (err) {
    if (err instanceof HostConflictError) throw err;
    logger.warn({ err, host: hostName }, 'host not registered yet (engine or Temporal did not answer); retrying every heartbeat');
  }
  let beating = false;
  const timer = setInterval(() => {
    if (beating || stopped) return;
    beating = true;
    beat()
      .catch((err: unknown) => {
        if (err instanceof HostConflictError) {
          stopped = true;
          clearInterval(timer);
          logger.error({ err, host: hostName }, 'another live worker serves this host name with another engine');
          options.onConflict?.(err);
        } else logger.warn({ err, host: hostName }, 'host heartbeat skipped (engine or Temporal did not answer)');
      })
      .finally(() => (beating = false));
  }, heartbeatMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
