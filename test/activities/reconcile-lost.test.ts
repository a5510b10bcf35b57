/**
 * The reconciler's sweep reports a sandbox as lost only when its container is still missing
 * on a second look with its workflow open: at 1000 live, visibility and the engine are read
 * seconds apart and healthy sandboxes looked lost (~240 signals in one bench). Real stack; the
 * stand-in is a Docker client whose first listing misses one sandbox's container, as a listing
 * taken a moment before that container was created does.
 */
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReconcileActivities } from '../../src/activities/reconcile.js';
import { createLogger } from '../../src/logger.js';
import { eventually, startStack, type TestStack } from '../helpers/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const create = async () => {
  const res = await stack.api('POST', '/sandboxes', { body: { templateID: 'tiny', timeout: 600 } });
  expect(res.status).toBe(201);
  return res.body.sandboxID as string;
};

/** The real engine, except that its first container listing leaves out `hidden`'s container. */
function engineThatFirstMisses(docker: Docker, hidden: string): Docker {
  let listings = 0;
  return new Proxy(docker, {
    get(target, prop, receiver) {
      if (prop !== 'listContainers') return Reflect.get(target, prop, receiver) as unknown;
      return async (options: Docker.ContainerListOptions) => {
        const listed = await target.listContainers(options);
        listings += 1;
        return listings === 1 ? listed.filter((c) => !c.Names.some((n) => n === `/${hidden}`)) : listed;
      };
    },
  });
}

describe('reconciler: lost containers', () => {
  it('does not report a sandbox whose container the first listing missed, and does report one really gone', async () => {
    const [healthy, gone] = await Promise.all([create(), create()]);
    // Visibility shows both running before the sweep reads it.
    await eventually(async () => (await stack.api('GET', '/sandboxes?status=running')).body.sandboxes.length === 2);
    await stack.docker.getContainer(gone).remove({ force: true });

    const sweep = createReconcileActivities({
      docker: engineThatFirstMisses(stack.docker, healthy),
      logger: createLogger('silent', 'reconcile-lost-test'),
      hostName: stack.config.hostName,
      taskQueue: stack.config.temporal.taskQueue,
      client: () => stack.client,
      lostConfirmMs: 500,
    });
    const result = await sweep.sweepContainers({ orphanGraceMs: 60_000 });
    expect(result.liveSandboxes).toBe(2);
    expect(result.lostReported).toEqual([gone]);

    // The one really gone stops with container_lost; the healthy one keeps running.
    const stopped = await eventually(async () => {
      const last = (await stack.api('GET', `/sandboxes/${gone}/events`)).body.events?.at(-1);
      return last?.status === 'stopped' && last;
    }, 60_000, 250);
    expect(stopped.reason).toBe('container_lost');
    expect((await stack.api('GET', `/sandboxes/${healthy}`)).body.status).toBe('running');
    await stack.api('DELETE', `/sandboxes/${healthy}`);
  });
});
