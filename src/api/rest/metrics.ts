/** `GET /sandboxes/{id}/metrics`: current CPU, memory and disk use plus a time series. */
import { Router } from 'express';
import { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';
import type { MetricsSampler } from '../../dataplane/metrics.js';
import { callerOf } from '../auth.js';
import { endpoint, mount, param } from './endpoint.js';
import { metricsSchema } from './response-schemas.js';
import type { InteractionGate } from '../../service/interaction-gate.js';

/** How stale the disk figure of a `current` sample may be (measuring it walks the container's writable layer). */
const CURRENT_DISK_MAX_AGE_MS = 5000;

const metricsQuery = z.object({
  start: z.string().optional().describe('ISO time or epoch milliseconds; series from then on.'),
  end: z.string().optional().describe('ISO time or epoch milliseconds; series up to then.'),
});

const getMetrics = endpoint({
  method: 'get',
  path: '/sandboxes/{sandboxID}/metrics',
  summary: 'Resource use: current sample and the time series kept by this API process',
  query: metricsQuery,
  responses: { '200': { description: 'Current sample and series', json: metricsSchema } },
  errors: [404, [409, 'Sandbox paused']],
});

/** Parses an ISO timestamp or epoch milliseconds. */
export function parseTime(raw: string | undefined, what: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`${what} must be an ISO time or epoch milliseconds`);
  return ms;
}

/** The metrics router. */
export function metricsRoutes(gate: InteractionGate, sampler: MetricsSampler, intervalMs: number): Router {
  const router = Router();
  mount(router, getMetrics, async (req, res, { query: q }) => {
    const start = parseTime(q.start, 'start');
    const end = parseTime(q.end, 'end');
    if (start !== undefined && end !== undefined && end < start) throw new InvalidArgumentError('end is before start');
    const info = await gate.beginInteraction(callerOf(req).owner, param(req, 'sandboxID'));
    const current = await sampler.sample(info.sandboxID, { record: false, diskMaxAgeMs: CURRENT_DISK_MAX_AGE_MS });
    res.json({ sandboxID: info.sandboxID, current, series: sampler.history(info.sandboxID, start, end), intervalMs });
  });
  return router;
}
