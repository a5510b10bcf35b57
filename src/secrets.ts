import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Seals a small JSON value (sandbox env vars) with AES-256-GCM so that secrets never
 * appear in clear text in Temporal history. Only the API seals; only activities open.
 */
export function sealJson(value: unknown, keyHex: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
}

/** Opens a value sealed by {@link sealJson}. Throws when the key or data is wrong. */
export function openJson<T>(sealed: string, keyHex: string): T {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || body === undefined) throw new Error('sealed value has an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), Buffer.from(iv, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  const clear = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
  return JSON.parse(clear.toString('utf8')) as T;
}
