/** berth's sandbox views in the OpenSandbox lifecycle shapes (camelCase, capitalised states). */
import type { SandboxListItem, SandboxView } from '../../service/sandbox-service.js';
import type { SandboxStatus } from '../../workflows/definitions.js';

/** berth state → OpenSandbox state. */
export const STATE_NAMES: Record<SandboxStatus, string> = {
  creating: 'Pending',
  running: 'Running',
  paused: 'Paused',
  stopped: 'Terminated',
  failed: 'Failed',
};

/** OpenSandbox state (any case) → berth state; states berth never shows (Pausing, Stopping) map to none. */
export function berthState(name: string): SandboxStatus | undefined {
  const wanted = name.trim().toLowerCase();
  return (Object.keys(STATE_NAMES) as SandboxStatus[]).find((s) => STATE_NAMES[s].toLowerCase() === wanted);
}

export interface OpenSandboxView {
  id: string;
  status: { state: string; reason?: string; message?: string };
  entrypoint: string[];
  createdAt: string;
  expiresAt?: string;
  image?: { uri: string };
  metadata: Record<string, string>;
}

/** One sandbox; `image` is the image its template boots (unknown for custom images). */
export function sandboxView(view: SandboxView, image: string | undefined, entrypoint: string[] = []): OpenSandboxView {
  return {
    id: view.sandboxID,
    status: {
      state: STATE_NAMES[view.status],
      ...(view.stopReason ? { reason: view.stopReason } : {}),
      ...(view.stopDetail ? { message: view.stopDetail } : {}),
    },
    entrypoint,
    createdAt: view.createdAt,
    ...(view.endAt ? { expiresAt: view.endAt } : {}),
    ...(image ? { image: { uri: image } } : {}),
    metadata: view.metadata,
  };
}

/** One row of a list (listing does not query each workflow: no expiry). */
export function listItemView(item: SandboxListItem, image: string | undefined): OpenSandboxView {
  return {
    id: item.sandboxID,
    status: { state: STATE_NAMES[item.status], ...(item.stopReason ? { reason: item.stopReason } : {}) },
    entrypoint: [],
    createdAt: item.createdAt,
    ...(image ? { image: { uri: image } } : {}),
    metadata: item.metadata,
  };
}
