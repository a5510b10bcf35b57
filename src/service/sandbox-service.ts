/**
 * The control plane behind the REST API: turns calls into workflow starts, updates,
 * signals and queries, and listing into visibility queries. Owns no state of its own.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client, type WorkflowHandle } from '@temporalio/client';
import { decodeTypedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes.js';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config.js';
import { ForbiddenError, InvalidArgumentError, NotFoundError, ProvisionFailedError } from '../errors.js';
import { newSandboxID, SANDBOX_ID_PATTERN, workflowIdFor } from '../ids.js';
import { DEFAULT_NETWORK_POLICY } from '../network/policy.js';
import { sealJson } from '../secrets.js';
import {
  bulkActionSignal,
  connectUpdate,
  eventsQuery,
  infoQuery,
  killUpdate,
  metadataKeywords,
  pauseUpdate,
  refreshUpdate,
  resumeUpdate,
  SearchAttr,
  setTimeoutUpdate,
  waitReadyUpdate,
  type BulkActionRequest,
  type PauseMode,
  type SandboxEvent,
  type SandboxInfo,
  type SandboxResult,
  type SandboxSpec,
  type VolumeMount,
  type SandboxWorkflowInput,
  type SandboxStatus,
  type TransitionReason,
  SNAPSHOT_ID_PATTERN,
} from '../workflows/definitions.js';
import type { sandboxWorkflow } from '../workflows/sandbox.js';
import { startAndWaitReady } from './create-wait.js';
import { MIN_CPU, MIN_MEMORY_MB, type ListQuery, type CreateSandboxBody } from './schemas.js';
import { toBerthError } from './temporal-errors.js';
import type { SnapshotBoot, SnapshotResolver } from './snapshot-service.js';
import { OwnerQuota } from './owner-quota.js';
import { Placement, type HostView } from './placement.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import { sandboxVisibilityQuery } from './visibility-query.js';

/** A sandbox as the API shows it: the workflow's info plus a link to its history. */
export type SandboxView = Omit<SandboxInfo, 'owner'> & { historyURL: string };

/** One row of `GET /sandboxes`. */
export interface SandboxListItem {
  sandboxID: string;
  templateID: string | null;
  status: SandboxStatus;
  createdAt: string;
  stoppedAt: string | null;
  stopReason: TransitionReason | null;
  metadata: Record<string, string>;
  host: string | null;
  historyURL: string;
}

export interface SandboxEventView {
  at: string;
  status: SandboxStatus;
  reason: TransitionReason;
  detail?: string;
}

export interface SandboxServiceDeps {
  client: Client;
  config: BerthConfig;
  logger: Logger;
  /** Called for each create (by template) and stop (by reason): metrics hook. */
  onLifecycle?: (event: { kind: 'create' | 'create_failed'; templateID: string } | { kind: 'stop'; reason: string }) => void;
  /** The interaction gate's state to drop when a lifecycle call changes a sandbox. */
  interactions?: InteractionHooks;
  /** Resolves the volumes a create names (404 for one that is not the owner's). */
  volumes?: VolumeResolver;
  /** Which Docker host gets a new sandbox (default: built from the config's hosts). */
  placement?: Placement;
  /** Told each create's sealed envs, so this process's execs need not ask the workflow (src/service/create-envs.ts). */
  createEnvs?: { prime(sandboxID: string, sealedEnvs: string | undefined): void };
  /** Resolves the snapshot a create boots from (404 for one that is not the owner's). */
  snapshots?: SnapshotResolver;
}

/** Turns the volume names of a create into the engine's mounts (see src/service/volume-service.ts). */
export interface VolumeResolver {
  resolve(owner: string, mounts: NonNullable<CreateSandboxBody['volumes']>): Promise<VolumeMount[]>;
}

/** What a lifecycle call tells the interaction gate (see src/service/interaction-gate.ts). */
export interface InteractionHooks {
  invalidate(sandboxID: string): void;
  invalidateAll(): void;
  forget(sandboxID: string): void;
}

const NO_INTERACTIONS: InteractionHooks = { invalidate: () => undefined, invalidateAll: () => undefined, forget: () => undefined };

export class SandboxService {
  private readonly client: Client;
  private readonly config: BerthConfig;
  private readonly logger: Logger;
  /** Per-owner count, CPU and memory quotas on creates. */
  private readonly quota: OwnerQuota;
  private readonly interactions: InteractionHooks;
  private readonly onLifecycle: NonNullable<SandboxServiceDeps['onLifecycle']>;
  private readonly volumes: VolumeResolver | undefined;
  private readonly placement: Placement;
  private readonly createEnvs: SandboxServiceDeps['createEnvs'];
  private readonly snapshots: SnapshotResolver | undefined;

  constructor(deps: SandboxServiceDeps) {
    this.client = deps.client;
    this.config = deps.config;
    this.logger = deps.logger;
    this.onLifecycle = deps.onLifecycle ?? (() => undefined);
    this.quota = new OwnerQuota(deps.client, deps.config.temporal.namespace, deps.config.limits);
    this.interactions = deps.interactions ?? NO_INTERACTIONS;
    this.volumes = deps.volumes;
    this.createEnvs = deps.createEnvs;
    this.snapshots = deps.snapshots;
    this.placement = deps.placement ?? new Placement(deps.client, deps.config, deps.logger);
  }

  /** The Docker hosts with their state and load (admin). */
  hosts(): Promise<HostView[]> {
    return this.placement.hosts(true);
  }

  /** Drains a host (no new sandboxes; existing ones run out) or undrains it (admin). */
  drainHost(host: string, drained: boolean): Promise<HostView> {
    return this.placement.drain(host, drained);
  }

  /** Creates a sandbox; with `wait`, resolves once it runs (or throws why it failed). */
  async create(owner: string, body: CreateSandboxBody, wait: boolean, caller: { admin?: boolean } = {}): Promise<SandboxView> {
    if (body.host !== undefined && !caller.admin) {
      throw new ForbiddenError('only an admin key (BERTH_ADMIN_KEYS) may pin a sandbox to a host; omit host and berth places it');
    }
    const spec = this.buildSpec(owner, body, await this.snapshotBoot(owner, body));
    if (body.volumes?.length) {
      if (!this.volumes) throw new InvalidArgumentError('this server offers no volumes');
      spec.volumes = await this.volumes.resolve(owner, body.volumes);
    }
    // The owner's quota and the placement each read Temporal: side by side, not one after the other.
    // Volumes live on the engine of the API's own host (the volume store's): a sandbox that mounts one goes there.
    const volumesHost = spec.volumes?.length && this.config.hosts.endpoints.has(this.config.hostName) ? this.config.hostName : undefined;
    const [quota, placed] = await Promise.allSettled([
      this.quota.reserve(owner, spec.sandboxID, spec.resources),
      this.placement.choose(spec.sandboxID, { image: spec.image, resources: spec.resources, pin: body.host ?? volumesHost }),
    ]);
    if (quota.status === 'rejected' || placed.status === 'rejected') {
      if (quota.status === 'fulfilled') this.quota.release(owner, spec.sandboxID);
      if (placed.status === 'fulfilled') this.placement.cancel(spec.sandboxID);
      // The quota's answer first (429 says what to free), as when it was asked first.
      if (quota.status === 'rejected') throw toBerthError(quota.reason, spec.sandboxID);
      // Placement reads host workflows and visibility: Temporal overloaded is a 503, not a 500.
      throw toBerthError((placed as PromiseRejectedResult).reason, spec.sandboxID);
    }
    spec.host = placed.value;
    this.createEnvs?.prime(spec.sandboxID, spec.sealedEnvs);
    try {
      const workflowOptions = {
        workflowId: workflowIdFor(spec.sandboxID),
        taskQueue: this.config.temporal.taskQueue,
        args: [{ spec }] as [SandboxWorkflowInput],
        typedSearchAttributes: [
          { key: SearchAttr.state, value: 'creating' },
          { key: SearchAttr.template, value: spec.templateID },
          { key: SearchAttr.owner, value: owner },
          { key: SearchAttr.metadata, value: metadataKeywords(spec.metadata) },
          { key: SearchAttr.cpu, value: spec.resources.cpu },
          { key: SearchAttr.memoryMB, value: spec.resources.memoryMB },
          // Set at start: placement counts the sandbox on its host while it is still creating.
          { key: SearchAttr.host, value: spec.host },
        ],
        staticSummary: `sandbox ${spec.sandboxID} · template ${spec.templateID} · owner ${owner}`,
      };
      if (!wait) {
        await this.client.workflow.start<typeof sandboxWorkflow>('sandboxWorkflow', workflowOptions);
        this.logger.info({ sandboxID: spec.sandboxID, owner, templateID: spec.templateID }, 'sandbox workflow started');
        this.onLifecycle({ kind: 'create', templateID: spec.templateID });
        return this.view(pendingInfo(spec));
      }
      // One round trip: start the workflow and wait for it to be ready (update-with-start).
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof sandboxWorkflow>('sandboxWorkflow', {
        ...workflowOptions,
        workflowIdConflictPolicy: 'FAIL',
      });
      const info = await startAndWaitReady({
        updateWithStart: () => this.client.workflow.executeUpdateWithStart(waitReadyUpdate, { args: [{ owner }], startWorkflowOperation }),
        waitReady: () => this.handle(spec.sandboxID).executeUpdate(waitReadyUpdate, { args: [{ owner }] }),
        onLongWait: () => this.logger.info({ sandboxID: spec.sandboxID, owner }, "create: past Temporal's deadline before the sandbox's first workflow task; waiting on"),
      });
      this.logger.info({ sandboxID: spec.sandboxID, owner, templateID: spec.templateID, status: info.status }, 'sandbox created');
      if (info.status === 'failed') {
        this.onLifecycle({ kind: 'create_failed', templateID: spec.templateID });
        throw new ProvisionFailedError(`sandbox could not be provisioned: ${info.stopDetail ?? 'unknown error'}`);
      }
      this.onLifecycle({ kind: 'create', templateID: spec.templateID });
      return this.view(info);
    } catch (err) {
      throw toBerthError(err, spec.sandboxID);
    } finally {
      this.quota.release(owner, spec.sandboxID);
      this.placement.release(spec.sandboxID);
    }
  }

  /** The sandbox's current state. 404 when unknown, stopped, or another owner's. */
  async get(owner: string, sandboxID: string): Promise<SandboxView> {
    return this.view(await this.liveInfo(owner, sandboxID));
  }

  /** Live info for the data plane (and `get`): throws 404 unless creating, running or paused. */
  async liveInfo(owner: string, sandboxID: string): Promise<SandboxInfo> {
    this.prepareCall(sandboxID);
    const info = await this.call(sandboxID, (h) => h.query(infoQuery));
    if (info.owner !== owner || info.status === 'stopped' || info.status === 'failed') {
      throw new NotFoundError(`sandbox ${sandboxID} not found`);
    }
    return info;
  }

  async kill(owner: string, sandboxID: string): Promise<void> {
    this.prepareCall(sandboxID);
    await this.call(sandboxID, (h) => h.executeUpdate(killUpdate, { args: [{ owner }] }));
    this.interactions.forget(sandboxID);
    this.onLifecycle({ kind: 'stop', reason: 'user' });
  }

  /** Pauses: `freeze` (default) keeps processes; `disk` commits and removes the container (docs/pause.md). */
  async pause(owner: string, sandboxID: string, mode: PauseMode = 'freeze'): Promise<SandboxView> {
    this.prepareCall(sandboxID);
    // A freeze is asked without a mode, as before: runs older than pause to disk accept it unchanged.
    const request = mode === 'freeze' ? { owner } : { owner, mode };
    return this.view(await this.call(sandboxID, (h) => h.executeUpdate(pauseUpdate, { args: [request] })));
  }

  async resume(owner: string, sandboxID: string, reason: 'user' | 'auto_resume' = 'user'): Promise<SandboxView> {
    this.prepareCall(sandboxID);
    return this.view(await this.call(sandboxID, (h) => h.executeUpdate(resumeUpdate, { args: [{ owner, reason }] })));
  }

  async setTimeout(owner: string, sandboxID: string, timeoutS: number): Promise<SandboxView> {
    this.prepareCall(sandboxID);
    const args = [{ owner, timeoutMs: Math.round(timeoutS * 1000) }] as const;
    return this.view(await this.call(sandboxID, (h) => h.executeUpdate(setTimeoutUpdate, { args: [...args] })));
  }

  async refresh(owner: string, sandboxID: string, durationS: number): Promise<SandboxView> {
    this.prepareCall(sandboxID);
    const request = { owner, durationMs: Math.round(durationS * 1000) };
    return this.view(await this.call(sandboxID, (h) => h.executeUpdate(refreshUpdate, { args: [request] })));
  }

  async connect(owner: string, sandboxID: string, timeoutS?: number): Promise<SandboxView> {
    this.prepareCall(sandboxID);
    const request = { owner, ...(timeoutS === undefined ? {} : { timeoutMs: Math.round(timeoutS * 1000) }) };
    return this.view(await this.call(sandboxID, (h) => h.executeUpdate(connectUpdate, { args: [request] })));
  }

  /** Waits until a creating sandbox runs (or failed): the interaction gate's first step. */
  async waitReady(owner: string, sandboxID: string): Promise<SandboxInfo> {
    return this.call(sandboxID, (h) => h.executeUpdate(waitReadyUpdate, { args: [{ owner }] }));
  }

  /** Resumes a paused sandbox because something interacts with it (idempotent: parallel calls are fine). */
  async autoResume(owner: string, sandboxID: string): Promise<SandboxInfo> {
    this.prepareCall(sandboxID);
    return this.call(sandboxID, (h) => h.executeUpdate(resumeUpdate, { args: [{ owner, reason: 'auto_resume' }] }));
  }

  /** Lifecycle transitions, also after the sandbox stopped (while Temporal retains it). */
  async events(owner: string, sandboxID: string): Promise<{ sandboxID: string; status: SandboxStatus; events: SandboxEventView[]; historyURL: string }> {
    this.prepareCall(sandboxID);
    const handle = this.handle(sandboxID);
    const description = await this.call(sandboxID, (h) => h.describe());
    if (description.typedSearchAttributes.get(SearchAttr.owner) !== owner) throw new NotFoundError(`sandbox ${sandboxID} not found`);
    let events: SandboxEvent[];
    if (description.status.name === 'RUNNING') {
      events = await this.call(sandboxID, (h) => h.query(eventsQuery));
    } else if (description.status.name === 'COMPLETED') {
      events = ((await handle.result()) as SandboxResult).events;
    } else {
      throw new NotFoundError(`sandbox ${sandboxID} ended abnormally (${description.status.name}); see ${this.historyURL(sandboxID)}`);
    }
    const last = events[events.length - 1];
    return {
      sandboxID,
      status: last?.status ?? 'creating',
      events: events.map((e) => ({ at: new Date(e.atMs).toISOString(), status: e.status, reason: e.reason, ...(e.detail ? { detail: e.detail } : {}) })),
      historyURL: this.historyURL(sandboxID),
    };
  }

  /** Lists the owner's sandboxes through Temporal visibility, with a cursor. */
  async list(owner: string, query: ListQuery): Promise<{ sandboxes: SandboxListItem[]; nextToken: string | null }> {
    const visibilityQuery = sandboxVisibilityQuery({ owner, statuses: query.status, metadata: query.metadata });
    let nextPageToken: Buffer | undefined;
    if (query.nextToken) {
      nextPageToken = decodePageToken(this.config.secretKeyHex, visibilityQuery, query.nextToken);
      if (!nextPageToken) {
        throw new InvalidArgumentError('nextToken is not a token this API returned for these filters; pass the nextToken of the previous page with the same status and metadata filters, or list again without it');
      }
    }
    const response = await this.client.workflowService
      .listWorkflowExecutions({
        namespace: this.config.temporal.namespace,
        pageSize: query.limit,
        nextPageToken,
        query: visibilityQuery,
      })
      .catch((err: unknown) => {
        if (query.nextToken && /token/i.test(String(err))) throw new InvalidArgumentError('nextToken is invalid or expired; list again without it');
        throw err;
      });
    const sandboxes = (response.executions ?? []).map((execution): SandboxListItem => {
      const attrs = decodeTypedSearchAttributes(execution.searchAttributes?.indexedFields);
      const workflowId = execution.execution?.workflowId ?? '';
      const sandboxID = workflowId.replace(/^sandbox-/, '');
      const metadata: Record<string, string> = {};
      for (const pair of attrs.get(SearchAttr.metadata) ?? []) {
        const at = pair.indexOf('=');
        if (at > 0) metadata[pair.slice(0, at)] = pair.slice(at + 1);
      }
      const closeSeconds = execution.closeTime?.seconds;
      return {
        sandboxID,
        templateID: attrs.get(SearchAttr.template) ?? null,
        status: (attrs.get(SearchAttr.state) ?? 'creating') as SandboxStatus,
        createdAt: timestampToIso(execution.startTime) ?? new Date(0).toISOString(),
        stoppedAt: closeSeconds === undefined || closeSeconds === null ? null : timestampToIso(execution.closeTime),
        stopReason: (attrs.get(SearchAttr.stopReason) ?? null) as TransitionReason | null,
        metadata,
        host: attrs.get(SearchAttr.host) ?? null,
        historyURL: this.historyURL(sandboxID),
      };
    });
    const token =
      response.nextPageToken && response.nextPageToken.length > 0 ? encodePageToken(this.config.secretKeyHex, visibilityQuery, response.nextPageToken) : null;
    return { sandboxes, nextToken: token };
  }

  /**
   * Kills or pauses every live sandbox of the owner matching the filter, with a Temporal
   * batch operation that signals them. Answers how many matched.
   */
  async bulk(owner: string, action: 'kill' | 'pause', filter: { status?: SandboxStatus[]; metadata?: Record<string, string> }): Promise<{ affected: number; jobId: string | null }> {
    // Only states the action applies to: `affected` counts sandboxes it will act on.
    const applicable: SandboxStatus[] = action === 'pause' ? ['running'] : ['creating', 'running', 'paused'];
    const statuses = filter.status?.length ? filter.status.filter((s) => applicable.includes(s)) : applicable;
    if (statuses.length === 0) {
      throw new InvalidArgumentError(`bulk ${action} applies to sandboxes that are ${applicable.join(' or ')}; the status filter matches none of them`);
    }
    const query = sandboxVisibilityQuery({ owner, statuses, metadata: Object.entries(filter.metadata ?? {}).map(([k, v]) => `${k}=${v}`) });
    try {
      return await this.startBulk(owner, action, query);
    } catch (err) {
      throw toBerthError(err, `bulk ${action}`);
    }
  }

  private async startBulk(owner: string, action: 'kill' | 'pause', query: string): Promise<{ affected: number; jobId: string | null }> {
    const { count } = await this.client.workflow.count(query);
    this.interactions.invalidateAll();
    if (count === 0) return { affected: 0, jobId: null };
    const jobId = `bulk-${action}-${randomUUID()}`;
    const request: BulkActionRequest = { action, owner };
    await this.client.workflowService.startBatchOperation({
      namespace: this.config.temporal.namespace,
      jobId,
      reason: `berth bulk ${action} by ${owner}`,
      visibilityQuery: query,
      signalOperation: {
        signal: bulkActionSignal.name,
        input: { payloads: [this.client.options.loadedDataConverter.payloadConverter.toPayload(request)] },
        identity: 'berth-api',
      },
    });
    this.logger.info({ owner, action, count, jobId }, 'bulk operation started');
    return { affected: count, jobId };
  }

  /** Link to the sandbox's history in the Temporal UI. */
  historyURL(sandboxID: string): string {
    return `${this.config.temporal.uiUrl}/namespaces/${this.config.temporal.namespace}/workflows/${workflowIdFor(sandboxID)}`;
  }

  private handle(sandboxID: string): WorkflowHandle<typeof sandboxWorkflow> {
    return this.client.workflow.getHandle<typeof sandboxWorkflow>(workflowIdFor(sandboxID));
  }

  private async call<T>(sandboxID: string, fn: (handle: WorkflowHandle<typeof sandboxWorkflow>) => Promise<T>): Promise<T> {
    try {
      return await fn(this.handle(sandboxID));
    } catch (err) {
      throw toBerthError(err, sandboxID);
    }
  }

  /**
   * Starts any call about one sandbox: an ID that cannot exist is a 404, and the data
   * plane's cached state of the sandbox is dropped (the call may change it).
   */
  private prepareCall(sandboxID: string): void {
    this.interactions.invalidate(sandboxID);
    if (!SANDBOX_ID_PATTERN.test(sandboxID)) throw new NotFoundError(`sandbox ${sandboxID} not found`);
  }

  private view(info: SandboxInfo): SandboxView {
    const { owner: _owner, ...rest } = info;
    return { ...rest, historyURL: this.historyURL(info.sandboxID) };
  }

  /** The snapshot a create boots from (`snapshotID`, or a `templateID` that is a snapshot ID), if any. */
  private async snapshotBoot(owner: string, body: CreateSandboxBody): Promise<SnapshotBoot | undefined> {
    const fromTemplate = body.templateID !== undefined && SNAPSHOT_ID_PATTERN.test(body.templateID) ? body.templateID : undefined;
    if (body.snapshotID && body.templateID !== undefined && body.templateID !== body.snapshotID) {
      throw new InvalidArgumentError('give either templateID or snapshotID (or the same snapshot ID in both), not both');
    }
    const snapshotID = body.snapshotID ?? fromTemplate;
    if (!snapshotID) return undefined;
    if (body.image !== undefined) throw new InvalidArgumentError('give either image or a snapshot to boot from, not both');
    if (!this.snapshots) throw new InvalidArgumentError('this server offers no snapshots');
    return this.snapshots.resolveBoot(owner, snapshotID);
  }

  private buildSpec(owner: string, body: CreateSandboxBody, boot?: SnapshotBoot): SandboxSpec {
    const { config } = this;
    let templateID = body.templateID ?? 'base';
    let image: string;
    // A boot from a snapshot: its image, named by the snapshot ID, with its source template's defaults.
    const template = config.templates.get(boot ? boot.templateID : templateID);
    if (boot) {
      templateID = boot.snapshotID;
      image = boot.image;
    } else if (body.image !== undefined) {
      if (!config.allowCustomImages) {
        throw new InvalidArgumentError('custom images are disabled on this server (BERTH_ALLOW_CUSTOM_IMAGES); use templateID');
      }
      image = body.image;
      if (!body.templateID) templateID = 'custom';
    } else if (!template) {
      throw new InvalidArgumentError(`unknown templateID "${templateID}"; templates: ${[...config.templates.keys()].join(', ')}`);
    } else {
      image = template.image;
    }
    const cpu = body.resources?.cpu ?? template?.cpu ?? 1;
    const memoryMB = body.resources?.memoryMB ?? template?.memoryMB ?? 512;
    checkRange('resources.cpu', cpu, MIN_CPU, config.limits.maxCpu, 'CPUs');
    checkRange('resources.memoryMB', memoryMB, MIN_MEMORY_MB, config.limits.maxMemoryMB, 'MB');
    const timeoutS = body.timeout ?? template?.defaultIdleTimeoutS ?? 300;
    const spec: SandboxSpec = {
      sandboxID: newSandboxID(),
      owner,
      templateID,
      image,
      metadata: body.metadata,
      resources: { cpu, memoryMB },
      lifecycle: {
        onTimeout: body.lifecycle?.onTimeout ?? 'kill',
        autoResume: body.lifecycle?.autoResume ?? false,
        timeoutMode: body.lifecycle?.timeoutMode ?? 'idle',
        pauseMode: body.lifecycle?.pauseMode ?? 'freeze',
      },
      network: {
        allowInternet: body.network?.allowInternet ?? DEFAULT_NETWORK_POLICY.allowInternet,
        allowOut: body.network?.allowOut ?? [],
        denyOut: body.network?.denyOut ?? [],
      },
      idleTimeoutMs: timeoutS * 1000,
      maxLifetimeMs: config.lifecycle.maxLifetimeMs,
      pausedRetentionMs: config.lifecycle.pausedRetentionMs,
      historyEventLimit: config.lifecycle.historyEventLimit,
      ...(template?.runtime && body.image === undefined ? { runtime: template.runtime } : {}),
      // A pooled template (BERTH_WARM_POOL, read by the API too): the workflow claims in its first task.
      ...(!boot && body.image === undefined && (config.warmPool.sizes[templateID] ?? 0) > 0 ? { warmPool: true } : {}),
    };
    if (Object.keys(body.envs).length > 0) spec.sealedEnvs = sealJson(body.envs, config.secretKeyHex);
    return spec;
  }
}

/**
 * Refuses a resource outside [min, max] (400 naming the field and the range). Below Docker's
 * minimum a CPU share rounds to NanoCpus 0, which Docker reads as "no limit".
 */
function checkRange(field: string, value: number, min: number, max: number, unit: string): void {
  if (value >= min && value <= max) return;
  const limit = value > max ? "this server's limit" : 'the minimum';
  throw new InvalidArgumentError(`${field} must be between ${min} and ${max} ${unit} (got ${value}, beyond ${limit})`);
}

function pendingInfo(spec: SandboxSpec): SandboxInfo {
  return {
    sandboxID: spec.sandboxID,
    templateID: spec.templateID,
    owner: spec.owner,
    status: 'creating',
    createdAt: new Date().toISOString(),
    startedAt: null,
    endAt: null,
    timeout: Math.round(spec.idleTimeoutMs / 1000),
    timeoutMode: spec.lifecycle.timeoutMode ?? 'idle',
    metadata: spec.metadata,
    lifecycle: { ...spec.lifecycle, timeoutMode: spec.lifecycle.timeoutMode ?? 'idle', pauseMode: spec.lifecycle.pauseMode ?? 'freeze' },
    pausedMode: null,
    resources: spec.resources,
    network: spec.network ?? null,
    host: null,
    runningTimeMs: 0,
    stoppedAt: null,
    stopReason: null,
    stopDetail: null,
  };
}

function timestampToIso(ts: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined): string | null {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return null;
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6)).toISOString();
}
