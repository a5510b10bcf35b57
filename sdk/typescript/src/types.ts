/**
 * Wire types of berth's REST API. They are generated from the server's zod schemas into
 * ./generated/wire-types.ts (`npm run gen:sdk`; a test fails when that file is stale), so they
 * match what the server answers and accepts field by field. Import them from here.
 */
export type * from './generated/wire-types.js';

/** How a sandbox's timeout counts (see docs/lifecycle.md). */
export type TimeoutMode = 'idle' | 'absolute';

/** How a pause keeps the sandbox: `freeze` (processes and memory kept) or `disk` (files kept, nothing held; see docs/pause.md). */
export type PauseMode = 'freeze' | 'disk';
