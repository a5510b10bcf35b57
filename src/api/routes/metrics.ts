/** `GET /sandboxes/{id}/metrics`: current CPU, memory and disk use plus a time series. */
import { Router } from 'express';
import { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';
import type { MetricsSampler } from '../../dataplane/metrics.js';
import { callerOf } from '../auth.js';
import { registerOperations } from '../openapi.js';
import type { SandboxService } from '../sandbox-service.js';
import { parseOr400 } from '../validate.js';

/** How stale the disk figure of a `current` sample may be (measuring it walks the container's writable layer). */
const CURRENT_DISK_MAX_AGE_MS = 5000;

registerOperations('/sandboxes/{sandboxID}/metrics', {
  get: {
    summary: 'Resource use: current sample and the time series kept by this API process',
    query: [
      ['start', 'ISO time or epoch milliseconds; series from then on'],
      ['end', 'ISO time or epoch milliseconds; series up to then'],
    ],
    responses: { '200': '{sandboxID, current, series, intervalMs}', '400': 'Invalid time', '404': 'Sandbox not found', '409': 'Sandbox paused' },
  },
});

/** Parses an ISO timestamp or epoch milliseconds. */
export function parseTime(raw: string | undefined, what: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`${what} must be an ISO time or epoch milliseconds`);
  return ms;
}

/** The metrics router. */
export function metricsRoutes(service: SandboxService, sampler: MetricsSampler, intervalMs: number): Router {
  const router = Router();
  router.get('/sandboxes/:id/metrics', async (req, res) => {
    const q = parseOr400(z.object({ start: z.string().optional(), end: z.string().optional() }), req.query, 'query');
    const start = parseTime(q.start, 'start');
    const end = parseTime(q.end, 'end');
    if (start !== undefined && end !== undefined && end < start) throw new InvalidArgumentError('end is before start');
    const info = await service.beginInteraction(callerOf(req).owner, req.params.id);
    const current = await sampler.sample(info.sandboxID, { record: false, diskMaxAgeMs: CURRENT_DISK_MAX_AGE_MS });
    res.json({ sandboxID: info.sandboxID, current, series: sampler.history(info.sandboxID, start, end), intervalMs });
  });
  return router;
}
