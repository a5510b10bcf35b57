/** Literal text replacement for `POST /files/replace`, bounded before anything is built. */
import { PayloadTooLargeError } from '../errors.js';

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
