/**
 * The reconciler's sweep on one Docker host: compares berth's containers on the engine with
 * the host's live sandbox workflows and fixes drift. A live sandbox whose container is gone
 * or exited gets a `checkContainer` signal (the workflow checks for itself and stops with
 * `container_lost`); a container whose workflow is closed or absent is removed after a grace
 * period. Scoped by host and task queue labels, so workers sharing an engine (tests) never
 * sweep each other's containers.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { workflowIdFor } from '../ids.js';
import type { SandboxNetwork } from '../network/sandbox-network.js';
import { checkContainerSignal, SearchAttr, type CheckContainerRequest } from '../workflows/definitions.js';
import type { SweepRequest, SweepResult } from '../workflows/reconcile-types.js';
import { LABELS } from '../docker/labels.js';
import { dockerStatus } from '../docker/errors.js';
import { withHeartbeat } from './heartbeat.js';
import { KIND_LABEL, PAUSE_CHECKPOINT, PAUSE_KIND, PAUSE_REPO } from './pause-to-disk.js';
import { hasCheckpoint } from '../docker/checkpoints.js';
import { sandboxIdOfContainer } from '../docker/pool-labels.js';

export interface ReconcileDeps {
  docker: Docker;
  logger: Logger;
  hostName: string;
  taskQueue: string;
  /** The Temporal client; by default the worker's own (the activity context's). */
  client?: () => Client;
  /** The host's sandbox network: an orphan's packet-filter rules go with its container. */
  network?: Pick<SandboxNetwork, 'detach'>;
  /** The worker's warm pool: each sweep also removes pool containers it does not hold (crash leftovers, extras). */
  pool?: { sweep(): Promise<string[]> };
  /**
   * How long a sandbox must stay without a healthy container, its workflow still open, before
   * the sweep asks it to check (default {@link LOST_CONFIRM_MS}).
   */
  lostConfirmMs?: number;
}

/**
 * A live sandbox without a healthy container is looked at again after this long before it is
 * reported. Visibility and the engine are read at different moments: at 1000 live the listing
 * takes over a second, and in that time creates finish (container new, state now running) and
 * kills remove containers before their workflow closes. Without a second look the sweep
 * signalled ~240 healthy sandboxes during a 1000-live bench (docs/scaling.md).
 */
export const LOST_CONFIRM_MS = 3000;

const HEALTHY = new Set(['running', 'paused']);

/** `SizeRw` of a listed container (present with `size: true`; dockerode's types omit it). */
function sizeRwOf(container: Docker.ContainerInfo): number {
  const { SizeRw } = container as { SizeRw?: unknown };
  return typeof SizeRw === 'number' ? SizeRw : 0;
}

function quoted(value: string): string {
  if (/['"\\]/.test(value)) throw new Error(`${value} contains a quote or backslash; it cannot be used in a visibility query`);
  return `'${value}'`;
}

export function createReconcileActivities({ docker, logger, hostName, taskQueue, network, pool, lostConfirmMs = LOST_CONFIRM_MS, client = () => Context.current().client }: ReconcileDeps) {
  const log = logger.child({ activity: 'sweepContainers', host: hostName, taskQueue });

  /** Running or paused sandboxes of this host and queue, as visibility sees them. */
  async function liveSandboxes(temporal: Client): Promise<Set<string>> {
    const query = [
      `WorkflowType = 'sandboxWorkflow'`,
      `ExecutionStatus = 'Running'`,
      `${SearchAttr.host.name} = ${quoted(hostName)}`,
      `TaskQueue = ${quoted(taskQueue)}`,
      `${SearchAttr.state.name} IN ('running', 'paused')`,
    ].join(' AND ');
    const ids = new Set<string>();
    for await (const execution of temporal.workflow.list({ query })) ids.add(execution.workflowId.replace(/^sandbox-/, ''));
    return ids;
  }

  /** When the workflow of an orphan candidate closed: null while it is still open (never touch it). */
  async function closedAtMs(temporal: Client, sandboxID: string): Promise<number | null> {
    try {
      const description = await temporal.workflow.getHandle(workflowIdFor(sandboxID)).describe();
      if (description.status.name === 'RUNNING') return null;
      return description.closeTime?.getTime() ?? 0;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 0;
      throw err;
    }
  }

  /** Signals a check; false when the workflow has closed meanwhile. */
  async function signalCheck(temporal: Client, sandboxID: string, request: CheckContainerRequest): Promise<boolean> {
    try {
      await temporal.workflow.getHandle(workflowIdFor(sandboxID)).signal(checkContainerSignal, request);
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  return {
    async sweepContainers(request: SweepRequest): Promise<SweepResult> {
      return withHeartbeat(async () => {
        const temporal = client();
        const diskLimitBytes = request.diskLimitBytes ?? 0;
        // Visibility first: a sandbox it shows running or paused had its container before the engine is listed.
        const live = await liveSandboxes(temporal);
        const listContainers = () =>
          docker.listContainers({
            all: true,
            // The engine measures every writable layer for this: only when a disk limit is set.
            ...(diskLimitBytes > 0 ? { size: true } : {}),
            filters: { label: [`${LABELS.managed}=true`, `${LABELS.host}=${hostName}`, `${LABELS.queue}=${taskQueue}`] },
          });
        const containers = await listContainers();
        // Sandboxes paused to disk have a (tagged) pause image and, rightly, no container.
        // (By tag: a user's snapshot of a sandbox once resumed from disk carries the pause labels too.)
        const pausedToDiskNow = async () => {
          const pauseImages = await docker.listImages({ filters: JSON.stringify({ reference: [PAUSE_REPO], label: [`${KIND_LABEL}=${PAUSE_KIND}`] }) });
          return new Set(pauseImages.flatMap((image) => (image.RepoTags ?? []).filter((t) => t.startsWith(`${PAUSE_REPO}:`)).map((t) => t.slice(PAUSE_REPO.length + 1))));
        };
        // A claimed pool container is its sandbox by name (its labels are the pool's); unclaimed ones are the pool's business.
        const bySandboxOf = (listed: Docker.ContainerInfo[]) => new Map(listed.map((c) => [sandboxIdOfContainer(c) ?? '', c]));
        const bySandbox = bySandboxOf(containers);
        /** Live sandboxes without a healthy container (nor a pause image or checkpoint), with what the engine had. */
        const withoutContainer = async (candidates: Iterable<string>, byID: Map<string, Docker.ContainerInfo>) => {
          const pausedToDisk = await pausedToDiskNow();
          const missing = new Map<string, string>();
          for (const sandboxID of candidates) {
            const container = byID.get(sandboxID);
            if (container && HEALTHY.has(container.State)) continue;
            if (!container && pausedToDisk.has(sandboxID)) continue;
            // A gVisor sandbox paused to disk is an exited container holding its checkpoint.
            if (container?.State === 'exited' && (await hasCheckpoint(docker.getContainer(container.Id), PAUSE_CHECKPOINT).catch(() => false))) continue;
            missing.set(sandboxID, container?.State ?? 'missing');
          }
          return missing;
        };
        const result: SweepResult = {
          host: hostName,
          taskQueue,
          containers: containers.length,
          liveSandboxes: live.size,
          lostReported: [],
          orphansRemoved: [],
          orphansWaiting: [],
          diskOverLimit: [],
        };
        if (pool) {
          const removed = await pool.sweep();
          if (removed.length > 0) result.poolRemoved = removed;
        }

        for (const sandboxID of live) {
          const container = bySandbox.get(sandboxID);
          if (!container || !HEALTHY.has(container.State)) continue;
          const sizeRw = sizeRwOf(container);
          if (diskLimitBytes > 0 && sizeRw > diskLimitBytes) {
            const reported = await signalCheck(temporal, sandboxID, { source: 'reconciler', diskLimitBytes });
            if (reported) result.diskOverLimit.push(sandboxID);
            if (reported) log.warn({ sandboxID, sizeRwBytes: sizeRw, diskLimitBytes }, 'writable layer above the disk limit: asked the sandbox to check it');
          }
        }

        // Lost: still without a healthy container after a second look, and its workflow still open.
        let suspects = await withoutContainer(live, bySandbox);
        if (suspects.size > 0) {
          await new Promise((resolve) => setTimeout(resolve, lostConfirmMs));
          suspects = await withoutContainer(suspects.keys(), bySandboxOf(await listContainers()));
        }
        for (const [sandboxID, seen] of suspects) {
          if ((await closedAtMs(temporal, sandboxID)) !== null) continue; // stopped meanwhile (a kill removes the container first)
          if (await signalCheck(temporal, sandboxID, { source: 'reconciler' })) {
            result.lostReported.push(sandboxID);
            log.warn({ sandboxID, container: seen }, 'container lost: asked the sandbox to check it');
          }
        }

        const nowMs = Date.now();
        for (const [sandboxID, container] of bySandbox) {
          if (!sandboxID || live.has(sandboxID)) continue;
          const closedMs = await closedAtMs(temporal, sandboxID);
          if (closedMs === null) continue; // creating, or visibility lags: its workflow owns it
          const sinceMs = Math.max(container.Created * 1000, closedMs);
          if (nowMs - sinceMs < request.orphanGraceMs) {
            result.orphansWaiting.push(sandboxID);
            continue;
          }
          try {
            await docker.getContainer(container.Id).remove({ force: true, v: true });
          } catch (err) {
            if (dockerStatus(err) !== 404) throw err;
          }
          // Its address may be handed to a new sandbox: its rules must not outlive it.
          await network?.detach(sandboxID);
          result.orphansRemoved.push(sandboxID);
          log.warn({ sandboxID, state: container.State }, 'removed an orphan container (its workflow is closed or absent)');
        }
        return result;
      });
    },
  };
}

export type ReconcileActivities = ReturnType<typeof createReconcileActivities>;
