/**
 * Where the CLI connects: `--api-url` / `BERTH_API_URL` (default the `npm run up` stack on
 * http://127.0.0.1:3000), `--api-key` / `BERTH_API_KEY` (default the dev key `npm run up`
 * wrote to `.berth/dev-api-key`, looked up from the current folder upwards, then in the
 * berth clone this CLI lives in).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionOptions } from '../connection.js';

function devKeyFiles(cwd: string, env: Record<string, string | undefined>): string[] {
  const files: string[] = [];
  if (env.BERTH_DATA_DIR) files.push(path.resolve(cwd, env.BERTH_DATA_DIR, 'dev-api-key'));
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    files.push(path.join(dir, '.berth', 'dev-api-key'));
    if (path.dirname(dir) === dir) break;
  }
  files.push(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../.berth/dev-api-key'));
  return files;
}

export function cliConnection(flags: { apiUrl?: string | undefined; apiKey?: string | undefined }, env = process.env, cwd = process.cwd()): ConnectionOptions {
  const apiUrl = flags.apiUrl ?? env.BERTH_API_URL ?? 'http://127.0.0.1:3000';
  let apiKey = flags.apiKey ?? (env.BERTH_API_KEY || undefined);
  if (apiKey === undefined) {
    const file = devKeyFiles(cwd, env).find((f) => existsSync(f));
    if (file) apiKey = readFileSync(file, 'utf8').trim();
  }
  return { apiUrl, ...(apiKey ? { apiKey } : {}) };
}
