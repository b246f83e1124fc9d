/**
 * Every error leaves as RFC 9457 problem JSON with a stable `code`. Validation errors list the
 * offending paths; unexpected errors are logged and answered as `internal` without details.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { formatWords, patternWords } from '../schemas/field-words.js';
import { CmrError, ReplayedRefusal, statusOf, titleOf, type ErrorCode } from '../../domain/errors.js';

export const PROBLEM_TYPE_BASE = 'urn:cmr:problem:';

export function sendProblem(
  reply: FastifyReply,
  request: FastifyRequest,
  code: ErrorCode,
  detail: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  const { retryAfterSec, ...fields } = extra as { retryAfterSec?: number };
  const status = statusOf(code);
  if (retryAfterSec !== undefined) reply.header('retry-after', String(retryAfterSec));
  // RFC 6750 §3: tell the client which scheme to use, and whether the token it sent was bad.
  if (code === 'unauthorized') {
    reply.header('www-authenticate', request.headers.authorization ? 'Bearer realm="cmr", error="invalid_token"' : 'Bearer realm="cmr"');
  }
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: `${PROBLEM_TYPE_BASE}${code}`, title: titleOf(code), status, detail, instance: request.url, code, ...fields });
}

/** Longest path parameter routed: identities are up to 256 characters, three times that percent-encoded. */
export const MAX_PATH_PARAM_LENGTH = 1024;

/** What the router refuses before any route runs (a URL it cannot decode, a parameter too long), as problem JSON. */
export function frameworkProblem(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? `a path parameter is longer than ${MAX_PATH_PARAM_LENGTH} characters`
      : 'the URL is not valid (bad percent-encoding)';
  return sendProblem(reply, request, 'bad-request', detail);
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'bad-request',
};

export const problemPlugin = fp(async (app: FastifyInstance) => {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof CmrError) {
      if (error instanceof ReplayedRefusal) reply.header('idempotent-replayed', 'true');
      if (error.status >= 500) request.log.warn({ err: { message: error.message, code: error.code } }, 'request failed');
      return sendProblem(reply, request, error.code, error.detail, error.extra);
    }
    if (error.validation) {
      const errors = validationErrors(error.validation, error.validationContext ?? '');
      return sendProblem(reply, request, 'validation-failed', errors.map((e) => `${e.path} ${e.message}`).join('; '), { errors });
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) return sendProblem(reply, request, mapped, error.message);
    if (error.statusCode === 429) return sendProblem(reply, request, 'rate-limited', error.message);
    if (error.statusCode === 503) return sendProblem(reply, request, 'dependency-unavailable', error.message, { retryAfterSec: 5 });
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return sendProblem(reply, request, 'bad-request', error.message);
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendProblem(reply, request, 'internal', 'an unexpected error occurred');
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, 'not-found', `no route ${request.method} ${request.url.split('?')[0]}`),
  );
});

type ValidationError = NonNullable<FastifyError['validation']>[number];

/** Ajv's message, except for patterns and formats: those are said in words (the app's Ajv is verbose, so the schema is at hand). */
function wordsOf(v: ValidationError): string {
  const schema = (v as ValidationError & { parentSchema?: { description?: unknown; format?: unknown } }).parentSchema;
  if (v.keyword === 'pattern') return patternWords(schema?.description);
  if (v.keyword === 'format') return formatWords(schema?.format);
  return v.message ?? 'is invalid';
}

/**
 * One message per invalid field. A field that must be one of a few values (a union of literals,
 * which Ajv reports as one failed `const` per literal, then `anyOf` at the same place) names the
 * values allowed. A `const` failing in a branch of a union of objects (the other branch's
 * discriminator) says nothing about the field, so only a field's own `anyOf` turns them into a list.
 */
function validationErrors(validation: ValidationError[], context: string): Array<{ path: string; message: string }> {
  const pathOf = (v: ValidationError) => `${context}${v.instancePath || ''}`;
  const unions = new Set(validation.filter((v) => v.keyword === 'anyOf').map(pathOf));
  const fields = new Map<string, { allowed: unknown[]; messages: string[] }>();
  for (const v of validation) {
    const path = pathOf(v);
    const field = fields.get(path) ?? { allowed: [], messages: [] };
    fields.set(path, field);
    const params = v.params as { allowedValue?: unknown; allowedValues?: unknown[]; type?: unknown };
    const union = unions.has(path);
    if (v.keyword === 'enum') field.allowed.push(...(params.allowedValues ?? []));
    else if (union && v.keyword === 'const') field.allowed.push(params.allowedValue);
    else if (union && v.keyword === 'type' && params.type === 'null') field.allowed.push(null);
    else if (union && v.keyword === 'anyOf') continue;
    else {
      const message = wordsOf(v);
      if (!field.messages.includes(message)) field.messages.push(message);
    }
  }
  return [...fields]
    .map(([path, { allowed, messages }]) => ({
      path,
      message: allowed.length > 0 ? `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}` : messages.join(', '),
    }))
    .filter((field) => field.message !== '');
}
