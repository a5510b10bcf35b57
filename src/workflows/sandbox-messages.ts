/**
 * Every message a sandbox workflow handles, each declared once with the states it acts in.
 * One declaration drives both an update's validator (which rejects a request before anything
 * is written to history) and its body (which checks again once it holds the lock, since the
 * state may have changed while it waited).
 */
import type { UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import {
  bulkActionSignal,
  checkContainerSignal,
  hostLostSignal,
  connectUpdate,
  eventsQuery,
  FailureType,
  infoQuery,
  sealedEnvsQuery,
  killUpdate,
  leaseSignal,
  pauseUpdate,
  refreshUpdate,
  resumeUpdate,
  setTimeoutUpdate,
  touchSignal,
  waitReadyUpdate,
  type BulkActionRequest,
  type CallerRequest,
  type ConnectRequest,
  type SandboxInfo,
  type SandboxStatus,
} from './definitions.js';
import type { SandboxLifecycle } from './sandbox-lifecycle.js';
import { registerSnapshotMessages } from './snapshot.js';

const LIVE: readonly SandboxStatus[] = ['creating', 'running', 'paused'];

interface UpdateRule<Req extends CallerRequest> {
  update: UpdateDefinition<SandboxInfo, [Req]>;
  /** Names the update in a conflict: "cannot <action> sandbox … : it is paused". */
  action: string;
  /**
   * The states the update acts in, checked by the validator and again under the lock.
   * `'any'`: the caller's owner is the only check and the body takes no lock.
   */
  states: readonly SandboxStatus[] | ((request: Req) => readonly SandboxStatus[]) | 'any';
  /** The validator also accepts a `creating` sandbox: the body waits for the lock, which provisioning holds. */
  waitsForProvisioning?: boolean;
  /** Checks of the request's own fields (invalid argument), after the state checks. */
  validate?: (request: Req) => void;
  /** The body. It returns a promise only when it waits, so a synchronous body takes no extra turn. */
  run: (lc: SandboxLifecycle, request: Req) => Promise<unknown> | void;
}

/** Declares an update rule, keeping its request type. */
function rule<Req extends CallerRequest>(r: UpdateRule<Req>): (lc: SandboxLifecycle) => void {
  return (lc) => registerUpdate(lc, r);
}

const UPDATES = [
  // Resolves once provisioning finished (running or failed).
  rule({ update: waitReadyUpdate, action: 'wait for', states: 'any', run: (lc) => condition(() => lc.status !== 'creating') }),
  rule({ update: pauseUpdate, action: 'pause', states: ['running'], run: (lc) => lc.pause('user') }),
  // An automatic resume (a data-plane call on a paused sandbox) is idempotent: parallel
  // calls race to resume, and the ones that find it running already just touch it.
  rule({
    update: resumeUpdate,
    action: 'resume',
    states: (request) => (request.reason === 'auto_resume' ? ['paused', 'running'] : ['paused']),
    run: (lc, request) => (lc.status === 'paused' ? lc.resume(request.reason ?? 'user') : lc.touch()),
  }),
  rule({
    update: connectUpdate,
    action: 'connect to',
    states: ['running', 'paused'],
    waitsForProvisioning: true,
    validate: (request) => validateDuration(request.timeoutMs, 'timeout', true),
    run: (lc, request) => (lc.status === 'paused' ? lc.resume('connect').then(() => keepConnected(lc, request)) : keepConnected(lc, request)),
  }),
  rule({
    update: setTimeoutUpdate,
    action: 'set the timeout of',
    states: ['running', 'paused'],
    waitsForProvisioning: true,
    validate: (request) => validateDuration(request.timeoutMs, 'timeout', false),
    run: (lc, request) => lc.setTimeout(request.timeoutMs),
  }),
  rule({
    update: refreshUpdate,
    action: 'refresh',
    states: ['running'],
    waitsForProvisioning: true,
    validate: (request) => validateDuration(request.durationMs, 'duration', false),
    run: (lc, request) => lc.refresh(request.durationMs),
  }),
  rule({ update: killUpdate, action: 'kill', states: LIVE, run: (lc) => lc.stop('user') }),
];

/** The states a container check runs in (others have no container to check). */
const CHECKED_STATES: readonly SandboxStatus[] = ['running', 'paused'];

/** Bulk actions (Temporal batch signals): each acts only in its states, and silently otherwise. */
const BULK_ACTIONS: Record<BulkActionRequest['action'], { states: readonly SandboxStatus[]; run: (lc: SandboxLifecycle) => Promise<void> }> = {
  kill: { states: LIVE, run: (lc) => lc.stop('user', 'bulk kill', lc.calls.untilDone) },
  pause: { states: ['running'], run: (lc) => lc.pause('user', lc.calls.untilDone) },
};

/** Registers every query, signal and update of the sandbox workflow (the order is part of replay: keep it). */
export function registerSandboxMessages(lc: SandboxLifecycle): void {
  setHandler(infoQuery, () => lc.info());
  setHandler(eventsQuery, () => lc.state.events());
  setHandler(sealedEnvsQuery, () => lc.state.spec.sealedEnvs ?? null);
  setHandler(touchSignal, () => lc.touch());
  setHandler(leaseSignal, (request) => lc.lease(request));
  setHandler(checkContainerSignal, (request) => lc.checkContainer(request, CHECKED_STATES));
  // Only sandboxes placed on a host (spec.host, per-host queues) act on it.
  setHandler(hostLostSignal, (request) => lc.hostLost(request));
  setHandler(bulkActionSignal, async (request) => {
    if (request.owner !== lc.state.spec.owner) return;
    const bulk = BULK_ACTIONS[request.action] as (typeof BULK_ACTIONS)[keyof typeof BULK_ACTIONS] | undefined;
    await lc.lock.exclusive(async () => {
      await lc.unattended(`bulk ${request.action}`, async () => {
        if (bulk?.states.includes(lc.status)) await bulk.run(lc);
      });
    });
  });
  for (const register of UPDATES) register(lc);
  registerSnapshotMessages(lc);
}

function registerUpdate<Req extends CallerRequest>(lc: SandboxLifecycle, r: UpdateRule<Req>): void {
  const { states } = r;
  if (states === 'any') {
    setHandler(
      r.update,
      async (request) => {
        await r.run(lc, request);
        return lc.info();
      },
      {
        validator: (request) => {
          lc.requireOwner(request);
          r.validate?.(request);
        },
      },
    );
    return;
  }
  const allowed = typeof states === 'function' ? states : () => states;
  setHandler(
    r.update,
    (request) =>
      lc.lock.exclusive(async () => {
        lc.requireStatus(request, allowed(request), r.action);
        const pending = r.run(lc, request);
        if (pending) await pending;
        return lc.info();
      }),
    {
      validator: (request) => {
        lc.requireStatus(request, r.waitsForProvisioning ? [...allowed(request), 'creating'] : allowed(request), r.action);
        r.validate?.(request);
      },
    },
  );
}

/** Connect touches, and with a timeout keeps the sandbox alive at least that long (never shortens). */
function keepConnected(lc: SandboxLifecycle, request: ConnectRequest): void {
  lc.touch();
  if (request.timeoutMs !== undefined) lc.refresh(request.timeoutMs);
}

function validateDuration(valueMs: number | undefined, name: string, optional: boolean): void {
  if (valueMs === undefined && optional) return;
  if (typeof valueMs !== 'number' || !Number.isFinite(valueMs) || valueMs <= 0) {
    throw ApplicationFailure.create({ type: FailureType.invalid, message: `${name} must be a positive number`, nonRetryable: true });
  }
}
