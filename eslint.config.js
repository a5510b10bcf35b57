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
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
