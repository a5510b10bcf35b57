/**
 * The TypeScript SDK's wire types are generated from the server's zod schemas
 * (scripts/sdk-types/generate.ts): the committed file must be what the generator writes today,
 * the emitter must keep every shape, and (checked by tsc) each generated type must be exactly
 * the zod schema's type.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as res from '../../src/api/rest/response-schemas.js';
import { runCommandSchema } from '../../src/api/rest/commands.js';
import { createSandboxSchema } from '../../src/service/schemas.js';
import { GENERATED_PATH, generateSdkTypes } from '../../scripts/sdk-types/generate.js';
import { declaration, typeOf } from '../../scripts/sdk-types/json-schema-to-ts.js';
import type * as sdk from '../../sdk/typescript/src/types.js';

describe('SDK wire types generated from the zod schemas', () => {
  it('the committed sdk/typescript/src/generated/wire-types.ts is what `npm run gen:sdk` writes', () => {
    const committed = readFileSync(GENERATED_PATH, 'utf8');
    // On a mismatch, regenerate: npm run gen:sdk
    expect(committed, 'sdk/typescript/src/generated/wire-types.ts is stale: run npm run gen:sdk').toBe(generateSdkTypes());
  });

  it('a changed schema changes the generated text (the check above can fail)', () => {
    const before = typeOf(z.toJSONSchema(res.sandboxViewSchema, { io: 'output' }) as Record<string, unknown>);
    const changed = typeOf(z.toJSONSchema(res.sandboxViewSchema.extend({ region: z.string() }), { io: 'output' }) as Record<string, unknown>);
    expect(before).not.toContain('region');
    expect(changed).toContain('  region: string;');
  });

  it('emits nullable, optional, enum, union, record and nested shapes', () => {
    const schema = z
      .object({
        a: z.string().nullable(),
        b: z.number().int().optional(),
        c: z.enum(['x', "it's"]),
        d: z.array(z.union([z.string(), z.number()])),
        e: z.record(z.string(), z.boolean()),
        f: z.object({ g: z.literal('k').describe('a doc') }).strict(),
        'h-i': z.boolean().default(false),
      })
      .strict();
    expect(declaration('T', z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>, 'Doc.')).toBe(
      [
        '/** Doc. */',
        'export interface T {',
        '  a: string | null;',
        '  b?: number;',
        "  c: 'x' | 'it\\'s';",
        '  d: Array<string | number>;',
        '  e: Record<string, boolean>;',
        '  f: {',
        '    /** a doc */',
        "    g: 'k';",
        '  };',
        "  'h-i'?: boolean;",
        '}',
        '',
      ].join('\n'),
    );
  });

  it('refuses a JSON Schema keyword it cannot express instead of dropping it', () => {
    expect(() => typeOf({ type: 'object', patternProperties: { '^x': { type: 'string' } } })).toThrow(/patternProperties/);
    expect(() => typeOf({ type: 'array', prefixItems: [{ type: 'string' }] })).toThrow(/prefixItems/);
  });
});

// ---- compile-time: each generated type is exactly the zod schema's (tsc fails otherwise) ----
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
function same<A, B>(ok: Same<A, B>): Same<A, B> {
  return ok;
}
same<sdk.SandboxInfo, z.output<typeof res.sandboxViewSchema>>(true);
same<sdk.SandboxPage, z.output<typeof res.sandboxListSchema>>(true);
same<sdk.SandboxEvents, z.output<typeof res.eventsSchema>>(true);
same<sdk.BulkResult, z.output<typeof res.bulkResultSchema>>(true);
same<sdk.CommandStatus, z.output<typeof res.commandStatusSchema>>(true);
same<sdk.CommandResultBody, z.output<typeof res.commandResultSchema>>(true);
same<sdk.CommandLogsBody, z.output<typeof res.commandLogsSchema>>(true);
same<sdk.SignalResult, z.output<typeof res.signalResultSchema>>(true);
same<sdk.EntryList, z.output<typeof res.entriesSchema>>(true);
same<sdk.StatEntries, z.output<typeof res.statEntriesSchema>>(true);
same<sdk.SandboxMetrics, z.output<typeof res.metricsSchema>>(true);
same<sdk.SandboxEndpoint, z.output<typeof res.endpointSchema>>(true);
same<sdk.ErrorBody, z.output<typeof res.errorSchema>>(true);
same<sdk.VolumeList, z.output<typeof res.volumeListSchema>>(true);
same<sdk.CreateSandboxBody, z.input<typeof createSandboxSchema>>(true);
same<sdk.RunCommandBody, z.input<typeof runCommandSchema>>(true);
