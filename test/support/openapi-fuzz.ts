/**
 * Requests for property-based fuzzing of the REST API, derived from its OpenAPI document: for
 * each operation, path and query parameters, headers and a JSON body built from the operation's
 * schemas (`fast-check` arbitraries), mostly valid in shape and often bent: a field replaced by
 * any value, a required one dropped, an unknown one added, a body that is not JSON. Known values
 * (identities, ids present in the store) are mixed in so requests reach past validation.
 */
import fc from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  $ref?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
}

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema: JsonSchema }> }; responses?: Record<string, unknown> }>
  >;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body: JsonSchema | null;
  /** The statuses the document says the operation answers. */
  statuses: number[];
}

export interface FuzzRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  payload?: string;
  /** The Idempotency-Key sent, if any. */
  idempotencyKey?: string;
}

/** Values that exist in the store, by parameter or property name, so requests can reach real data. */
export type KnownValues = Record<string, readonly string[]>;

/** Who sends a request: its Authorization header (null: none), and how often relative to the others. */
export interface Principal {
  authorization: string | null;
  weight: number;
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content?.['application/json']?.schema ?? null,
      statuses: Object.keys(op.responses ?? {}).map(Number),
    })),
  );
}

const MAX_STRING = 40;
const MAX_ITEMS = 4;

/** Strings a careless or hostile client sends: empty, huge, control and odd characters, injections. */
const oddString = fc.oneof(
  fc.constantFrom('', ' ', '..', '../..', '%00', '\u0000', 'null', 'undefined', '__proto__', 'constructor', '{}', '[]', "' OR 1=1 --", '${7*7}', '<script>', 'tel:', 'sip:@', 'tel:+', '\u202e', '🎵'),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.nat(3000).map((n) => 'x'.repeat(n)),
);

export class RequestArbitraries {
  constructor(
    private readonly doc: OpenApiDocument,
    private readonly known: KnownValues,
    private readonly principals: Principal[],
  ) {}

  /** Arbitrary requests for one operation. */
  requests(op: Operation): fc.Arbitrary<FuzzRequest> {
    const path = op.parameters.filter((p) => p.in === 'path');
    const query = op.parameters.filter((p) => p.in === 'query');
    const idempotency = op.parameters.some((p) => p.in === 'header' && p.name === 'idempotency-key');
    return fc
      .record({
        path: fc.tuple(...path.map((p) => this.pathValue(p))),
        query: fc.tuple(...query.map((p) => fc.option(this.named(p.name, p.schema), { nil: undefined }))),
        extraQuery: fc.option(fc.tuple(fc.constantFrom('x', 'limit', 'cursor', 'a[b]', '__proto__'), oddString), { nil: undefined }),
        principal: fc.oneof(...this.principals.map((p) => ({ weight: p.weight, arbitrary: fc.constant(p.authorization) }))),
        key: idempotency ? fc.option(fc.oneof(fc.stringMatching(/^[\x21-\x7e]{1,40}$/), headerSafe(oddString)), { nil: undefined }) : fc.constant(undefined),
        body: op.body ? this.body(op.body) : fc.option(fc.constantFrom('{}', 'null', '"x"').map((text) => ({ contentType: 'application/json', text })), { nil: undefined }),
      })
      .map(({ path: values, query: queryValues, extraQuery, principal, key, body }) => {
        let url = op.path;
        path.forEach((p, i) => (url = url.replace(`{${p.name}}`, values[i]!)));
        const search = new URLSearchParams();
        query.forEach((p, i) => queryValues[i] !== undefined && search.append(p.name, typeof queryValues[i] === 'string' ? queryValues[i] : JSON.stringify(queryValues[i])));
        if (extraQuery) search.append(extraQuery[0], extraQuery[1]);
        const qs = search.toString();
        const headers: Record<string, string> = principal ? { authorization: principal } : {};
        if (key !== undefined) headers['idempotency-key'] = key;
        if (body !== undefined) headers['content-type'] = body.contentType;
        return {
          method: op.method as FuzzRequest['method'],
          url: qs ? `${url}?${qs}` : url,
          headers,
          ...(body !== undefined ? { payload: body.text } : {}),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        };
      });
  }

  /** A path segment: a known value, a generated one, or an odd one, mostly percent-encoded. */
  private pathValue(p: Parameter): fc.Arbitrary<string> {
    return fc.oneof(
      { weight: 3, arbitrary: this.named(p.name, p.schema).map((v) => encodeURIComponent(String(v))) },
      { weight: 1, arbitrary: oddString.filter((s) => s.length > 0).map(encodeURIComponent) },
    );
  }

  /** A JSON body (valid in shape, or bent), or a payload that is not the JSON asked for. */
  private body(schema: JsonSchema): fc.Arbitrary<{ contentType: string; text: string } | undefined> {
    const json = (value: unknown) => ({ contentType: 'application/json', text: JSON.stringify(value) ?? 'null' });
    return fc.oneof(
      { weight: 6, arbitrary: this.value(schema).map(json) },
      { weight: 6, arbitrary: bent(this.value(schema)).map(json) },
      { weight: 1, arbitrary: fc.jsonValue().map(json) },
      { weight: 1, arbitrary: fc.constantFrom('{"a":', '', '[1,2', '\u0000', 'not json').map((text) => ({ contentType: 'application/json', text })) },
      {
        weight: 1,
        arbitrary: fc.tuple(this.value(schema), fc.constantFrom('text/plain', 'application/xml', 'application/x-www-form-urlencoded')).map(([v, contentType]) => ({ contentType, text: JSON.stringify(v) ?? '' })),
      },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
  }

  /** A value for a field: known values for the names that refer to stored data, else from its schema. */
  private named(name: string, schema: JsonSchema): fc.Arbitrary<unknown> {
    const known = this.known[name];
    return known && known.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: this.value(schema) }) : this.value(schema);
  }

  /** Values that follow the schema. */
  value(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
    if (schema.$ref) return this.value(this.resolve(schema.$ref), depth);
    if (schema.const !== undefined) return fc.constant(schema.const);
    if (schema.enum) return fc.constantFrom(...schema.enum);
    const choices = schema.anyOf ?? schema.oneOf;
    if (choices) return fc.oneof(...choices.map((s) => this.value(s, depth + 1)));
    if (schema.allOf) return this.value(Object.assign({}, ...schema.allOf.map((s) => (s.$ref ? this.resolve(s.$ref) : s))) as JsonSchema, depth);
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
      case 'string':
        return stringFor(schema);
      case 'integer':
        return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
      case 'number':
        return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        const items = depth > 4 ? fc.constant(null) : this.value(schema.items ?? {}, depth + 1);
        const constraints = { minLength: schema.minItems ?? 0, maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? MAX_ITEMS, MAX_ITEMS)) };
        return schema.uniqueItems ? fc.uniqueArray(items, { ...constraints, selector: (v) => JSON.stringify(v) }) : fc.array(items, constraints);
      }
      case 'object': {
        const properties = schema.properties ?? {};
        const model = Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, depth > 4 ? fc.constant(null) : this.named(name, s)]));
        return fc.record(model, { requiredKeys: (schema.required ?? []).filter((k) => k in properties) });
      }
      default:
        return fc.jsonValue();
    }
  }

  private resolve(ref: string): JsonSchema {
    const name = ref.replace('#/components/schemas/', '');
    const schema = this.doc.components?.schemas?.[name];
    if (!schema) throw new Error(`unresolved $ref ${ref}`);
    return schema;
  }
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  const max = Math.max(schema.minLength ?? 0, Math.min(schema.maxLength ?? MAX_STRING, MAX_STRING));
  if (schema.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= (schema.maxLength ?? Infinity) && s.length >= (schema.minLength ?? 0));
  if (schema.format === 'uri') return fc.webUrl();
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: max });
}

/** Header values must be visible latin1 text for the HTTP layer to send them at all. */
function headerSafe(arb: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return arb.map((s) => s.replace(/[^\x20-\x7e]/g, '')).filter((s) => s.trim().length > 0);
}

/** A value with one thing bent somewhere inside it: replaced by anything, removed, or joined by an unknown field. */
function bent(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, fc.jsonValue({ maxDepth: 2 }), fc.nat(), fc.constantFrom('replace', 'remove', 'add')).map(([value, junk, n, how]) => bend(structuredClone(value), junk, n, how));
}

function bend(value: unknown, junk: unknown, n: number, how: 'replace' | 'remove' | 'add'): unknown {
  if (value === null || typeof value !== 'object') return junk;
  const keys = Array.isArray(value) ? value.map((_, i) => String(i)) : Object.keys(value);
  const container = value as Record<string, unknown>;
  if (how === 'add' && !Array.isArray(value)) {
    container[`extra${n % 3}`] = junk;
    return value;
  }
  if (keys.length === 0) return how === 'remove' ? value : junk;
  const key = keys[n % keys.length]!;
  const child = container[key];
  if (child !== null && typeof child === 'object' && n % 2 === 0) {
    container[key] = bend(child, junk, Math.floor(n / 2), how);
  } else if (how === 'remove' && !Array.isArray(value)) {
    delete container[key];
  } else {
    container[key] = junk;
  }
  return value;
}
