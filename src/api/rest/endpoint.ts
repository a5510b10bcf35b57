/**
 * One declaration per endpoint: {@link endpoint} takes the method, the path (OpenAPI form), the
 * request schemas, the answers and the docs, registers the operation for the OpenAPI document,
 * and {@link mount} attaches the handler to the router under the same path, parsing the body
 * and query with the declared schemas (a 400 naming the bad field) before the handler runs.
 */
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { registerOperations, type Op } from './openapi.js';
import { parseOr400 } from './validate.js';

export type Method = 'get' | 'post' | 'put' | 'delete' | 'patch';

export interface EndpointDef extends Op {
  method: Method;
  /** OpenAPI form: `/sandboxes/{sandboxID}/files`. Express's own syntax is derived from it. */
  path: string;
  /** What the body is called in a 400's message ("invalid <bodyName>: …"); default "request body". */
  bodyName?: string;
  /** Express path syntax when it cannot be derived (e.g. a wildcard tail). */
  expressPath?: string;
  /** Serve every method (a proxy); `method` is the one documented. */
  anyMethod?: boolean;
}

type Parsed<S> = S extends z.ZodType ? z.infer<S> : undefined;

/** What {@link mount} hands a handler: the parsed body and query. */
export interface Input<D extends EndpointDef> {
  body: Parsed<D['body']>;
  query: Parsed<D['query']>;
}

export type Handler<D extends EndpointDef> = (req: Request, res: Response, input: Input<D>) => Promise<void> | void;

/** Declares an endpoint once (its OpenAPI operation is registered now). */
export function endpoint<const D extends EndpointDef>(def: D): D {
  const { method, path, bodyName: _bodyName, expressPath: _expressPath, anyMethod: _anyMethod, ...op } = def;
  registerOperations(path, { [method]: op });
  return def;
}

/** `/sandboxes/{sandboxID}/files` → `/sandboxes/:sandboxID/files`. */
export function toExpressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

/** Attaches `handler` to `router` for the declared endpoint. */
export function mount<D extends EndpointDef>(router: Router, def: D, handler: Handler<D>): void {
  router[def.anyMethod ? 'all' : def.method](def.expressPath ?? toExpressPath(def.path), async (req: Request, res: Response) => {
    const body = (def.body ? parseOr400(def.body, req.body, def.bodyName ?? 'request body') : undefined) as Parsed<D['body']>;
    const query = (def.query ? parseOr400(def.query, req.query, 'query') : undefined) as Parsed<D['query']>;
    await handler(req, res, { body, query });
  });
}

/** A path parameter of the request (Express 5 types them loosely). */
export function param(req: Request, name: string): string {
  return String(req.params[name]);
}
