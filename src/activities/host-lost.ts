/**
 * The activity a host workflow runs when its host is lost: every live sandbox placed on that
 * host (visibility: BerthHost and the shared task queue) gets a `hostLost` signal and stops with
 * `host_lost`. It only talks to Temporal, so any worker may run it (it is on the shared queue).
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { hostLostSignal, SearchAttr } from '../workflows/definitions.js';
import type { HostLostActivityRequest } from '../workflows/host-definitions.js';
import { withHeartbeat } from './heartbeat.js';

function quoted(value: string): string {
  if (/['"\\]/.test(value)) throw new Error(`${value} contains a quote or backslash; it cannot be used in a visibility query`);
  return `'${value}'`;
}

export function createHostActivities({ logger, client = () => Context.current().client }: { logger: Logger; client?: () => Client }) {
  return {
    async stopSandboxesOfLostHost(request: HostLostActivityRequest): Promise<{ signalled: number }> {
      return withHeartbeat(async () => {
        const temporal = client();
        const query = [
          `WorkflowType = 'sandboxWorkflow'`,
          `ExecutionStatus = 'Running'`,
          `${SearchAttr.host.name} = ${quoted(request.host)}`,
          `TaskQueue = ${quoted(request.sharedQueue)}`,
        ].join(' AND ');
        let signalled = 0;
        for await (const execution of temporal.workflow.list({ query })) {
          try {
            await temporal.workflow.getHandle(execution.workflowId).signal(hostLostSignal, { host: request.host, detail: request.detail });
            signalled++;
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          }
        }
        logger.warn({ host: request.host, signalled }, 'host lost: told its sandboxes to stop');
        return { signalled };
      });
    },
  };
}

export type HostActivities = ReturnType<typeof createHostActivities>;
