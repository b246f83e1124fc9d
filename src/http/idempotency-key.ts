/**
 * The `Idempotency-Key` request header of POSTs that can charge (contract §4): optional, but when
 * given the request runs at most once per key and user; a repeat gets the first answer and the
 * same key with another body (or on another route) is 409. The fingerprint is a digest of both.
 */
import type { FastifyRequest } from 'fastify';
import { CmrError } from '../domain/errors.js';
import { fingerprintOf } from '../store/idempotency-store.js';

const KEY = /^[\x21-\x7e]{1,255}$/;

export function idempotencyOf(request: FastifyRequest): { key: string; fingerprint: string } | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new CmrError('bad-request', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
  }
  return { key, fingerprint: fingerprintOf({ route: `${request.method} ${request.routeOptions.url ?? ''}`, body: request.body }) };
}
