/** A sandbox template: what image it boots and its defaults. */
export interface Template {
  /** Template ID as users name it, e.g. `base`. */
  id: string;
  /** Docker image (local or from a registry). */
  image: string;
  /** Idle timeout used when a create request omits `timeout`. */
  defaultIdleTimeoutS: number;
  /** Default CPU count. */
  cpu: number;
  /** Default memory limit. */
  memoryMB: number;
  /**
   * A Docker runtime other than the engine's default: `runsc` (gVisor). Such sandboxes run with
   * no network, and a pause to disk checkpoints their processes (docs/pause.md).
   */
  runtime?: string;
}

/** Locally built images (see scripts/lib/ensure-images.sh). */
export const LOCAL_IMAGES = {
  busybox: 'berth/busybox:1',
  debianPython: 'berth/debian-python:bookworm',
} as const;

const BASE_DEFAULTS = { cpu: 1, memoryMB: 512 };

/**
 * The built-in catalog. The agent templates (claude, codex, …) map to the local Debian
 * image here; on machines with a registry, override them with `BERTH_TEMPLATE_IMAGES`.
 */
export const DEFAULT_TEMPLATES: readonly Template[] = [
  { id: 'base', image: LOCAL_IMAGES.debianPython, defaultIdleTimeoutS: 300, ...BASE_DEFAULTS },
  { id: 'code_interpreter', image: LOCAL_IMAGES.debianPython, defaultIdleTimeoutS: 300, ...BASE_DEFAULTS },
  { id: 'claude', image: LOCAL_IMAGES.debianPython, defaultIdleTimeoutS: 600, ...BASE_DEFAULTS },
  { id: 'codex', image: LOCAL_IMAGES.debianPython, defaultIdleTimeoutS: 600, ...BASE_DEFAULTS },
  { id: 'hermes', image: LOCAL_IMAGES.debianPython, defaultIdleTimeoutS: 600, ...BASE_DEFAULTS },
  { id: 'opencode', image: LOCAL_IMAGES.debianPython, defaultIdleTimeoutS: 600, ...BASE_DEFAULTS },
  { id: 'desktop', image: LOCAL_IMAGES.debianPython, defaultIdleTimeoutS: 600, cpu: 2, memoryMB: 2048 },
  { id: 'tiny', image: LOCAL_IMAGES.busybox, defaultIdleTimeoutS: 300, cpu: 0.5, memoryMB: 64 },
  // Needs the engine to register runsc as a runtime named `runsc` (and --experimental for pause to disk).
  { id: 'gvisor', image: LOCAL_IMAGES.busybox, defaultIdleTimeoutS: 300, cpu: 0.5, memoryMB: 64, runtime: 'runsc' },
];

/** Builds the catalog with per-template image overrides applied. */
export function buildTemplateCatalog(imageOverrides: Record<string, string>): Map<string, Template> {
  const catalog = new Map<string, Template>();
  for (const template of DEFAULT_TEMPLATES) {
    catalog.set(template.id, { ...template, image: imageOverrides[template.id] ?? template.image });
  }
  return catalog;
}
