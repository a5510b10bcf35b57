/**
 * The OpenAPI 3.1 document, generated from the zod schemas the routes validate with (requests)
 * and from src/api/rest/response-schemas.ts (answers). Route modules register their operations
 * with {@link registerOperations}; this module only assembles the document.
 */
import { z } from 'zod';
import { SANDBOX_ID_PATTERN } from '../../ids.js';
import { errorSchema } from './response-schemas.js';

/** Error statuses an operation may declare (401 and 503 apply to every operation). */
export type ErrorStatus = 400 | 403 | 404 | 409 | 413 | 416 | 429 | 502 | 507;

/** One documented answer: a JSON body (zod), other media types (JSON Schema), or none. */
export interface ResponseDoc {
  description: string;
  json?: z.ZodType;
  /** Non-JSON media types, e.g. `application/octet-stream`, with their JSON Schema. */
  other?: Record<string, Record<string, unknown>>;
  /** A `text/event-stream` answer: each event's name and the zod schema of its JSON `data`. */
  sse?: Record<string, z.ZodType>;
}

export interface Op {
  summary: string;
  /** Path parameters whose values are constrained beyond "a string" (sandboxID is built in). */
  params?: Record<string, z.ZodType>;
  /** The zod schema the route parses `req.query` with. */
  query?: z.ZodObject;
  /** Documentation of query parameters whose zod schema cannot be rendered exactly (transforms). */
  queryDocs?: Record<string, { schema: z.ZodType; explode?: boolean }>;
  /** The zod schema of a JSON body. */
  body?: z.ZodType;
  /** A raw (non-JSON) body. */
  rawBody?: { contentType: string; description: string };
  /** Success answers by status. */
  responses: Record<string, ResponseDoc>;
  /** Error statuses besides the ones every operation has (401, 503) and the ones implied by parameters and bodies (400, 413). */
  errors: Array<ErrorStatus | [ErrorStatus, string]>;
  /** A proxy: besides its own answers, any status and media type from upstream passes through. */
  passThrough?: boolean;
}

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request (code invalid_argument, invalid_json or unsupported_media_type); the message names the bad field',
  401: 'Missing or invalid API key',
  403: 'Admin key required (code forbidden)',
  404: 'Sandbox not found, stopped, or not yours',
  409: 'Not possible in the sandbox\'s current state (e.g. paused)',
  413: 'Request body too large',
  416: 'Range not satisfiable',
  429: 'Owner quota reached (sandbox count, CPU or memory total) or too many concurrent streams',
  502: 'Upstream failed',
  507: "The sandbox's disk is full (code insufficient_storage); nothing was written",
  503: 'Temporal or Docker unreachable or slow; retry',
};

const sandboxIDParam = z.string().regex(SANDBOX_ID_PATTERN).describe('Sandbox ID (20 lowercase letters and digits).');

const operations: Record<string, Record<string, Op>> = {};

/** Registers operations for the document (route modules call it at import). */
export function registerOperations(path: string, ops: Record<string, Op>): void {
  operations[path] = { ...operations[path], ...ops };
}

/** The registered operations (for tests). */
export function registeredOperations(): Readonly<Record<string, Readonly<Record<string, Op>>>> {
  return operations;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

function parameters(path: string, op: Op): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const match of path.match(/\{(\w+)\}/g) ?? []) {
    const name = match.slice(1, -1);
    const schema = op.params?.[name] ?? (name === 'sandboxID' ? sandboxIDParam : z.string().min(1));
    out.push({ name, in: 'path', required: true, ...describe(schema), schema: jsonSchema(schema, 'input') });
  }
  for (const [name, field] of Object.entries(op.query?.shape ?? {})) {
    const docs = op.queryDocs?.[name];
    const schema = docs?.schema ?? (field as z.ZodType);
    out.push({
      name,
      in: 'query',
      required: !(field as z.ZodType).safeParse(undefined).success,
      ...describe(field as z.ZodType),
      ...(docs?.explode ? { style: 'form', explode: true } : {}),
      schema: jsonSchema(schema, 'input'),
    });
  }
  return out;
}

function describe(schema: z.ZodType): { description?: string } {
  return schema.description ? { description: schema.description } : {};
}

function responses(op: Op, hasParams: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, doc] of Object.entries(op.responses)) {
    const content: Record<string, unknown> = {};
    if (doc.json) content['application/json'] = { schema: jsonSchema(doc.json, 'output') };
    for (const [type, schema] of Object.entries(doc.other ?? {})) content[type] = { schema };
    if (doc.sse) content['text/event-stream'] = { schema: sseEventSchema(doc.sse) };
    out[status] = { description: doc.description, ...(Object.keys(content).length ? { content } : {}) };
  }
  const errors = new Map<number, string>();
  for (const entry of op.errors) {
    const [status, text] = Array.isArray(entry) ? entry : [entry, undefined];
    errors.set(status, text ?? ERROR_TEXT[status] ?? 'Error');
  }
  if (hasParams && !errors.has(400)) errors.set(400, ERROR_TEXT[400] ?? '');
  if ((op.body || op.rawBody) && !errors.has(413)) errors.set(413, ERROR_TEXT[413] ?? '');
  errors.set(401, ERROR_TEXT[401] ?? '');
  errors.set(503, ERROR_TEXT[503] ?? '');
  const upstream = { '*/*': { schema: {} } };
  const errorContent = { 'application/json': { schema: jsonSchema(errorSchema, 'output') }, ...(op.passThrough ? upstream : {}) };
  for (const [status, text] of [...errors].sort(([a], [b]) => a - b)) out[String(status)] = { description: text, content: errorContent };
  if (op.passThrough) out.default = { description: 'Whatever the server in the sandbox answers', content: upstream };
  return out;
}

/** One server-sent event (as OpenAPI tools parse them: `{event, data, id?}`), `data` being JSON of the event's schema. */
function sseEventSchema(events: Record<string, z.ZodType>): Record<string, unknown> {
  return {
    oneOf: Object.entries(events).map(([name, data]) => ({
      type: 'object',
      required: ['event', 'data'],
      properties: {
        event: { const: name },
        data: { type: 'string', contentMediaType: 'application/json', contentSchema: jsonSchema(data, 'output') },
        id: { type: 'string' },
      },
    })),
  };
}

/** Builds the OpenAPI 3.1 document. */
export function openApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const path of Object.keys(operations).sort()) {
    paths[path] = {};
    for (const [method, op] of Object.entries(operations[path] ?? {})) {
      const params = parameters(path, op);
      const body = op.body
        ? { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } }
        : op.rawBody
          ? { required: true, description: op.rawBody.description, content: { [op.rawBody.contentType]: { schema: { type: 'string', format: 'binary' } } } }
          : undefined;
      paths[path][method] = {
        operationId: operationId(method, path),
        summary: op.summary,
        ...(params.length ? { parameters: params } : {}),
        ...(body ? { requestBody: body } : {}),
        responses: responses(op, params.length > 0 || body !== undefined),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'berth API', version: '0.1.0', description: 'Docker sandboxes whose lifecycle is a Temporal workflow.' },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths,
  };
}

/** `get /sandboxes/{sandboxID}/files/stat` → `getSandboxesFilesStat`. */
function operationId(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((part) => part && !part.startsWith('{'))
    .map((part) => part.replace(/[^A-Za-z0-9]/g, ''))
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1));
  const params = (path.match(/\{(\w+)\}/g) ?? []).length;
  return `${method}${words.join('')}${params ? `By${params}` : ''}`;
}
