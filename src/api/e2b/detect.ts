/**
 * Which front door answers a request on the paths berth's REST and the E2B protocol share
 * (`POST /sandboxes`, `GET /sandboxes/{id}`, `DELETE /sandboxes/{id}`, …). The one rule:
 *
 *   **a request whose API key has E2B's format (`e2b_<hex>`) is an E2B request.**
 *
 * berth issues every owner an E2B-format key next to its own (`npm run up` prints both; see
 * BERTH_API_KEYS), and berth's own keys never start with `e2b_`. The E2B SDKs send the key
 * in `X-API-Key`; `Authorization: Bearer` is read too. The key, not a header such as
 * `publisher` or `User-Agent`, decides: it is what the user chose, it is always sent, and
 * the same client gets the same door on every path.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** An E2B-format API key: `e2b_` and hex digits (what the E2B SDKs expect keys to look like). */
export const E2B_KEY_PATTERN = /^e2b_[0-9a-f]{32,}$/;
const E2B_KEY_PREFIX = 'e2b_';

/** The API key a request presents (`X-API-Key`, else `Authorization: Bearer`), if any. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers['x-api-key'];
  const fromHeader = (Array.isArray(apiKey) ? apiKey[0] : apiKey)?.trim();
  if (fromHeader) return fromHeader;
  return headers.authorization?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim();
}

/** Whether the E2B front door answers this request (see the module comment). */
export function isE2BRequest(req: { headers: IncomingHttpHeaders }): boolean {
  return presentedKey(req.headers)?.startsWith(E2B_KEY_PREFIX) ?? false;
}
