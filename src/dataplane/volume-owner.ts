/**
 * Who owns a freshly mounted volume's root. A new Docker named volume's root belongs to root
 * (mode 755), so a door whose commands run as an unprivileged user by default (E2B's envd runs
 * as `user`) could not write to the volume it just mounted. {@link VolumeOwner.handToUser} gives
 * the root of each mount that is still empty and root-owned to that user; a volume that already
 * holds data, or that someone chowned, is left as it is.
 */
import type Docker from 'dockerode';
import { execCollect, ROOT } from './exec.js';

/** For each path: empty and owned by uid 0 → chown to the user (when the image has that user). */
const HAND_OVER = `u="$1"; shift
id -u "$u" >/dev/null 2>&1 || exit 0
for p in "$@"; do
  if [ -d "$p" ] && [ -z "$(ls -A "$p")" ] && [ "$(stat -c %u "$p")" = 0 ]; then chown "$u:$(id -g "$u")" "$p" || exit 1; fi
done`;

export class VolumeOwner {
  constructor(private readonly docker: Docker) {}

  /** Gives each empty, root-owned mount root to `user`; a no-op when the image has no such user. */
  async handToUser(sandboxID: string, mountPaths: string[], user: string): Promise<void> {
    if (mountPaths.length === 0) return;
    const run = await execCollect(this.docker, sandboxID, { cmd: ['/bin/sh', '-c', HAND_OVER, 'berth', user, ...mountPaths], user: ROOT }, 64 * 1024);
    if (run.exitCode !== 0) throw new Error(`could not hand the volume mounts to ${user}: ${run.stderr.trim() || `exit ${run.exitCode}`}`);
  }
}
