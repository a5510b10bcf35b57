/** Label keys that mark a container as berth's. */
export const LABELS = {
  managed: 'berth.managed',
  sandbox: 'berth.sandbox',
  owner: 'berth.owner',
  template: 'berth.template',
  /** The Docker host (BERTH_HOST_NAME) and task queue of the worker that made it: the reconciler's scope. */
  host: 'berth.host',
  queue: 'berth.queue',
} as const;
