/**
 * Placement's choice as a pure function (src/service/placement.ts gathers the hosts' state and
 * load): among healthy, undrained hosts that have the image (any such host when none has it),
 * the one with the lowest `max(CPU committed / CPUs, memory committed / memory)` after this
 * sandbox, counting creates still in flight; ties go to the fewest sandboxes, then the name.
 */
import type { Resources } from '../workflows/definitions.js';
import type { HostView } from './placement.js';

/** A create in flight: its resources count on its host until visibility shows the sandbox. */
export interface Reservation {
  host: string;
  resources: Resources;
}

/** The larger of CPU and memory committed against capacity after this sandbox (lower is better), plus a hair per sandbox. */
export function placementScore(h: HostView, need: Resources, reservations: Iterable<Reservation>): number {
  const pending = [...reservations].filter((r) => r.host === h.host);
  const cpu = h.load.cpu + need.cpu + pending.reduce((n, r) => n + r.resources.cpu, 0);
  const memoryMB = h.load.memoryMB + need.memoryMB + pending.reduce((n, r) => n + r.resources.memoryMB, 0);
  const count = h.load.sandboxes + pending.length;
  const cap = h.capacity ?? { cpus: 1, memoryMB: 1024 };
  return Math.max(cpu / Math.max(cap.cpus, 0.001), memoryMB / Math.max(cap.memoryMB, 1)) + count * 1e-6;
}

/** The host for a new sandbox, or undefined when no host is healthy and undrained. */
export function pickHost(hosts: HostView[], need: { image: string; resources: Resources }, reservations: Iterable<Reservation>): HostView | undefined {
  const usable = hosts.filter((h) => h.healthy && !h.drained);
  const withImage = usable.filter((h) => h.images.includes(need.image));
  // No host has the image: place anyway (the provision then says which image is missing where).
  const candidates = withImage.length > 0 ? withImage : usable;
  const pending = [...reservations];
  return candidates
    .map((h) => ({ h, score: placementScore(h, need.resources, pending) }))
    .sort((a, b) => a.score - b.score || a.h.host.localeCompare(b.h.host))[0]?.h;
}
