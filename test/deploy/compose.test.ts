/**
 * docker-compose.yml, the Dockerfile and .env.example cannot be pulled and run here (no
 * registry), so this checks what can be checked without Docker Compose: the file parses,
 * names the production topology, references only files that exist, passes berth only
 * variables loadConfig knows (with values it accepts), mounts the Docker socket only
 * where berth needs it, and registers exactly berth's search attributes.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/definitions.js';
import { ROOT, DOCKER_SOCKET, BERTH_SERVICES, EXPECTED_SERVICES, PLACEHOLDERS, ComposeService, composeText, services, service, readEnvExample, interpolate, referencedVariables, composeVars, serviceEnv, envKeys, commandText, configKnows, dockerfileInstructions, contextCopySources, dockerignored } from './deploy-files.js';

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
