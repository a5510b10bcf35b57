/** Literal text replacement in a sandbox's file, bounded before anything is built. */
import { PayloadTooLargeError } from '../errors.js';
import type { EntryInfo } from './files.js';

/**
 * Replaces `old` by `replacement` in `text` (every occurrence, or only the first), refusing
 * with 413 when the result would be larger than `capBytes` (UTF-8). The size is computed from
 * the occurrence count first: building an oversized result would fail (a JS string has at
 * most ~512 Mi characters) or take that much memory.
 */
export function replaceLiteral(
  text: string,
  old: string,
  replacement: string,
  all: boolean,
  capBytes: number,
): { replacements: number; updated: string } {
  let replacements = 0;
  for (let at = text.indexOf(old); at !== -1; at = text.indexOf(old, at + old.length)) {
    replacements++;
    if (!all) break;
  }
  if (replacements === 0) return { replacements, updated: text };
  const outputBytes = Buffer.byteLength(text) + replacements * (Buffer.byteLength(replacement) - Buffer.byteLength(old));
  if (outputBytes > capBytes) {
    throw new PayloadTooLargeError(
      `replacing ${replacements} occurrences would make the file ${outputBytes} bytes; replace is limited to ${capBytes} bytes ` +
        '(BERTH_FILE_EDIT_CAP_BYTES): replace fewer occurrences (all: false) or upload the new content with PUT /files',
    );
  }
  const updated = all ? text.split(old).join(replacement) : text.replace(old, () => replacement);
  return { replacements, updated };
}

/** What {@link replaceInFile} needs of the file operations. */
export interface TextFileOps {
  readSmall(sandboxID: string, path: string): Promise<Buffer>;
  info(sandboxID: string, path: string): Promise<EntryInfo>;
  write(sandboxID: string, path: string, content: Buffer): Promise<EntryInfo>;
}

/**
 * Replaces literal text in a file of the sandbox (see {@link replaceLiteral}); the file is
 * rewritten only when something was replaced. Answers the count and the entry after.
 */
export async function replaceInFile(
  files: TextFileOps,
  sandboxID: string,
  path: string,
  edit: { old: string; new: string; all: boolean },
  capBytes: number,
): Promise<{ replacements: number; entry: EntryInfo }> {
  const text = (await files.readSmall(sandboxID, path)).toString('utf8');
  const { replacements, updated } = replaceLiteral(text, edit.old, edit.new, edit.all, capBytes);
  if (replacements === 0) return { replacements, entry: await files.info(sandboxID, path) };
  return { replacements, entry: await files.write(sandboxID, path, Buffer.from(updated, 'utf8')) };
}
