#!/usr/bin/env node
// The `berth` CLI. Runs the TypeScript source through tsx (a dependency of the berth repo),
// so `npx berth …` works in a clone right after `npm install`, without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
