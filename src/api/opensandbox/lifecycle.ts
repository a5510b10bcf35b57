/**
 * OpenSandbox lifecycle routes under `/v1`: create, get, list, delete, pause, resume,
 * renew-expiration, endpoints, and the SDK's metrics events. Shapes only: every call goes to
 * berth's SandboxService (and the interaction gate + CommandRunner for a create's entrypoint).
 */
import express, { Router, type Request } from 'express';
import { InvalidArgumentError, NotSupportedError } from '../../errors.js';
import type { CommandRunner } from '../../dataplane/commands.js';
import { parsePort } from '../../dataplane/proxy.js';
import type { InteractionGate } from '../../service/interaction-gate.js';
import type { SandboxListItem, SandboxService } from '../../service/sandbox-service.js';
import type { VolumeService } from '../../service/volume-service.js';
import { createSandboxSchema, MAX_TIMEOUT_S, type CreateSandboxBody } from '../../service/schemas.js';
import type { Template } from '../../templates.js';
import { callerOf } from '../auth.js';
import { endpointToken, EXECD_TOKEN_HEADER } from './auth.js';
import { notSupported, parseOr400 } from './errors.js';
import { createRequestSchema, endpointQuerySchema, listQuerySchema, parseCpu, parseMemoryMB, renewRequestSchema, type CreateRequest } from './schemas.js';
import { berthState, listItemView, sandboxView } from './views.js';
import { ensureVolumes, planVolumes, type VolumePlan } from './volumes.js';
import type { SandboxStatus } from '../../workflows/definitions.js';

/** The SDK's default entrypoint: keeps an OpenSandbox container alive; berth's containers stay up by themselves. */
const KEEP_ALIVE_ENTRYPOINT = ['tail', '-f', '/dev/null'];
/** Ports the SDK asks for at every create. */
export const EXECD_PORT = 44772;
export const EGRESS_PORT = 18080;
/** Most sandboxes one list call reads before it pages in memory. */
const LIST_CAP = 5000;

export interface LifecycleDeps {
  service: SandboxService;
  volumes: VolumeService;
  gate: InteractionGate;
  runner: CommandRunner;
  templates: Map<string, Template>;
  secretKeyHex: string;
  publicUrl: string | undefined;
}

/** The lifecycle router (mounted at `/v1`, after the door's auth). */
export function lifecycleRoutes(deps: LifecycleDeps): Router {
  const { service, gate, runner } = deps;
  const router = Router();
  const imageOf = (templateID: string | null) => (templateID ? deps.templates.get(templateID)?.image : undefined);
  router.use(express.json({ limit: '1mb' }));

  router.post('/sandboxes', async (req, res) => {
    const { owner } = callerOf(req);
    const request = parseOr400(createRequestSchema, req.body, 'create request');
    const volumes = planVolumes(request.volumes ?? []);
    const body = toBerthCreate(request, deps.templates, volumes);
    await ensureVolumes(deps.volumes, owner, volumes.autoCreate);
    const view = await service.create(owner, body, true);
    const entrypoint = request.entrypoint ?? KEEP_ALIVE_ENTRYPOINT;
    if (!isKeepAlive(entrypoint)) {
      // berth's containers run their own init: a real entrypoint runs as a background command.
      try {
        const info = await gate.beginInteraction(owner, view.sandboxID);
        await runner.startBackground(info.sandboxID, { cmd: entrypoint, envs: request.env ?? {} });
      } catch (err) {
        await service.kill(owner, view.sandboxID).catch(() => undefined);
        throw err;
      }
    }
    res.status(202).json(sandboxView(view, imageOf(view.templateID) ?? request.image?.uri, entrypoint));
  });

  router.get('/sandboxes', async (req, res) => {
    const { owner } = callerOf(req);
    const q = parseOr400(listQuerySchema, req.query, 'query');
    const states = q.state === undefined ? undefined : (Array.isArray(q.state) ? q.state : [q.state]).flatMap((s) => s.split(','));
    const statuses = states?.map(berthState).filter((s): s is SandboxStatus => s !== undefined);
    const metadata = q.metadata ? parseMetadataFilter(q.metadata) : undefined;
    const all: SandboxListItem[] = [];
    if (!statuses || statuses.length > 0) {
      let nextToken: string | undefined;
      do {
        const page = await service.list(owner, { status: statuses, metadata, limit: 1000, ...(nextToken ? { nextToken } : {}) });
        all.push(...page.sandboxes);
        nextToken = page.nextToken ?? undefined;
      } while (nextToken && all.length < LIST_CAP);
    }
    const totalPages = Math.max(1, Math.ceil(all.length / q.pageSize));
    const items = all.slice((q.page - 1) * q.pageSize, q.page * q.pageSize).map((item) => listItemView(item, imageOf(item.templateID)));
    res.json({ items, pagination: { page: q.page, pageSize: q.pageSize, totalItems: all.length, totalPages, hasNextPage: q.page < totalPages } });
  });

  router.get('/sandboxes/:id', async (req, res) => {
    const view = await service.get(callerOf(req).owner, req.params.id);
    res.json(sandboxView(view, imageOf(view.templateID)));
  });

  router.delete('/sandboxes/:id', async (req, res) => {
    await service.kill(callerOf(req).owner, req.params.id);
    res.status(204).end();
  });

  router.post('/sandboxes/:id/pause', async (req, res) => {
    await service.pause(callerOf(req).owner, req.params.id);
    res.status(202).end();
  });

  router.post('/sandboxes/:id/resume', async (req, res) => {
    await service.resume(callerOf(req).owner, req.params.id);
    res.status(202).end();
  });

  router.post('/sandboxes/:id/renew-expiration', async (req, res) => {
    const { expiresAt } = parseOr400(renewRequestSchema, req.body, 'renew request');
    const atMs = Date.parse(expiresAt);
    if (!Number.isFinite(atMs)) throw new InvalidArgumentError(`expiresAt must be an ISO 8601 time: got "${expiresAt}"`);
    const seconds = (atMs - Date.now()) / 1000;
    if (seconds <= 0) throw new InvalidArgumentError(`expiresAt ${expiresAt} is in the past: pass a time in the future (renew(timedelta(...)))`);
    if (seconds > MAX_TIMEOUT_S) throw new InvalidArgumentError(`expiresAt is more than ${MAX_TIMEOUT_S} s away; berth's maximum lifetime caps it anyway`);
    const view = await service.setTimeout(callerOf(req).owner, req.params.id, seconds);
    res.json({ expiresAt: view.endAt ?? new Date(atMs).toISOString() });
  });

  router.get('/sandboxes/:id/endpoints/:port', async (req, res) => {
    const { owner } = callerOf(req);
    const port = parsePort(req.params.port);
    const q = parseOr400(endpointQuerySchema, req.query, 'query');
    if (q.expires !== undefined) throw new NotSupportedError('signed endpoints with "expires" are not supported by berth: endpoint tokens last as long as the sandbox');
    const view = await service.get(owner, req.params.id);
    const endpoint = `${hostOf(req, deps.publicUrl)}/v1/sandboxes/${view.sandboxID}/proxy/${port}`;
    const serverProxy = q.use_server_proxy?.toLowerCase() === 'true';
    // Server-proxy mode: the SDK sends the API key itself. Direct mode: it never sends the key
    // to an endpoint, so the endpoint carries a token good for this sandbox and port only.
    res.json(serverProxy ? { endpoint } : { endpoint, headers: { [EXECD_TOKEN_HEADER]: endpointToken(deps.secretKeyHex, owner, view.sandboxID, port) } });
  });

  router.post('/metrics/events', (_req, res) => {
    res.status(204).end(); // the SDK reports create timings here; berth has its own metrics
  });

  router.patch('/sandboxes/:id/metadata', notSupported('changing metadata', 'berth sets metadata at create only'));
  router.all('/templates{/*rest}', notSupported('templates through this API', "berth's templates are configured on the server (BERTH_TEMPLATE_IMAGES); create with image=<template ID>"));
  router.all('/sandboxes/:id/network-policy{/*rest}', notSupported('changing a network policy', 'berth sets the egress policy at create (networkPolicy)'));
  router.all('/sandboxes/:id/diagnostics{/*rest}', notSupported('diagnostics', 'read the sandbox history in the Temporal UI instead'));
  return router;
}

/** `host:port` (no scheme) the SDK reached berth at, or the configured public URL's. */
function hostOf(req: Request, publicUrl: string | undefined): string {
  if (publicUrl) return publicUrl.replace(/^[a-z]+:\/\//i, '').replace(/\/$/, '');
  return req.get('host') ?? '127.0.0.1';
}

function isKeepAlive(entrypoint: string[]): boolean {
  return entrypoint.length === 0 || (entrypoint.length === KEEP_ALIVE_ENTRYPOINT.length && entrypoint.every((a, i) => a === KEEP_ALIVE_ENTRYPOINT[i]));
}

/** `k=v&k2=v2`, each key and value percent-encoded once more (as the SDK sends it) → berth's `k=v` filters. */
function parseMetadataFilter(raw: string): string[] {
  return raw
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new InvalidArgumentError(`metadata filter must be key=value pairs joined by &: got "${raw}"`);
      try {
        return `${decodeURIComponent(pair.slice(0, at))}=${decodeURIComponent(pair.slice(at + 1))}`;
      } catch {
        throw new InvalidArgumentError(`metadata filter has a malformed percent-escape: "${raw}"`);
      }
    });
}

/** The OpenSandbox create request as berth's create body (validated by berth's own schema). */
export function toBerthCreate(request: CreateRequest, templates: Map<string, Template>, volumes: VolumePlan = { mounts: [], autoCreate: [] }): CreateSandboxBody {
  if (request.templateId) throw new NotSupportedError('templateId (fsb templates) is not supported by berth: create with image=<template ID or image>');
  if (request.snapshotId && request.image) throw new InvalidArgumentError('give either image or snapshotId, not both');
  if (!request.image && !request.snapshotId) throw new InvalidArgumentError('image is required: pass image="<berth template ID or image>" (or snapshot_id=<a snapshot of yours>) to Sandbox.create');
  if (request.image?.auth !== undefined) throw new NotSupportedError('image registry credentials are not supported by berth: it boots local images and templates only');
  if (request.credentialProxy?.enabled) throw new NotSupportedError('the credential proxy is not supported by berth');
  if (request.lifecycle !== undefined && request.lifecycle !== null) throw new NotSupportedError('lifecycle hooks (pre_start, periodic) are not supported by berth: run them as commands');
  for (const name of Object.keys(request.env ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new InvalidArgumentError(`env name "${name}" is not valid: use letters, digits and _, not starting with a digit`);
  }
  for (const key of Object.keys(request.metadata ?? {})) {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(key)) throw new InvalidArgumentError(`metadata key "${key}" is not valid: use 1-64 letters, digits, _ . : or -`);
  }
  const uri = request.image?.uri;
  const template = uri === undefined ? undefined : (templates.get(uri) ?? [...templates.values()].find((t) => t.image === uri));
  const limits = request.resourceLimits ?? {};
  const resources = {
    ...(limits.cpu !== undefined ? { cpu: parseCpu(limits.cpu) } : {}),
    ...(limits.memory !== undefined ? { memoryMB: parseMemoryMB(limits.memory) } : {}),
  };
  const other = Object.keys(limits).filter((k) => k !== 'cpu' && k !== 'memory');
  if (other.length) throw new NotSupportedError(`resourceLimits ${other.join(', ')} are not supported by berth (cpu and memory are)`);
  const policy = request.networkPolicy;
  const targets = (action: 'allow' | 'deny') => (policy?.egress ?? []).filter((r) => r.action === action).map((r) => r.target);
  const raw = {
    // A snapshot boots with its source template's defaults (berth's create resolves it, owner-checked).
    ...(request.snapshotId ? { snapshotID: request.snapshotId } : template ? { templateID: template.id } : { image: uri }),
    // null: no expiry of its own; berth's maximum lifetime still stops it.
    timeout: request.timeout === null ? MAX_TIMEOUT_S : request.timeout,
    metadata: request.metadata ?? {},
    envs: request.env ?? {},
    ...(Object.keys(resources).length ? { resources } : {}),
    // OpenSandbox's timeout is an absolute expiry: interactions do not move it; renew sets it.
    lifecycle: { onTimeout: 'kill', autoResume: false, timeoutMode: 'absolute' },
    ...(volumes.mounts.length ? { volumes: volumes.mounts } : {}),
    ...(policy ? { network: { allowInternet: policy.defaultAction !== 'deny', allowOut: targets('allow'), denyOut: targets('deny') } } : {}),
  };
  return parseOr400(createSandboxSchema, raw, 'create request');
}
