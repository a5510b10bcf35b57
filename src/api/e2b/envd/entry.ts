/** berth's file entries in envd's `filesystem.EntryInfo` JSON shape. */
import type { EntryInfo } from '../../../dataplane/files.js';

const FILE_TYPE: Record<EntryInfo['type'], string> = {
  file: 'FILE_TYPE_FILE',
  dir: 'FILE_TYPE_DIRECTORY',
  symlink: 'FILE_TYPE_SYMLINK',
  other: 'FILE_TYPE_UNSPECIFIED',
};

/** `rwxr-xr-x` with Go's type letter in front (`d`, `L`, `-`). */
export function permissionsText(entry: EntryInfo): string {
  const bits = Number.parseInt(entry.mode, 8) & 0o777;
  const rwx = ['r', 'w', 'x'];
  let out = entry.type === 'dir' ? 'd' : entry.type === 'symlink' ? 'L' : '-';
  for (let i = 8; i >= 0; i--) out += bits & (1 << i) ? rwx[(8 - i) % 3] : '-';
  return out;
}

/**
 * An `EntryInfo` message. A strict client (agentbox, whose generated messages know only
 * `name`, `type` and `path`, and which fails on unknown fields) gets just those.
 */
export function entryMessage(entry: EntryInfo, strict: boolean): Record<string, unknown> {
  const base = { name: entry.name, type: FILE_TYPE[entry.type], path: entry.path };
  if (strict) return base;
  return {
    ...base,
    size: entry.size,
    mode: Number.parseInt(entry.mode, 8),
    permissions: permissionsText(entry),
    owner: entry.owner,
    group: entry.group,
    modifiedTime: entry.modifiedAt,
    isSymlink: entry.type === 'symlink',
  };
}

/** The `/files` upload answer entry (`{name, type: "file", path}`). */
export function writeInfo(entry: EntryInfo): { name: string; type: string; path: string } {
  return { name: entry.name, type: entry.type === 'dir' ? 'dir' : 'file', path: entry.path };
}
