/**
 * The `Idempotency-Key` request header of POSTs (contract §4): optional, but when
 * given the request runs at most once per key and user; a repeat gets the first answer, marked
 * `Idempotent-Replayed: true`, and the same key with another request is 409. The fingerprint
 * covers the method, the route, the canonical user, the other path parameters and the body, so a
 * key reused for anything else is refused.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ActionOutcome } from '../charging/charged-actions.js';
import { CmrError } from '../domain/errors.js';
import { fingerprintOf, type IdempotencyStore } from '../store/idempotency-store.js';
import type { KeyScope } from '../store/keys.js';
import { actorOf } from './plugins/auth.js';

const KEY = /^[\x21-\x7e]{1,255}$/;

export function idempotencyOf(request: FastifyRequest): { key: string; fingerprint: string } | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new CmrError('bad-request', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
  }
  const { uid: _uid, ...params } = (request.params ?? {}) as Record<string, unknown>;
  return {
    key,
    fingerprint: fingerprintOf({ method: request.method, route: request.routeOptions.url, user: request.uid, params, body: request.body ?? null }),
  };
}

/**
 * Runs a write that is not a charged action (the SP's catalog writes) at most once per
 * `Idempotency-Key` of its principal (the SP as `sp:<sub>`): a repeat gets the first answer,
 * a refusal included.
 */
export async function once<R>(request: FastifyRequest, idempotency: IdempotencyStore, work: () => Promise<R>): Promise<ActionOutcome<R>> {
  const given = idempotencyOf(request);
  if (!given) return { answer: await work(), replayed: false };
  const { value, replayed } = await idempotency.execute({ user: actorOf(request) as KeyScope, ...given }, work);
  return { answer: value, replayed };
}

/** Sends a charging action's answer; a repeat of an earlier request is marked `Idempotent-Replayed: true`. */
export function sendOutcome<R>(reply: FastifyReply, status: number, outcome: ActionOutcome<R>): FastifyReply {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
  return status === 204 ? reply.code(204).send(null) : reply.code(status).send(outcome.answer);
}
