import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Client } from '@temporalio/client';
import type Docker from 'dockerode';
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { BerthConfig } from '../config.js';
import { apiKeyAuth, constantTimeLookup } from './auth.js';
import { DockerHosts } from '../docker/hosts.js';
import { hostRoutes } from './rest/hosts.js';
import { errorMiddleware } from './rest/error-middleware.js';
import { ApiMetrics } from './metrics.js';
import { openApiDocument } from './rest/openapi.js';
import { docsRoutes } from './rest/docs-page.js';
import { CreateEnvs } from '../service/create-envs.js';
import { CommandRunner } from '../dataplane/commands.js';
import { useAgent } from '../dataplane/agent-route.js';
import { FileOps } from '../dataplane/files.js';
import { MetricsSampler } from '../dataplane/metrics.js';
import { PortProxy } from '../dataplane/proxy.js';
import { Spooler } from '../dataplane/spool.js';
import { endpointRoutes, proxyUpgradeHandler } from './rest/endpoints.js';
import { metricsRoutes } from './rest/metrics.js';
import { fileRoutes } from './rest/files.js';
import { commandRoutes } from './rest/commands.js';
import { ptyRoutes } from './rest/pty.js';
import { isPtySocketPath, ptyUpgradeHandler } from './rest/pty-socket.js';
import { volumeRoutes } from './rest/volumes.js';
import { VolumeService } from '../service/volume-service.js';
import { VolumeStore } from '../dataplane/volumes.js';
import { VolumeOwner } from '../dataplane/volume-owner.js';
import { snapshotRoutes } from './rest/snapshots.js';
import { SnapshotService } from '../service/snapshot-service.js';
import { SnapshotStore } from '../dataplane/snapshots.js';
import { sandboxRoutes } from './rest/sandboxes.js';
import { openSandboxRoutes } from './opensandbox/index.js';
import { InteractionGate } from '../service/interaction-gate.js';
import { ProcessTable } from '../dataplane/processes.js';
import { PtyManager } from '../dataplane/pty.js';
import { Watches } from '../dataplane/watch.js';
import { createEnvdApp, type EnvdApp } from './e2b/envd/app.js';
import { SandboxService } from '../service/sandbox-service.js';
import { StreamSlots } from '../service/stream-slots.js';
import { e2bControlPlane } from './e2b/control-plane.js';
import { e2bHostProxy, e2bHostProxyUpgrade } from './e2b/host-proxy.js';
import type { TransitionReason } from '../workflows/definitions.js';

/** Reasons a sandbox stops or fails (the stop-reason metric has one series each). */
const STOP_REASONS: TransitionReason[] = ['user', 'idle_timeout', 'absolute_timeout', 'max_lifetime', 'paused_retention', 'host_lost', 'container_lost', 'disk_quota', 'provision_failed'];

export interface AppDeps {
  config: BerthConfig;
  client: Client;
  /** The engine of this API's own host (config.hostName). */
  docker: Docker;
  logger: Logger;
  /** Clients of other hosts' engines to use instead of building them from BERTH_DOCKER_HOSTS (tests). */
  engines?: Map<string, Docker>;
}

export interface BerthApp {
  app: Express;
  service: SandboxService;
  /** User snapshots (take, list, delete, boot from, retention sweep). */
  snapshots: SnapshotService;
  /** The path of every data-plane call (touch, auto-resume, leases, live-state cache). */
  gate: InteractionGate;
  metrics: ApiMetrics;
  /** This process's interactive terminals (every front door shares them). */
  ptys: PtyManager;
  /** E2B's envd (Connect-RPC, /files, /health): listen on it separately (config.e2bEnvd.port). */
  envd: EnvdApp;
  /**
   * The HTTP server's `upgrade` listener (WebSocket proxy to sandbox ports, terminal WebSockets). `app.listen`
   * installs it; attach it yourself when you create the server with `http.createServer(app)`.
   */
  upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /**
   * Stops background work (touch coalescing, metrics sampling); pending touches are delivered
   * before it resolves. Does not close the Temporal connection.
   */
  close(): Promise<void>;
}

/** Builds the Express app: health, docs, metrics, then authenticated sandbox routes. */
export function createApp(deps: AppDeps): BerthApp {
  const { config, client, docker, logger } = deps;
  // The data plane reaches each sandbox's own host's engine (src/docker/hosts.ts).
  const hosts = new DockerHosts(config.hosts.endpoints, config.hostName, config.hosts.tlsDir, new Map([[config.hostName, docker], ...(deps.engines ?? [])]));
  const dataDocker = hosts.routed();
  const metrics = new ApiMetrics(() => collectStates(client));
  const volumes = new VolumeService(new VolumeStore(docker), config.limits);
  // A sandbox's create-time envs for every exec (a claimed warm-pool container lacks them).
  const createEnvs = new CreateEnvs(client, config.secretKeyHex);
  const snapshots = new SnapshotService({ client, config, logger, store: new SnapshotStore(docker, config.snapshots.retentionMs), sandboxes: (): SandboxService => service });
  const service = new SandboxService({
    client,
    config,
    logger,
    volumes,
    createEnvs,
    snapshots,
    onLifecycle: (event) => {
      if (event.kind === 'stop') metrics.stops.inc({ reason: event.reason });
      else metrics.creates.inc({ template: event.templateID, outcome: event.kind === 'create' ? 'ok' : 'failed' });
    },
    // Lifecycle calls drop what the gate cached about the sandbox (gate is set just below).
    interactions: {
      invalidate: (id) => gate.invalidate(id),
      invalidateAll: () => gate.invalidateAll(),
      forget: (id) => gate.forget(id),
    },
  });
  const gate = new InteractionGate({ client, config, logger, lifecycle: service, onHost: (id, host) => hosts.remember(id, host) });
  // Removes spool files left by a crashed API process, then spools under the data folder.
  const spooler = new Spooler({ dataDir: config.dataDir, budgetBytes: config.dataPlane.spoolBudgetBytes });
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(metrics.middleware(logger));
  const proxy = new PortProxy(dataDocker);
  const slots = new StreamSlots(config.dataPlane.maxStreamsPerOwner);
  // E2B's get_host(port): `<port>-<sandboxID>.<domain>` host names go to the sandbox port, whatever the path.
  const hostProxyDeps = { gate, proxy, apiKeys: config.apiKeys, slots, logger };
  app.use(e2bHostProxy(hostProxyDeps));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const [temporal, dockerEngine] = await Promise.all([
      client.workflowService.getSystemInfo({}).then(
        () => 'ok',
        (err: unknown) => `unreachable: ${(err as Error).message}`,
      ),
      docker.ping().then(
        () => 'ok',
        (err: unknown) => `unreachable: ${(err as Error).message}`,
      ),
    ]);
    const ready = temporal === 'ok' && dockerEngine === 'ok';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', temporal, docker: dockerEngine });
  });
  app.get('/openapi.json', (req, res) => {
    res.json(openApiDocument(config.api.publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`));
  });
  app.use(docsRoutes());
  app.get('/metrics', async (_req, res) => {
    const own = await metrics.registry.metrics();
    const worker = await scrapeWorkerMetrics(config.workerMetrics.scrapeUrl);
    res.type(metrics.registry.contentType).send(worker ? `${own}\n# worker (Temporal SDK) metrics from ${config.workerMetrics.scrapeUrl}\n${worker}` : own);
  });

  // Sandboxes with berth's agent get their processes through it; others (and a dead agent) through docker exec.
  // Registered on the routed client the data plane uses (a proxy over the hosts' clients: its own
  // identity), and on the local client for callers that hold it directly.
  const agentRoute = { dir: config.agent.dir, secretKeyHex: config.secretKeyHex };
  useAgent(dataDocker, agentRoute);
  useAgent(docker, agentRoute);
  const envLookup = (sandboxID: string) => createEnvs.get(sandboxID);
  const runner = new CommandRunner(dataDocker, config.dataPlane, envLookup);
  const fileOps = new FileOps(dataDocker, config.dataPlane, spooler);
  const sampler = new MetricsSampler(dataDocker, { intervalMs: config.dataPlane.metricsIntervalMs, retention: config.dataPlane.metricsRetention }, logger);
  // The OpenSandbox front door (its own key header, body parsing and error shape).
  app.use(
    '/v1',
    openSandboxRoutes({
      service,
      volumes,
      snapshots,
      gate,
      runner,
      files: fileOps,
      sampler,
      proxy,
      slots,
      logger,
      apiKeys: config.apiKeys,
      secretKeyHex: config.secretKeyHex,
      publicUrl: config.api.publicUrl,
      templates: config.templates,
      limits: config.dataPlane,
    }),
  );
  // The E2B protocol on the same paths: it answers requests with an E2B-format key (src/api/e2b/detect.ts).
  app.use(e2bControlPlane({ service, volumes, snapshots, volumeOwner: new VolumeOwner(docker), gate, sampler, config, logger }));
  app.use(apiKeyAuth(config.apiKeys, config.adminKeys));
  app.use(endpointRoutes(gate, proxy, config.api.publicUrl, slots)); // before the JSON parser: proxied bodies pass untouched
  app.use(express.json({ limit: '1mb' }));
  app.use(sandboxRoutes(service));
  app.use(hostRoutes(service));
  app.use(volumeRoutes(volumes));
  app.use(snapshotRoutes(snapshots));
  snapshots.startSweep();
  app.use(commandRoutes(gate, runner, config.dataPlane, slots));
  const ptys = new PtyManager(dataDocker, config.pty, envLookup);
  app.use(ptyRoutes(gate, ptys));
  app.use(fileRoutes(gate, fileOps, config.dataPlane, slots));
  sampler.start();
  app.use(metricsRoutes(gate, sampler, config.dataPlane.metricsIntervalMs));
  app.use((req, res) => {
    res.status(404).json({ code: 'not_found', message: `no route ${req.method} ${req.path}; see /docs` });
  });
  app.use(errorMiddleware(logger, (sandboxID) => gate.reportContainerMissing(sandboxID)));
  const envd = createEnvdApp({
    gate,
    processes: new ProcessTable(runner),
    ptys,
    files: fileOps,
    watches: new Watches(dataDocker, config.e2bEnvd.watchIntervalMs),
    maxUploadBytes: config.dataPlane.maxUploadBytes,
    slots,
    secretKeyHex: config.secretKeyHex,
    ownerOfKey: (key) => constantTimeLookup(config.apiKeys, key),
    logger,
  });
  const restUpgrade = proxyUpgradeHandler({ gate, proxy, apiKeys: config.apiKeys, logger, slots });
  const ptyUpgrade = ptyUpgradeHandler({ gate, ptys, apiKeys: config.apiKeys, logger, slots });
  const hostUpgrade = e2bHostProxyUpgrade(hostProxyDeps);
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (hostUpgrade(req, socket, head)) return;
    (isPtySocketPath(req.url) ? ptyUpgrade : restUpgrade)(req, socket, head);
  };
  const listen = app.listen.bind(app) as (...args: unknown[]) => Server;
  app.listen = ((...args: unknown[]) => listen(...args).on('upgrade', upgrade)) as typeof app.listen;
  return {
    app,
    snapshots,
    service,
    gate,
    metrics,
    ptys,
    envd,
    upgrade,
    close: async () => {
      envd.close();
      await ptys.close();
      sampler.close();
      await gate.close();
      spooler.close();
      await snapshots.close();
    },
  };
}

/** The worker's Temporal SDK metrics (activity failures, task latencies), or null when unreachable. */
async function scrapeWorkerMetrics(url: string): Promise<string | null> {
  if (!url) return null;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

async function collectStates(client: Client) {
  const byState: Record<string, number> = {};
  const stoppedByReason: Record<string, number> = {};
  const base = `WorkflowType = 'sandboxWorkflow'`;
  await Promise.all(
    (['creating', 'running', 'paused'] as const).map(async (state) => {
      byState[state] = (await client.workflow.count(`${base} AND ExecutionStatus = 'Running' AND BerthState = '${state}'`)).count;
    }),
  );
  // SQL visibility groups by ExecutionStatus only, so one count per stop reason.
  await Promise.all(
    STOP_REASONS.map(async (reason) => {
      stoppedByReason[reason] = (await client.workflow.count(`${base} AND ExecutionStatus = 'Completed' AND BerthStopReason = '${reason}'`)).count;
    }),
  );
  return { byState, stoppedByReason };
}
