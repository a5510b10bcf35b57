// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.berth/**', 'docs/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code must be deterministic: no Node built-ins, no Docker client, no I/O.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflow code must not import Node built-ins.' })),
            { name: 'dockerode', message: 'Workflow code must not talk to Docker; use an activity.' },
            { name: 'pino', message: 'Use the workflow logger (log from @temporalio/workflow).' },
          ],
          patterns: [{ group: ['../activities/*', '../api/*', '**/activities/index*'], message: 'Workflows import activity types only via proxyActivities<typeof ...>.', allowTypeImports: true }],
        },
      ],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'Use sleep()/condition() from @temporalio/workflow.' }, { name: 'setInterval', message: 'Use durable timers.' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'Workflow time comes from Date.now() only inside the sandbox; prefer workflow time helpers.' }],
    },
  },
  {
    // Dependencies point one way: front doors (src/api/<door>) -> service + gate (src/service)
    // -> data plane (src/dataplane) / Temporal client. A front door never calls Temporal or
    // Docker itself; the service never knows a front door; the data plane knows neither.
    files: ['src/api/rest/**/*.ts', 'src/api/e2b/**/*.ts', 'src/api/opensandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'dockerode', message: 'A front door reaches Docker through src/dataplane or src/service only.' },
          { name: '@temporalio/client', message: 'A front door reaches Temporal through src/service only.' },
        ],
        patterns: [{ group: ['**/activities/*', '**/workflows/*', '**/temporal/*'], message: 'A front door maps shapes only: call src/service (lifecycle) and the gate + src/dataplane (data).', allowTypeImports: true }],
      }],
    },
  },
  {
    files: ['src/service/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/api/*', '**/api/**'], message: 'The service knows no front door; front doors depend on it, not the reverse.' }] }],
    },
  },
  {
    files: ['src/dataplane/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/api/**', '**/service/*', '**/activities/*', '**/workflows/*'], message: 'The data plane depends on Docker helpers and errors only.', allowTypeImports: true }] }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
