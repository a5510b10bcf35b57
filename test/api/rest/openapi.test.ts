import { describe, expect, it } from 'vitest';
import '../../../src/api/app.js'; // registers every route module's operations
import { openApiDocument } from '../../../src/api/rest/openapi.js';

type Json = Record<string, unknown>;
const doc = openApiDocument('http://localhost:3000') as { paths: Record<string, Record<string, Json>> };
const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ label: `${method.toUpperCase()} ${path}`, op })));

describe('the OpenAPI document', () => {
  it('documents the whole API surface', () => {
    expect(operations.length).toBeGreaterThanOrEqual(30);
    expect(doc.paths['/sandboxes/{sandboxID}/files/replace']).toBeDefined();
    expect(doc.paths['/sandboxes/{sandboxID}/metrics']).toBeDefined();
    expect(Object.keys(doc.paths['/sandboxes/{sandboxID}/pty'] ?? {})).toEqual(['post', 'get']);
    expect(doc.paths['/sandboxes/{sandboxID}/pty/{pid}/ws']?.get?.responses).toHaveProperty('101');
  });

  it('gives every response of every operation a schema (204 and a WebSocket\'s 101 have no body)', () => {
    const missing: string[] = [];
    for (const { label, op } of operations) {
      const responses = op.responses as Record<string, { content?: Record<string, { schema?: unknown }> }>;
      expect(Object.keys(responses).some((s) => s.startsWith('2') || s === '101'), `${label} has a success response`).toBe(true);
      for (const [status, response] of Object.entries(responses)) {
        if (status === '204' || status === '101') {
          expect(response.content, `${label} ${status}`).toBeUndefined();
          continue;
        }
        const content = Object.values(response.content ?? {});
        if (content.length === 0 || content.some((c) => c.schema === undefined)) missing.push(`${label} ${status}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents auth and dependency errors everywhere, and errors as {code, message}', () => {
    for (const { label, op } of operations) {
      const responses = op.responses as Record<string, { content?: Record<string, { schema: Json }> }>;
      expect(Object.keys(responses), label).toEqual(expect.arrayContaining(['401', '503']));
      if (op.parameters || op.requestBody) expect(Object.keys(responses), label).toContain('400');
      for (const [status, response] of Object.entries(responses)) {
        if (!(Number(status) >= 400)) continue; // 'default' is the proxy's pass-through
        expect(response.content?.['application/json']?.schema, `${label} ${status}`).toMatchObject({
          type: 'object',
          required: ['code', 'message'],
          additionalProperties: false,
        });
      }
    }
  });

  it('states the request constraints zod enforces', () => {
    const get = doc.paths['/sandboxes/{sandboxID}']?.get as { parameters: Json[] };
    expect(get.parameters[0]).toMatchObject({ name: 'sandboxID', in: 'path', schema: { type: 'string', pattern: '^[a-z0-9]{20}$' } });
    const list = doc.paths['/sandboxes']?.get as { parameters: Array<{ name: string; schema: Json }> };
    expect(list.parameters.find((p) => p.name === 'limit')?.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000 });
    expect(list.parameters.find((p) => p.name === 'status')?.schema).toMatchObject({ type: 'array', items: { enum: ['creating', 'running', 'paused', 'stopped', 'failed'] } });
    const create = doc.paths['/sandboxes']?.post as { requestBody: { content: Record<string, { schema: Json }> } };
    expect(create.requestBody.content['application/json']?.schema).toMatchObject({ type: 'object', additionalProperties: false });
    const write = doc.paths['/sandboxes/{sandboxID}/files']?.put as { requestBody: { content: Record<string, unknown> } };
    expect(Object.keys(write.requestBody.content)).toEqual(['application/octet-stream']);
    const mkdir = doc.paths['/sandboxes/{sandboxID}/files/mkdir']?.post as { requestBody: { content: Record<string, { schema: { properties: Record<string, Json> } }> } };
    expect(mkdir.requestBody.content['application/json']?.schema.properties.path).toMatchObject({ type: 'string', pattern: expect.stringMatching(/^\^\[\/\]/) });
    const logs = doc.paths['/sandboxes/{sandboxID}/commands/{cmdID}/logs']?.get as { parameters: Array<{ name: string; schema: Json }> };
    expect(logs.parameters.find((p) => p.name === 'cmdID')?.schema).toMatchObject({ pattern: '^c[a-z0-9]{16}$' });
    expect(logs.parameters.find((p) => p.name === 'follow')?.schema).toMatchObject({ enum: ['true', 'false'] });
  });

  it('documents what the service returns for a sandbox', () => {
    const get = doc.paths['/sandboxes/{sandboxID}']?.get as { responses: Record<string, { content: Record<string, { schema: { required: string[] } }> }> };
    expect(get.responses['200']?.content['application/json']?.schema.required).toEqual(
      expect.arrayContaining(['sandboxID', 'status', 'endAt', 'timeout', 'metadata', 'lifecycle', 'resources', 'historyURL']),
    );
  });
});
