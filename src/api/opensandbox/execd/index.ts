/**
 * berth's own execd: what the SDK reaches at the endpoint of port 44772. Nothing runs in the
 * sandbox for it: every call is served here over berth's data plane (CommandRunner, FileOps,
 * MetricsSampler) after the interaction gate (owner check, touch, auto-resume).
 */
import express, { Router } from 'express';
import type { CommandRunner } from '../../../dataplane/commands.js';
import type { FileOps } from '../../../dataplane/files.js';
import type { MetricsSampler } from '../../../dataplane/metrics.js';
import type { InteractionGate } from '../../../service/interaction-gate.js';
import type { StreamSlots } from '../../../service/stream-slots.js';
import { callerOf } from '../../auth.js';
import { mountParam } from '../auth.js';
import { notSupported } from '../errors.js';
import { commandRoutes } from './commands.js';
import { fileRoutes } from './files.js';

export interface ExecdDeps {
  gate: InteractionGate;
  runner: CommandRunner;
  files: FileOps;
  sampler: MetricsSampler;
  slots: StreamSlots;
  limits: { maxUploadBytes: number; fileEditCapBytes: number };
}

/** The execd router (mounted per sandbox, `:id` in the mount path). */
export function execdRoutes(deps: ExecdDeps): Router {
  const router = Router({ mergeParams: true });
  const { gate } = deps;

  router.get('/ping', async (req, res) => {
    await gate.beginInteraction(callerOf(req).owner, mountParam(req, 'id'));
    res.status(200).end();
  });

  router.get('/metrics', async (req, res) => {
    const info = await gate.beginInteraction(callerOf(req).owner, mountParam(req, 'id'));
    const s = await deps.sampler.sample(info.sandboxID, { record: false });
    const mib = 2 ** 20;
    res.json({
      cpu_count: s.cpuLimit ?? info.resources.cpu,
      // berth counts percent of one CPU; execd reports percent of the sandbox's CPUs.
      cpu_used_pct: s.cpuPercent === null ? 0 : s.cpuPercent / (s.cpuLimit ?? info.resources.cpu ?? 1),
      mem_total_mib: s.memoryLimitBytes / mib,
      mem_used_mib: s.memoryUsedBytes / mib,
      timestamp: Date.parse(s.at),
    });
  });
  router.get('/metrics/watch', notSupported('watching metrics', 'poll get_metrics() instead'));

  router.use(express.json({ limit: '1mb' }));
  router.use(commandRoutes(gate, deps.runner, deps.slots));
  router.use(fileRoutes(gate, deps.files, deps.limits, deps.slots));

  const noCode = notSupported('code-interpreter contexts', 'berth runs commands, not Jupyter kernels: run code with commands.run("python3 -c ...")');
  router.all('/code{/*rest}', noCode);
  router.all('/v1/isolated{/*rest}', notSupported('isolated sessions', 'create another sandbox for isolation'));
  return router;
}
