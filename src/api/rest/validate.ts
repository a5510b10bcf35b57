import type { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';
import { describeZodError } from './error-middleware.js';

/** Parses `value` with `schema`; a failure becomes a 400 naming each bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw new InvalidArgumentError(`invalid ${what}: ${describeZodError(result.error)}`);
  return result.data;
}
