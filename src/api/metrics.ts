import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The sandbox a request URL concerns (`/sandboxes/{id}/…`), for log lines; undefined otherwise. */
export function sandboxIDOfUrl(url: string): string | undefined {
  return /^\/sandboxes\/([a-z0-9]{20})(?:\/|$)/.exec(url.split('?')[0] ?? '')?.[1];
}

/** The API's Prometheus metrics. `liveCounts` is read at scrape time (visibility counts). */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'API request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly creates = new Counter({
    name: 'berth_sandbox_creates_total',
    help: 'Sandboxes created through this API (also ?wait=false ones, counted when started), by template and outcome',
    labelNames: ['template', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly stops = new Counter({
    name: 'berth_sandbox_user_stops_total',
    help: 'Sandboxes stopped by a user call through this API',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  constructor(collectStatesUncached: () => Promise<{ byState: Record<string, number>; stoppedByReason: Record<string, number> }>) {
    // Both gauges below read the same counts: one visibility round per scrape, not two.
    let cached: { atMs: number; result: ReturnType<typeof collectStatesUncached> } | undefined;
    const collectStates = () => {
      if (!cached || Date.now() - cached.atMs > 1000) cached = { atMs: Date.now(), result: collectStatesUncached() };
      return cached.result;
    };
    new Gauge({
      name: 'berth_sandboxes',
      help: 'Sandboxes by state (live ones; stopped/failed within Temporal retention), from visibility',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        const { byState } = await collectStates().catch(() => ({ byState: {} as Record<string, number> }));
        this.reset();
        for (const [state, n] of Object.entries(byState)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'berth_sandbox_stops',
      help: 'Stopped sandboxes within Temporal retention, by stop reason, from visibility',
      labelNames: ['reason'] as const,
      registers: [this.registry],
      async collect() {
        const { stoppedByReason } = await collectStates().catch(() => ({ stoppedByReason: {} as Record<string, number> }));
        this.reset();
        for (const [reason, n] of Object.entries(stoppedByReason)) this.set({ reason }, n);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'berth_api_' });
  }

  /** Express middleware timing each request by its route pattern, and logging it (with the sandbox ID). */
  middleware(logger?: Logger) {
    return (req: Request, res: Response, next: NextFunction): void => {
      const end = this.requestDuration.startTimer();
      res.on('finish', () => {
        const routePath = (req.route as { path?: string } | undefined)?.path;
        const route = routePath ? `${req.baseUrl}${routePath}` : 'unmatched';
        const seconds = end({ method: req.method, route, status: String(res.statusCode) });
        if (logger && route !== '/metrics' && route !== '/healthz') {
          const sandboxID = sandboxIDOfUrl(req.originalUrl);
          logger.info(
            { method: req.method, route, status: res.statusCode, durationMs: Math.round(seconds * 1000), ...(sandboxID ? { sandboxID } : {}), owner: req.caller?.owner },
            'request',
          );
        }
      });
      next();
    };
  }
}
