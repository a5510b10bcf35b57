/**
 * A small emitter from JSON Schema (the subset zod 4's `z.toJSONSchema` writes) to TypeScript
 * declarations. Keywords that only constrain values (minLength, pattern, maximum, default, …)
 * have no TypeScript form and are dropped; a keyword that changes the shape and is not handled
 * here throws, so the generated types never silently lose a part of the schema.
 */

export type JsonSchema = Record<string, unknown>;

/** Keywords that constrain values without changing their TypeScript type. */
const VALUE_ONLY = new Set([
  '$schema',
  '$id',
  'description',
  'default',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'propertyNames',
  'contentEncoding',
  'contentMediaType',
  'examples',
  'title',
]);

/** The name a `$ref` points to: the part after the last `/`. */
export function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** `/** text *\/` lines for a description, or nothing. */
export function docComment(text: unknown, indent: string): string {
  if (typeof text !== 'string' || !text.trim()) return '';
  const safe = text.trim().replace(/\*\//g, '*\\/');
  return `${indent}/** ${safe} */\n`;
}

function checkKeywords(schema: JsonSchema, handled: string[], where: string): void {
  for (const key of Object.keys(schema)) {
    if (!VALUE_ONLY.has(key) && !handled.includes(key)) throw new Error(`${where}: JSON Schema keyword "${key}" has no TypeScript form here`);
  }
}

function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : literal(name);
}

/** A literal type in the repo's style (single quotes). */
export function literal(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

function union(parts: string[]): string {
  const unique = [...new Set(parts)];
  return unique.length ? unique.join(' | ') : 'never';
}

/** The TypeScript type of `schema`; objects with properties are written over several lines at `indent`. */
export function typeOf(schema: JsonSchema | boolean, indent = '', where = 'schema'): string {
  if (schema === true) return 'unknown';
  if (schema === false) return 'never';
  if (typeof schema.$ref === 'string') {
    checkKeywords(schema, ['$ref'], where);
    return refName(schema.$ref);
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const members = schema[key];
    if (Array.isArray(members)) {
      checkKeywords(schema, [key], where);
      return union(members.map((m: JsonSchema, i) => typeOf(m, indent, `${where}.${key}[${i}]`)));
    }
  }
  if (Array.isArray(schema.allOf)) {
    checkKeywords(schema, ['allOf'], where);
    return schema.allOf.map((m: JsonSchema, i) => wrap(typeOf(m, indent, `${where}.allOf[${i}]`))).join(' & ');
  }
  if ('const' in schema) {
    checkKeywords(schema, ['const', 'type'], where);
    return literal(schema.const);
  }
  if (Array.isArray(schema.enum)) {
    checkKeywords(schema, ['enum', 'type'], where);
    return union(schema.enum.map((v) => literal(v)));
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  if (types.length === 0) {
    checkKeywords(schema, [], where);
    return 'unknown';
  }
  return union(types.map((t) => typeOfType(t, schema, indent, where)));
}

function wrap(type: string): string {
  return type.includes(' | ') || type.includes(' & ') ? `(${type})` : type;
}

function typeOfType(type: string, schema: JsonSchema, indent: string, where: string): string {
  switch (type) {
    case 'string':
      checkKeywords(schema, ['type'], where);
      return 'string';
    case 'number':
    case 'integer':
      checkKeywords(schema, ['type'], where);
      return 'number';
    case 'boolean':
      checkKeywords(schema, ['type'], where);
      return 'boolean';
    case 'null':
      checkKeywords(schema, ['type'], where);
      return 'null';
    case 'array': {
      checkKeywords(schema, ['type', 'items'], where);
      const items = schema.items as JsonSchema | boolean | undefined;
      const item = items === undefined ? 'unknown' : typeOf(items, indent, `${where}.items`);
      return item.includes(' | ') || item.includes(' & ') || item.startsWith('{') ? `Array<${item}>` : `${item}[]`;
    }
    case 'object':
      return objectType(schema, indent, where);
    default:
      throw new Error(`${where}: JSON Schema type "${type}" has no TypeScript form here`);
  }
}

function objectType(schema: JsonSchema, indent: string, where: string): string {
  checkKeywords(schema, ['type', 'properties', 'required', 'additionalProperties'], where);
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const extra = schema.additionalProperties as JsonSchema | boolean | undefined;
  const names = Object.keys(properties);
  if (names.length === 0) {
    if (extra === false) return 'Record<string, never>';
    if (extra === undefined || extra === true) return 'Record<string, unknown>';
    return `Record<string, ${typeOf(extra, indent, `${where}.additionalProperties`)}>`;
  }
  const inner = `${indent}  `;
  let out = '{\n';
  for (const name of names) {
    const prop = properties[name] as JsonSchema;
    out += docComment(prop.description, inner);
    out += `${inner}${propertyKey(name)}${required.has(name) ? '' : '?'}: ${typeOf(prop, inner, `${where}.${name}`)};\n`;
  }
  if (extra !== undefined && extra !== false && extra !== true) {
    out += `${inner}[key: string]: ${typeOf(extra, inner, `${where}.additionalProperties`)};\n`;
  }
  return `${out}${indent}}`;
}

/** One exported declaration: `export interface` for an object with properties, else `export type`. */
export function declaration(name: string, schema: JsonSchema, doc?: string): string {
  const comment = docComment(doc ?? schema.description, '');
  const type = typeOf(schema, '', name);
  if (type.startsWith('{\n')) return `${comment}export interface ${name} ${type}\n`;
  return `${comment}export type ${name} = ${type};\n`;
}
