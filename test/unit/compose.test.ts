/**
 * docker-compose.yml, the Dockerfile and .env.example cannot be pulled and run here (no
 * registry), so this checks what can be checked without Docker Compose: the file parses,
 * names the production topology, references only files that exist, passes berth only
 * variables loadConfig knows (with values it accepts), mounts the Docker socket only
 * where berth needs it, and registers exactly berth's search attributes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/definitions.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCKER_SOCKET = '/var/run/docker.sock';
/** Services built from this repo's Dockerfile: they get berth's configuration. */
const BERTH_SERVICES = ['api', 'worker'];
const EXPECTED_SERVICES = ['postgresql', 'temporal', 'temporal-admin-tools', 'temporal-ui', ...BERTH_SERVICES];

/** Values for the secrets .env.example leaves empty (a user must choose them). */
const PLACEHOLDERS: Record<string, string> = {
  BERTH_API_KEYS: 'sk-compose-test-0001:ops,sk-compose-test-0002:ci',
  BERTH_SECRET_KEY: 'ab'.repeat(32),
  POSTGRES_PASSWORD: 'compose-test-password',
};

type EnvValue = string | number | boolean | null;
interface ComposeService {
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
interface ComposeFile {
  services: Record<string, ComposeService>;
}

const composeText = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
// `merge: true`: the file shares berth's env between services with `<<: *berth-env`.
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = compose.services;

function service(name: string): ComposeService {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

// ---- Compose variable interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, $$) ----

/** KEY=value lines of .env.example (comments and blanks skipped). */
function readEnvExample(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1]) vars[m[1]] = (m[2] ?? '').trim();
  }
  return vars;
}

const INTERPOLATION = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

function interpolate(value: string, vars: Record<string, string | undefined>): string {
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
function referencedVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(INTERPOLATION)) {
    const name = m[1] ?? m[4];
    if (name) names.add(name);
  }
  return names;
}

const composeVars: Record<string, string> = { ...readEnvExample(), ...PLACEHOLDERS };

/** A service's environment, interpolated; `null` values (pass-through when set) are dropped. */
function serviceEnv(s: ComposeService, vars: Record<string, string | undefined> = composeVars): Record<string, string> {
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

function envKeys(s: ComposeService): string[] {
  const raw = s.environment ?? {};
  return Array.isArray(raw) ? raw.map((e) => e.split('=')[0] ?? e) : Object.keys(raw);
}

function commandText(c: string | string[] | undefined): string {
  return Array.isArray(c) ? c.join('\n') : (c ?? '');
}

// ---- loadConfig probing ----

const BASE_ENV = { BERTH_API_KEYS: PLACEHOLDERS.BERTH_API_KEYS, BERTH_SECRET_KEY: PLACEHOLDERS.BERTH_SECRET_KEY };

/**
 * Whether loadConfig reads `key`: setting it to a probe value either fails validation
 * naming the key, or changes the resulting config. An unknown (e.g. misspelled) variable
 * is silently ignored by the schema and changes nothing.
 */
function configKnows(key: string): boolean {
  if (key in BASE_ENV) return true;
  const base = loadConfig(BASE_ENV);
  try {
    return !isDeepStrictEqual(loadConfig({ ...BASE_ENV, [key]: '__compose_probe__' }), base);
  } catch (err) {
    return (err as Error).message.includes(key);
  }
}

// ---- Dockerfile ----

interface DockerInstruction {
  op: string;
  args: string;
}

function dockerfileInstructions(file: string): DockerInstruction[] {
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
function contextCopySources(instructions: DockerInstruction[]): string[] {
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
function dockerignored(file: string): boolean {
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

describe('docker-compose.yml', () => {
  it('names the production topology', () => {
    expect(Object.keys(services).sort()).toEqual([...EXPECTED_SERVICES].sort());
  });

  it('pins every image (Temporal 1.29.x on PostgreSQL 16) and builds berth from this repo', () => {
    expect(service('postgresql').image).toBe('postgres:16');
    expect(service('temporal').image).toMatch(/^temporalio\/auto-setup:1\.29\.\d+$/);
    expect(service('temporal-admin-tools').image).toMatch(/^temporalio\/admin-tools:1\.29\.\d+/);
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(serviceEnv(service('temporal')).DB).toBe('postgres12');
    expect(serviceEnv(service('temporal')).POSTGRES_SEEDS).toBe('postgresql');
    for (const [name, s] of Object.entries(services)) {
      expect(s.image ?? s.build, `${name} has neither image nor build`).toBeDefined();
      if (s.image) expect(interpolate(s.image, composeVars), `${name} uses an unpinned image`).not.toMatch(/:latest$|^[^:]+$/);
    }
    for (const name of BERTH_SERVICES) expect(service(name).build, `${name} is built from the repo`).toBeDefined();
  });

  it('references only files and directories that exist in the repo', () => {
    const referenced: string[] = [];
    for (const s of Object.values(services)) {
      if (typeof s.build === 'string') referenced.push(path.join(s.build, 'Dockerfile'), s.build);
      else if (s.build) {
        const context = s.build.context ?? '.';
        referenced.push(context, path.join(context, s.build.dockerfile ?? 'Dockerfile'));
      }
      const envFiles = s.env_file === undefined ? [] : Array.isArray(s.env_file) ? s.env_file : [s.env_file];
      for (const f of envFiles) referenced.push(typeof f === 'string' ? f : f.path);
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0] : v.source;
        // Relative bind mounts are repo files; absolute ones are host paths (the Docker socket).
        if (source && source.startsWith('.')) referenced.push(source);
      }
      // Entry points of berth's processes (node --import tsx <file>).
      for (const word of commandText(s.command).split(/\s+/)) if (/^(src|scripts)\/\S+\.ts$/.test(word)) referenced.push(word);
    }
    expect(referenced.length).toBeGreaterThan(0);
    for (const ref of referenced) expect(existsSync(path.join(ROOT, ref)), `${ref} does not exist`).toBe(true);
    expect(commandText(service('worker').command)).toContain('src/worker.ts');
    expect(commandText(service('api').command)).toContain('src/api/main.ts');
  });

  it('mounts the Docker socket in the worker (activities) and the API (data plane) only', () => {
    const mountsSocket = (s: ComposeService) =>
      (s.volumes ?? []).some((v) => (typeof v === 'string' ? v.split(':')[0] : v.source) === DOCKER_SOCKET);
    expect(mountsSocket(service('worker'))).toBe(true);
    // The API runs exec and archive calls (commands, files) and /readyz pings Docker.
    expect(mountsSocket(service('api'))).toBe(true);
    const withSocket = Object.entries(services)
      .filter(([, s]) => mountsSocket(s))
      .map(([name]) => name)
      .sort();
    expect(withSocket).toEqual(['api', 'worker']);
    for (const name of BERTH_SERVICES) expect(serviceEnv(service(name)).DOCKER_SOCKET).toBe(DOCKER_SOCKET);
  });

  it('orders start-up with depends_on conditions that can be met', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps: Record<string, { condition?: string }> = Array.isArray(s.depends_on)
        ? Object.fromEntries(s.depends_on.map((d) => [d, {}]))
        : (s.depends_on ?? {});
      for (const [dep, { condition }] of Object.entries(deps)) {
        expect(services[dep], `${name} depends on unknown service ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(services[dep]?.healthcheck?.test, `${dep} needs a healthcheck for ${name}`).toBeDefined();
      }
    }
    for (const name of BERTH_SERVICES) {
      expect(service(name).depends_on).toMatchObject({
        temporal: { condition: 'service_healthy' },
        'temporal-admin-tools': { condition: 'service_completed_successfully' },
      });
      expect(service(name).healthcheck?.test).toBeDefined();
    }
    expect(service('temporal').depends_on).toMatchObject({ postgresql: { condition: 'service_healthy' } });
  });

  it('passes berth only variables loadConfig knows, with values it accepts', () => {
    for (const name of BERTH_SERVICES) {
      const keys = envKeys(service(name)).filter((k) => /^(BERTH_|TEMPORAL_|DOCKER_)/.test(k));
      expect(keys.length).toBeGreaterThan(5);
      for (const key of keys) expect(configKnows(key), `${name}: ${key} is not a variable loadConfig reads`).toBe(true);
      const env = serviceEnv(service(name));
      expect(() => loadConfig(env), `${name}'s environment with .env.example`).not.toThrow();
      // A .env holding only the secrets: the compose file's own defaults must validate too.
      expect(() => loadConfig(serviceEnv(service(name), PLACEHOLDERS)), `${name}'s environment with compose defaults`).not.toThrow();
      const config = loadConfig(env);
      expect(config.temporal.address.split(':')[0], 'TEMPORAL_ADDRESS names the temporal service').toBe('temporal');
      expect(config.temporal.namespace).toBe(serviceEnv(service('temporal')).DEFAULT_NAMESPACE);
    }
    expect(loadConfig(serviceEnv(service('api'))).api.host).toBe('0.0.0.0');
    const worker = loadConfig(serviceEnv(service('worker')));
    expect(serviceEnv(service('worker')).BERTH_HOST_NAME).toBeTruthy();
    expect(worker.hostName).toBe(composeVars.BERTH_HOST_NAME);
    // The API scrapes the worker's SDK metrics over the compose network.
    expect(worker.workerMetrics.bindAddress).toMatch(/^0\.0\.0\.0:\d+$/);
    const scrape = new URL(loadConfig(serviceEnv(service('api'))).workerMetrics.scrapeUrl);
    expect(scrape.hostname).toBe('worker');
    expect(scrape.port).toBe(worker.workerMetrics.bindAddress.split(':')[1]);
  });

  it('refuses to start without the secrets, and documents every variable in .env.example', () => {
    const example = readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    for (const name of referencedVariables(composeText)) {
      expect(new RegExp(`^#?\\s*${name}=`, 'm').test(example), `${name} is not in .env.example`).toBe(true);
    }
    for (const secret of ['BERTH_API_KEYS', 'BERTH_SECRET_KEY', 'POSTGRES_PASSWORD']) {
      expect(readEnvExample()[secret], `.env.example must not ship a value for ${secret}`).toBe('');
      const withoutSecret = { ...composeVars, [secret]: '' };
      const dependents = Object.values(services).filter((s) => JSON.stringify(s.environment ?? {}).includes(secret));
      expect(dependents.length).toBeGreaterThan(0);
      for (const s of dependents) expect(() => serviceEnv(s, withoutSecret)).toThrow(secret);
    }
  });

  it("registers exactly berth's search attributes", () => {
    const script = interpolate(commandText(service('temporal-admin-tools').command), composeVars).replace(/\\\n/g, ' ');
    const registered: string[] = [];
    for (const line of script.split('\n')) {
      if (!/temporal\s+operator\s+search-attribute\s+create\b/.test(line)) continue;
      const words = line.trim().split(/\s+/);
      let type: string | undefined;
      const names: string[] = [];
      words.forEach((w, i) => {
        const [flag, inline] = w.split('=', 2);
        const value = inline ?? words[i + 1];
        if (flag === '--type') type = value;
        if (flag === '--name' && value) names.push(value);
      });
      expect(type, `no --type in: ${line}`).toBeDefined();
      for (const n of names) registered.push(`${n}=${type}`);
    }
    const typeNames: Record<string, string> = { KEYWORD: 'Keyword', KEYWORD_LIST: 'KeywordList', TEXT: 'Text', INT: 'Int', DOUBLE: 'Double', BOOL: 'Bool', DATETIME: 'Datetime' };
    const expected = ALL_SEARCH_ATTRIBUTES.map((key) => `${key.name}=${typeNames[key.type] ?? key.type}`);
    expect(registered.sort()).toEqual(expected.sort());
    expect(expected).toContain('BerthMetadata=KeywordList');
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfileInstructions('Dockerfile');

  it('starts from node:20-slim and copies only files that exist and are in the build context', () => {
    const froms = instructions.filter((i) => i.op === 'FROM').map((i) => i.args);
    expect(froms.length).toBeGreaterThan(0);
    const args = Object.fromEntries(
      instructions.filter((i) => i.op === 'ARG').map((i) => {
        const [k, v] = i.args.split('=', 2);
        return [k ?? '', v ?? ''];
      }),
    );
    for (const from of froms) expect(interpolate(from.split(/\s+/)[0] ?? '', args)).toBe('node:20-slim');
    const sources = contextCopySources(instructions);
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src']));
    for (const src of sources) {
      expect(existsSync(path.join(ROOT, src)), `COPY source ${src} does not exist`).toBe(true);
      expect(dockerignored(src), `COPY source ${src} is excluded by .dockerignore`).toBe(false);
    }
  });

  it('keeps tsx (the runtime) in production dependencies and runs an existing entry point', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.tsx, 'the image installs --omit=dev and runs node --import tsx').toBeDefined();
    const cmd = instructions.filter((i) => i.op === 'CMD').at(-1);
    expect(cmd).toBeDefined();
    const argv = JSON.parse(cmd?.args ?? '[]') as string[];
    expect(argv.slice(0, 3)).toEqual(['node', '--import', 'tsx']);
    expect(existsSync(path.join(ROOT, argv[3] ?? 'missing'))).toBe(true);
    expect(dockerignored('node_modules')).toBe(true);
    expect(dockerignored('.berth')).toBe(true);
  });
});

describe('Temporal server settings', () => {
  it('compose gives the server the same dynamic config as the dev server', async () => {
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const { TEMPORAL_DYNAMIC_CONFIG } = await import('../../src/dev/temporal-dev-server.js');
    const file = parse(readFileSync('deploy/temporal-dynamic-config.yaml', 'utf8')) as Record<string, Array<{ value: unknown }>>;
    expect(Object.fromEntries(Object.entries(file).map(([k, v]) => [k, String(v[0]?.value)]))).toEqual(TEMPORAL_DYNAMIC_CONFIG);
    const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as { services: Record<string, { volumes?: string[] }> };
    expect(compose.services.temporal?.volumes?.some((v) => v.startsWith('./deploy/temporal-dynamic-config.yaml:'))).toBe(true);
  });
});
