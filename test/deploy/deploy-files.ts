/** Readers of the deployment files (docker-compose.yml, .env.example, the Dockerfile) for test/deploy/compose.test.ts. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DOCKER_SOCKET = '/var/run/docker.sock';
/** Services built from this repo's Dockerfile: they get berth's configuration. */
export const BERTH_SERVICES = ['api', 'worker'];
export const EXPECTED_SERVICES = ['postgresql', 'temporal', 'temporal-admin-tools', 'temporal-ui', ...BERTH_SERVICES];

/** Values for the secrets .env.example leaves empty (a user must choose them). */
export const PLACEHOLDERS: Record<string, string> = {
  BERTH_API_KEYS: 'sk-compose-test-0001:ops,sk-compose-test-0002:ci',
  BERTH_SECRET_KEY: 'ab'.repeat(32),
  POSTGRES_PASSWORD: 'compose-test-password',
};

export type EnvValue = string | number | boolean | null;
export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, EnvValue> | string[];
  env_file?: string | string[] | { path: string }[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
}

export const composeText = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
// `merge: true`: the file shares berth's env between services with `<<: *berth-env`.
export const compose = parse(composeText, { merge: true }) as ComposeFile;
export const services = compose.services;

export function service(name: string): ComposeService {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

// ---- Compose variable interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, $$) ----

/** KEY=value lines of .env.example (comments and blanks skipped). */
export function readEnvExample(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1]) vars[m[1]] = (m[2] ?? '').trim();
  }
  return vars;
}

export const INTERPOLATION = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

export function interpolate(value: string, vars: Record<string, string | undefined>): string {
  return value.replace(INTERPOLATION, (match, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
    if (match === '$$') return '$';
    const name = braced ?? bare ?? '';
    const v = vars[name];
    switch (op) {
      case ':-':
        return v ? v : (arg ?? '');
      case '-':
        return v !== undefined ? v : (arg ?? '');
      case ':?':
      case '?':
        if (op === ':?' ? !v : v === undefined) throw new Error(`required variable ${name} is not set: ${arg ?? ''}`);
        return v ?? '';
      default:
        return v ?? '';
    }
  });
}

/** Every variable the compose file interpolates. */
export function referencedVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(INTERPOLATION)) {
    const name = m[1] ?? m[4];
    if (name) names.add(name);
  }
  return names;
}

export const composeVars: Record<string, string> = { ...readEnvExample(), ...PLACEHOLDERS };

/** A service's environment, interpolated; `null` values (pass-through when set) are dropped. */
export function serviceEnv(s: ComposeService, vars: Record<string, string | undefined> = composeVars): Record<string, string> {
  const env: Record<string, string> = {};
  const raw = s.environment ?? {};
  const entries: [string, EnvValue][] = Array.isArray(raw)
    ? raw.map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, null] : [e.slice(0, i), e.slice(i + 1)];
      })
    : Object.entries(raw);
  for (const [key, value] of entries) {
    if (value === null) continue;
    env[key] = interpolate(String(value), vars);
  }
  return env;
}

export function envKeys(s: ComposeService): string[] {
  const raw = s.environment ?? {};
  return Array.isArray(raw) ? raw.map((e) => e.split('=')[0] ?? e) : Object.keys(raw);
}

export function commandText(c: string | string[] | undefined): string {
  return Array.isArray(c) ? c.join('\n') : (c ?? '');
}

// ---- loadConfig probing ----

export const BASE_ENV = { BERTH_API_KEYS: PLACEHOLDERS.BERTH_API_KEYS, BERTH_SECRET_KEY: PLACEHOLDERS.BERTH_SECRET_KEY };

/**
 * Whether loadConfig reads `key`: setting it to a probe value either fails validation
 * naming the key, or changes the resulting config. An unknown (e.g. misspelled) variable
 * is silently ignored by the schema and changes nothing.
 */
export function configKnows(key: string): boolean {
  if (key in BASE_ENV) return true;
  const base = loadConfig(BASE_ENV);
  try {
    return !isDeepStrictEqual(loadConfig({ ...BASE_ENV, [key]: '__compose_probe__' }), base);
  } catch (err) {
    return (err as Error).message.includes(key);
  }
}

// ---- Dockerfile ----

export interface DockerInstruction {
  op: string;
  args: string;
}

export function dockerfileInstructions(file: string): DockerInstruction[] {
  const lines = readFileSync(path.join(ROOT, file), 'utf8')
    .split('\n')
    .filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\S+)\s*(.*)$/.exec(l);
      return { op: (m?.[1] ?? '').toUpperCase(), args: m?.[2] ?? '' };
    });
}

/** Sources of COPY/ADD instructions that copy from the build context (not `--from=`). */
export function contextCopySources(instructions: DockerInstruction[]): string[] {
  const sources: string[] = [];
  for (const { op, args } of instructions) {
    if (op !== 'COPY' && op !== 'ADD') continue;
    const words = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
    const flags = words.filter((w) => w.startsWith('--'));
    if (flags.some((f) => f.startsWith('--from'))) continue;
    const paths = words.filter((w) => !w.startsWith('--'));
    sources.push(...paths.slice(0, -1));
  }
  return sources;
}

/** Minimal .dockerignore matcher: `*`, exact paths and directories; last match wins. */
export function dockerignored(file: string): boolean {
  const ignorePath = path.join(ROOT, '.dockerignore');
  if (!existsSync(ignorePath)) return false;
  const target = path.posix.normalize(file).replace(/\/$/, '');
  let ignored = false;
  for (const raw of readFileSync(ignorePath, 'utf8').split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const pattern = path.posix.normalize(negate ? line.slice(1) : line).replace(/\/$/, '');
    const matches = pattern === '*' || pattern === '**' || target === pattern || target.startsWith(`${pattern}/`);
    if (matches) ignored = !negate;
  }
  return ignored;
}

// ---------------------------------------------------------------------------
