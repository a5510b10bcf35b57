/**
 * The OpenSandbox front door: the lifecycle API under `/v1` and, per sandbox, the endpoints
 * berth hands out for its ports under `/v1/sandboxes/{id}/proxy/{port}`: port 44772 is berth's
 * own execd (served here over the data plane), port 18080 (OpenSandbox's egress sidecar) answers
 * NOT_SUPPORTED to every call, any other port is proxied into the sandbox. Errors keep the
 * protocol's `{code, message}` shape. Maps shapes only (see docs/opensandbox.md).
 */
import { Router } from 'express';
import type { Logger } from 'pino';
import type { CommandRunner } from '../../dataplane/commands.js';
import type { FileOps } from '../../dataplane/files.js';
import type { MetricsSampler } from '../../dataplane/metrics.js';
import { parsePort, type PortProxy } from '../../dataplane/proxy.js';
import { NotFoundError } from '../../errors.js';
import type { InteractionGate } from '../../service/interaction-gate.js';
import type { SandboxService } from '../../service/sandbox-service.js';
import type { VolumeService } from '../../service/volume-service.js';
import type { SnapshotService } from '../../service/snapshot-service.js';
import type { StreamSlots } from '../../service/stream-slots.js';
import type { Template } from '../../templates.js';
import { callerOf } from '../auth.js';
import { endpointAuth, lifecycleAuth, mountParam } from './auth.js';
import { notSupported, openSandboxErrors } from './errors.js';
import { execdRoutes } from './execd/index.js';
import { EGRESS_PORT, EXECD_PORT, lifecycleRoutes } from './lifecycle.js';
import { snapshotRoutes } from './snapshots.js';

export interface OpenSandboxDeps {
  service: SandboxService;
  volumes: VolumeService;
  snapshots: SnapshotService;
  gate: InteractionGate;
  runner: CommandRunner;
  files: FileOps;
  sampler: MetricsSampler;
  proxy: PortProxy;
  slots: StreamSlots;
  logger: Logger;
  apiKeys: Map<string, string>;
  secretKeyHex: string;
  publicUrl: string | undefined;
  templates: Map<string, Template>;
  limits: { maxUploadBytes: number; fileEditCapBytes: number };
}

/** The door's router; mount it at `/v1` before berth's own auth and body parser. */
export function openSandboxRoutes(deps: OpenSandboxDeps): Router {
  const router = Router();
  const { gate } = deps;

  const endpoints = Router({ mergeParams: true });
  endpoints.use(endpointAuth(deps.apiKeys, deps.secretKeyHex));
  const execd = execdRoutes(deps);
  const egress = notSupported('the egress sidecar API', 'berth enforces the egress policy given at create (networkPolicy) in the host packet filter; it cannot be changed later');
  endpoints.use((req, res, next) => {
    const port = parsePort(mountParam(req, 'port'));
    if (port === EXECD_PORT) return execd(req, res, next);
    if (port === EGRESS_PORT) return egress(req, res, next);
    next();
  });
  endpoints.all('{/*rest}', async (req, res) => {
    const port = parsePort(mountParam(req, 'port'));
    const { owner } = callerOf(req);
    const releaseSlot = deps.slots.hold(owner, 'proxy connection', res);
    try {
      const info = await gate.beginInteraction(owner, mountParam(req, 'id'));
      const stop = gate.keepAlive(info.sandboxID, info.timeout);
      try {
        const prefix = `${req.baseUrl}`;
        const path = req.originalUrl.slice(prefix.length) || '/';
        await deps.proxy.forward(info.sandboxID, port, path.startsWith('/') ? path : `/${path}`, req, res, prefix);
      } finally {
        stop();
      }
    } finally {
      releaseSlot();
    }
  });
  router.use('/sandboxes/:id/proxy/:port', endpoints);

  router.use(lifecycleAuth(deps.apiKeys));
  router.use(snapshotRoutes(deps.snapshots));
  router.use(lifecycleRoutes(deps));
  router.use((req, _res, next) => next(new NotFoundError(`no OpenSandbox route ${req.method} /v1${req.path}`)));
  router.use(openSandboxErrors(deps.logger, (id) => gate.reportContainerMissing(id)));
  return router;
}
