/**
 * The E2B control plane (seeds 003, 004; the `e2b` Python/npm SDKs and agentbox): lifecycle
 * calls mapped onto {@link SandboxService}, metrics through the interaction gate. Mounted on
 * berth's own listener; which requests it answers is decided in ./detect.ts.
 */
import express, { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { BerthConfig } from '../../config.js';
import { InvalidArgumentError } from '../../errors.js';
import type { MetricsSampler } from '../../dataplane/metrics.js';
import type { InteractionGate } from '../../service/interaction-gate.js';
import type { SandboxService, SandboxView } from '../../service/sandbox-service.js';
import type { VolumeService } from '../../service/volume-service.js';
import type { SnapshotService } from '../../service/snapshot-service.js';
import type { VolumeOwner } from '../../dataplane/volume-owner.js';
import { createSandboxSchema, METADATA_FILTER } from '../../service/schemas.js';
import type { SandboxStatus } from '../../workflows/definitions.js';
import { apiKeyAuth, callerOf } from '../auth.js';
import { parseOr400 } from '../rest/validate.js';
import { envdAccessToken } from './access-token.js';
import { isE2BRequest } from './detect.js';
import { e2bErrorMiddleware } from './errors.js';
import { e2bVolumeRoutes } from './volumes.js';
import { e2bSnapshotRoutes } from './snapshots.js';
import {
  e2bConnectSchema,
  e2bCreateSchema,
  e2bRefreshSchema,
  e2bTimeoutSchema,
  parseMetadataFilter,
  sandboxIDFromPath,
  toBerthCreate,
  toE2BDetail,
  toE2BListed,
  toE2BMetric,
  toE2BSandbox,
  type WireContext,
} from './shapes.js';

export interface E2BControlPlaneDeps {
  service: SandboxService;
  volumes: VolumeService;
  snapshots: SnapshotService;
  /** Hands a new volume's root to envd's default user (commands run as `user` by default). */
  volumeOwner: VolumeOwner;
  gate: InteractionGate;
  sampler: MetricsSampler;
  config: BerthConfig;
  logger: Logger;
}

/** The user envd runs commands as when the SDK names none. */
const ENVD_DEFAULT_USER = 'user';

/** Largest page of a list (E2B's own limit). */
const MAX_PAGE = 100;

/** The E2B control-plane router; requests that are not E2B requests pass through untouched. */
export function e2bControlPlane(deps: E2BControlPlaneDeps): Router {
  const { service, gate, sampler, config, logger } = deps;
  const diskSizeMB = config.reconciler.diskLimitMB;
  const router = Router();
  router.use((req, _res, next) => (isE2BRequest(req) ? next() : next('router')));
  router.use(apiKeyAuth(config.apiKeys));
  router.use(express.json({ limit: '1mb' }));

  const owner = (req: Request) => callerOf(req).owner;
  const id = (req: Request) => sandboxIDFromPath(String(req.params.id));
  const ctx = (req: Request, view: SandboxView): WireContext => ({
    domain: domainOf(req, config),
    envdAccessToken: envdAccessToken(config.secretKeyHex, view.sandboxID, owner(req)),
  });

  const create = async (req: Request, res: Response) => {
    const body = parseOr400(e2bCreateSchema, req.body, 'sandbox request');
    if (body.mcp != null) throw new InvalidArgumentError('mcp (an MCP gateway in the sandbox) is not supported by berth; create the sandbox without it');
    if (body.iam != null) throw new InvalidArgumentError('iam (workload identity tokens) is not supported by berth; create the sandbox without it');
    const berthBody = parseOr400(createSandboxSchema, toBerthCreate(body), 'sandbox request');
    const view = await service.create(owner(req), berthBody, true);
    const mountPaths = (berthBody.volumes ?? []).filter((v) => !v.readOnly).map((v) => v.mountPath);
    if (mountPaths.length) {
      // envd runs commands as `user` by default: a new (empty, root-owned) volume becomes its.
      try {
        await gate.beginInteraction(owner(req), view.sandboxID);
        await deps.volumeOwner.handToUser(view.sandboxID, mountPaths, ENVD_DEFAULT_USER);
      } catch (err) {
        await service.kill(owner(req), view.sandboxID).catch(() => undefined);
        throw err;
      }
    }
    res.status(201).json(toE2BSandbox(view, ctx(req, view)));
  };
  router.post('/sandboxes', create);
  router.post('/v2/sandboxes', create);

  const list = async (req: Request, res: Response, paged: boolean) => {
    const statuses = parseStates(req.query.state);
    const limit = req.query.limit === undefined ? MAX_PAGE : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_PAGE}`);
    const nextToken = typeof req.query.nextToken === 'string' && req.query.nextToken ? req.query.nextToken : undefined;
    const metadata = parseMetadataFilter(req.query.metadata);
    const bad = metadata.find((pair) => !METADATA_FILTER.test(pair));
    if (bad !== undefined) throw new InvalidArgumentError(`metadata filter "${bad}" is not key=value with a key of letters, digits, _ . : or - and a value without quotes, backslashes or control characters`);
    const page = await service.list(owner(req), { status: statuses, metadata, limit, nextToken });
    // The list comes from the search index; endAt and resources from each sandbox itself.
    const views = await Promise.all(page.sandboxes.map((s) => service.get(owner(req), s.sandboxID).catch(() => null)));
    if (paged && page.nextToken) res.setHeader('x-next-token', page.nextToken);
    res.json(views.filter((v): v is SandboxView => v !== null && v.status !== 'stopped' && v.status !== 'failed').map((v) => toE2BListed(v, diskSizeMB)));
  };
  router.get('/sandboxes', (req, res) => list(req, res, false));
  router.get('/v2/sandboxes', (req, res) => list(req, res, true));

  router.get('/sandboxes/:id', async (req, res) => {
    const view = await service.get(owner(req), id(req));
    res.json(toE2BDetail(view, ctx(req, view), diskSizeMB));
  });

  router.delete('/sandboxes/:id', async (req, res) => {
    await service.kill(owner(req), id(req));
    res.status(204).end();
  });

  router.post('/sandboxes/:id/timeout', async (req, res) => {
    const { timeout } = parseOr400(e2bTimeoutSchema, req.body, 'timeout request');
    await service.setTimeout(owner(req), id(req), Math.max(1, timeout));
    res.status(204).end();
  });

  router.post('/sandboxes/:id/refreshes', async (req, res) => {
    const { duration } = parseOr400(e2bRefreshSchema, req.body, 'refresh request');
    await service.refresh(owner(req), id(req), Math.max(1, duration ?? 60));
    res.status(204).end();
  });

  router.post('/sandboxes/:id/pause', async (req, res) => {
    await service.pause(owner(req), id(req));
    res.status(204).end();
  });

  // v1 resume: 409 when running (agentbox reads it as "already running").
  router.post('/sandboxes/:id/resume', async (req, res) => {
    const { timeout } = parseOr400(e2bConnectSchema, req.body, 'resume request');
    let view = await service.resume(owner(req), id(req));
    if (timeout) view = await service.setTimeout(owner(req), view.sandboxID, timeout);
    res.status(201).json(toE2BSandbox(view, ctx(req, view)));
  });

  // connect: resumes a paused sandbox (201) or answers the running one (200).
  const connect = async (req: Request, res: Response) => {
    const { timeout } = parseOr400(e2bConnectSchema, req.body, 'connect request');
    const before = await service.get(owner(req), id(req));
    const view = await service.connect(owner(req), before.sandboxID, timeout ? timeout : undefined);
    res.status(before.status === 'paused' ? 201 : 200).json(toE2BSandbox(view, ctx(req, view)));
  };
  router.post('/sandboxes/:id/connect', connect);
  router.post('/v2/sandboxes/:id/connect', connect);

  router.get('/sandboxes/:id/metrics', async (req, res) => {
    const start = unixSeconds(req.query.start, 'start');
    const end = unixSeconds(req.query.end, 'end');
    // Reading metrics never resumes a paused sandbox: it answers the samples kept so far.
    const view = await service.get(owner(req), id(req));
    const info = view.status === 'paused' ? view : await gate.beginInteraction(owner(req), view.sandboxID);
    const cpuCount = Math.max(1, Math.ceil(info.resources.cpu));
    let samples = sampler.history(info.sandboxID, start, end);
    if (samples.length === 0 && end === undefined && info.status === 'running') samples = [await sampler.sample(info.sandboxID, { record: false })];
    res.json(samples.map((s) => toE2BMetric(s, cpuCount, diskSizeMB)));
  });

  router.use(e2bVolumeRoutes(deps.volumes));
  router.use(e2bSnapshotRoutes(deps.snapshots));

  router.use((req, res) => {
    res.status(404).json({ code: 404, message: `berth's E2B API has no route ${req.method} ${req.path}; see docs/e2b.md for what is supported` });
  });
  router.use(e2bErrorMiddleware(logger, (sandboxID) => gate.reportContainerMissing(sandboxID)));
  return router;
}

/**
 * The `domain` the SDKs build sandbox host names from (`<port>-<sandboxID>.<domain>`):
 * BERTH_E2B_DOMAIN, else `localhost:<this listener's port>`.
 */
function domainOf(req: Request, config: BerthConfig): string {
  if (config.e2b.domain) return config.e2b.domain;
  const port = /:(\d+)$/.exec(req.headers.host ?? '')?.[1];
  return port ? `localhost:${port}` : 'localhost';
}

/** E2B's `state` filter (`running`, `paused`; comma-separated or repeated); default both. */
function parseStates(raw: unknown): SandboxStatus[] {
  const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => String(v).split(',')).filter(Boolean);
  if (values.length === 0) return ['creating', 'running', 'paused'];
  const statuses: SandboxStatus[] = [];
  for (const v of values) {
    if (v === 'running') statuses.push('creating', 'running');
    else if (v === 'paused') statuses.push('paused');
    else throw new InvalidArgumentError(`state "${v}" is not one of running, paused`);
  }
  return statuses;
}

function unixSeconds(raw: unknown, what: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${what} must be a Unix time in seconds`);
  return n * 1000;
}

