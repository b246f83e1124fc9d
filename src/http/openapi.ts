/**
 * The OpenAPI document (`/openapi.json`, `/docs`). Each route declares its `operationId`, summary,
 * parameters, success answers and the refusals only it gives (402, 409, …). What every route of a
 * kind answers follows from what the route is, and is added here once:
 * - its refusals, each as `application/problem+json` (the server sends nothing else on an error):
 *   401 and 429 for every route behind a token, 503 for every one that reads the store, 403 where
 *   a user may be refused, 400 where the request carries input, 404 where the path names
 *   something, 413 and 415 where a body is read. `documentRoute` notes them when the route is
 *   registered, and takes the declared ones out of the route's own schema: problem details are
 *   written whole by the error handler, so compiling a serialiser for each refusal of each route
 *   would only slow the start; `documentOperation` puts them in the document;
 * - in the finished document (`finishDocument`), the headers the answers carry (request id, rate
 *   limit, `Retry-After`, `WWW-Authenticate`, `Idempotent-Replayed`) as shared components, and an
 *   example of every refusal.
 * A documented route without an `operationId` or a summary stops the app from building, so a
 * generated client never loses an operation's name.
 */
import type { SwaggerOptions } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import { Type, type TSchema } from 'typebox';
import { ERROR_CODES, statusOf, titleOf, type ErrorCode } from '../domain/errors.js';
import type { Access } from './plugins/auth.js';
import { PROBLEM_TYPE_BASE } from './plugins/problem.js';

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

const TAGS: Array<{ name: string; description: string }> = [
  { name: 'service', description: "A user's service information in one read (management flow steps 1–2)" },
  { name: 'library', description: "A user's library: subscriptions, renewals, automatic renewal, cancellation" },
  { name: 'boxes', description: "The SP's catalog boxes, a user's personal boxes and box subscriptions" },
  { name: 'copy', description: 'Copying what a call presents, or what another user holds, into a library' },
  { name: 'gifts', description: 'Subscribing a resource for another user' },
  { name: 'preferences', description: 'What callers are presented: default, rules, filters, privacy' },
  { name: 'presentation', description: 'Previews of what a call would present' },
  { name: 'calls', description: 'Presenting sessions of live and just-ended calls' },
  { name: 'catalog', description: "The SP's catalog of resources" },
  { name: 'clients', description: 'Registered CMR clients (handset and management applications)' },
  { name: 'charging', description: 'Charge records of every activity' },
  { name: 'activity', description: 'Activity records for the SP and its portal: history, feed and live stream' },
  { name: 'auth', description: 'Who a bearer token names, as the server reads it' },
  { name: 'operations', description: 'Health, readiness and metrics, without a token' },
];

/** Options of `@fastify/swagger`: the document's frame, and the last touches of `finishDocument`. */
export function swaggerOptions(): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'CMR Server API',
        version: '1',
        description:
          'Management, catalog, copy, charging and activity API of the CMR Server (Customized Multimedia Ringing application server). ' +
          'Every `/v1` operation needs `Authorization: Bearer <JWT>` with claims `sub` and `role` (`user` or `sp`) and an `exp`; ' +
          'a user reaches only `/v1/users/{own identity}/…` and catalog reads. Errors are RFC 9457 problem details with a stable `code`.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: '/', description: 'The server this document is read from' }],
      tags: TAGS,
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`) },
    transform: ({ schema, url, route }) => ({ schema: documentOperation(schema as RouteSchema, route), url }),
    transformObject: (documents) => finishDocument((documents as { openapiObject: OpenApiObject }).openapiObject),
  };
}

// ── refusals, added to the routes ─────────────────────────────────────────

const REFUSALS: Record<number, { description: string; example: { code: ErrorCode; detail: string } }> = {
  400: { description: 'The request is not valid', example: { code: 'validation-failed', detail: 'body/resourceId must match pattern "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"' } },
  401: { description: 'No valid bearer token', example: { code: 'unauthorized', detail: 'missing bearer token' } },
  402: { description: 'The Charging Enabler refused the charge; nothing was applied', example: { code: 'charging-denied', detail: 'the Charging Enabler refused the charge (QUOTA_LIMIT_REACHED)' } },
  403: { description: "Another user's data, an SP operation, or refused by privacy", example: { code: 'forbidden', detail: "a user may reach only the user's own data" } },
  404: { description: 'What the request names does not exist', example: { code: 'not-found', detail: 'resource r-summer is not in the catalog' } },
  406: { description: 'The request does not accept what this operation sends', example: { code: 'not-acceptable', detail: 'this endpoint sends Server-Sent Events: send Accept: text/event-stream' } },
  409: { description: 'The request conflicts with the current state, or its Idempotency-Key was used for another request', example: { code: 'conflict', detail: 'an active library entry for r-summer exists already' } },
  413: { description: 'The body is larger than this operation accepts', example: { code: 'payload-too-large', detail: 'Request body is too large' } },
  415: { description: 'The body is not JSON', example: { code: 'unsupported-media-type', detail: 'Unsupported Media Type: text/plain' } },
  429: { description: "Too many requests from this token's subject (`sub`; without a valid token, or before the identity provider's key for it is held: this address); wait for Retry-After", example: { code: 'rate-limited', detail: 'Rate limit exceeded, retry in 1 minute' } },
  503: { description: 'A dependency (the store, the Charging Enabler, the identity provider) is unavailable; nothing was applied; retry after Retry-After', example: { code: 'dependency-unavailable', detail: 'the data store is unavailable' } },
};

/** A refusal: problem details, with what the status means and the codes it carries. */
export function problemAnswer(status: number): { description: string; content: Record<string, { schema: TSchema }> } {
  const refusal = REFUSALS[status];
  if (!refusal) throw new Error(`no description of a ${status} refusal`);
  const codes = ERROR_CODES.filter((code) => statusOf(code) === status).map((code) => `\`${code}\``);
  return { description: `${refusal.description} (${codes.join(', ')})`, content: { [PROBLEM_MEDIA_TYPE]: { schema: Type.Ref('Problem') } } };
}

const SUCCESS: Record<number, string> = { 200: 'OK', 201: 'Created', 204: 'Done; no content' };

type Route = RouteOptions & { config?: { access?: Access; refusals?: number[] } };
type RouteSchema = Record<string, unknown> & { hide?: boolean; response?: Record<string, unknown> };

/**
 * `onRoute`: notes a documented route's refusals (taking the declared ones out of its schema)
 * and describes its successes; refuses a route that has no operationId or summary.
 */
export function documentRoute(route: Route): void {
  const schema = route.schema as RouteSchema | undefined;
  if (!schema || schema.hide) return;
  const name = `${String(route.method)} ${route.url}`;
  if (typeof schema['operationId'] !== 'string') throw new Error(`route ${name} has no operationId`);
  if (typeof schema['summary'] !== 'string') throw new Error(`route ${name} has no summary`);
  const access = route.config?.access ?? 'sp';
  if (access === 'public') schema['security'] = [];
  const response = (schema.response ??= {});
  const refusals = new Set(refusalsOf(route, access));
  for (const [status, answer] of Object.entries(response)) {
    const code = Number(status);
    const declared = answer as Record<string, unknown>;
    if (declared['$ref'] === 'Problem') {
      refusals.add(code);
      delete response[status];
    } else if (declared['description'] === undefined && SUCCESS[code]) {
      response[status] = { ...declared, description: SUCCESS[code] };
    }
  }
  route.config = { ...route.config, refusals: [...refusals].sort((a, b) => a - b) };
}

/** The route's schema as the document shows it: its answers and its refusals. */
function documentOperation(schema: RouteSchema, route: Route): RouteSchema {
  const refusals = route.config?.refusals ?? [];
  if (refusals.length === 0) return schema;
  return { ...schema, response: { ...schema.response, ...Object.fromEntries(refusals.map((status) => [status, problemAnswer(status)])) } };
}

function refusalsOf(route: Route, access: Access): number[] {
  if (access === 'public') return [];
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const readsBody = methods.some((method) => method !== 'GET' && method !== 'HEAD');
  const refusals = [401, 429, 503];
  if (readsBody || schema['params'] || schema['querystring'] || schema['headers']) refusals.push(400);
  if (access !== 'any') refusals.push(403);
  if ([...route.url.matchAll(/:(\w+)/g)].some(([, param]) => param !== 'uid')) refusals.push(404);
  if (readsBody) refusals.push(413, 415);
  return refusals;
}

// ── the finished document: headers and examples ───────────────────────────

interface OpenApiObject {
  paths?: Record<string, Record<string, Operation>>;
  components?: Record<string, Record<string, unknown>>;
}
interface Operation {
  parameters?: Array<{ in: string; name: string }>;
  security?: unknown[];
  responses?: Record<string, { headers?: Record<string, unknown>; content?: Record<string, Record<string, unknown>> }>;
}

const HEADERS: Record<string, { description: string; schema: Record<string, unknown> }> = {
  'X-Request-Id': {
    description: 'The id of the request in the server log: the `X-Request-Id` sent (1–64 of `A-Za-z0-9._-`), else one the server made',
    schema: { type: 'string' },
  },
  'X-RateLimit-Limit': { description: "Requests allowed per minute to this token's subject (`sub`; without a valid token, this address)", schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in the current minute', schema: { type: 'integer' } },
  'X-RateLimit-Reset': { description: 'Seconds until the current minute ends', schema: { type: 'integer' } },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
  'WWW-Authenticate': {
    description: 'The scheme to use (RFC 6750): `Bearer realm="cmr"`, with `error="invalid_token"` when the token sent was refused',
    schema: { type: 'string' },
  },
  'Idempotent-Replayed': {
    description: '`true` when this is the stored answer of an earlier request with the same `Idempotency-Key` (nothing was done again)',
    schema: { type: 'string', enum: ['true'] },
  },
};

const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** Names of the shared refusals in `components.responses`. */
const REFUSAL_NAMES: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  402: 'ChargingDenied',
  403: 'Forbidden',
  404: 'NotFound',
  406: 'NotAcceptable',
  409: 'Conflict',
  413: 'PayloadTooLarge',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  503: 'Unavailable',
};

/**
 * Adds the shared headers to every answer, and makes each refusal a shared response with an
 * example (one per status, and one more for operations that honour `Idempotency-Key`, whose
 * replayed refusals are marked).
 */
export function finishDocument<T extends OpenApiObject>(doc: T): T {
  const refusals: Record<string, unknown> = {};
  doc.components = { ...doc.components, headers: HEADERS, responses: refusals };
  for (const operations of Object.values(doc.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const limited = operation.security === undefined || operation.security.length > 0;
      const idempotent = operation.parameters?.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key') ?? false;
      const responses = operation.responses ?? {};
      for (const [status, response] of Object.entries(responses)) {
        const code = Number(status);
        const names = ['X-Request-Id'];
        if (limited) names.push('X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset');
        if (code === 401) names.push('WWW-Authenticate');
        if (code === 429 || code === 503) names.push('Retry-After');
        if (idempotent && code < 500) names.push('Idempotent-Replayed');
        response.headers = { ...response.headers, ...Object.fromEntries(names.map((name) => [name, headerRef(name)])) };
        const problem = response.content?.[PROBLEM_MEDIA_TYPE];
        if (!problem) continue;
        const name = `${REFUSAL_NAMES[code]}${idempotent ? 'Replayable' : ''}`;
        refusals[name] ??= { ...response, content: { [PROBLEM_MEDIA_TYPE]: { ...problem, example: problemExample(code) } } };
        (responses as Record<string, unknown>)[status] = { $ref: `#/components/responses/${name}` };
      }
    }
  }
  return doc;
}

function problemExample(status: number): Record<string, unknown> {
  const { code, detail } = REFUSALS[status]!.example;
  return {
    type: `${PROBLEM_TYPE_BASE}${code}`,
    title: titleOf(code),
    status,
    detail,
    instance: '/v1/users/tel:+15551230001/library',
    code,
    ...(status === 400 ? { errors: [{ path: 'body/resourceId', message: 'must match pattern "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"' }] } : {}),
    ...(status === 402 ? { chargeId: 'ch-01JBX7Q2M4SUMMER', reason: 'QUOTA_LIMIT_REACHED' } : {}),
  };
}
