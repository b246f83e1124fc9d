/**
 * What management routes share: the requester of an action (the path's user, the token's actor,
 * the `Idempotency-Key` with a fingerprint of the request) and how an action's outcome is sent.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ActionOutcome } from '../../../charging/charged-actions.js';
import type { Requester } from '../../../management/management-action.js';
import { fingerprintOf } from '../../../store/idempotency-store.js';
import { principalOf } from '../../plugins/auth.js';

/** A refused or unanswered charge names its charge id, and a refusal the Charging Enabler's result code. */
const ChargeProblem = Type.Intersect([
  Type.Ref('Problem'),
  Type.Object({ chargeId: Type.Optional(Type.String()), reason: Type.Optional(Type.String({ description: 'Result code of the refusal' })) }),
]);

/** Answers a charging route may give besides the common ones. */
export const actionResponses = {
  402: ChargeProblem,
  503: ChargeProblem,
  409: Type.Ref('Problem'),
  413: Type.Ref('Problem'),
} as const;

/**
 * The requester of the action a request asks for. The fingerprint covers the route, the canonical
 * user, the other path parameters and the body, so a key reused for anything else is refused.
 */
export function requesterOf(request: FastifyRequest): Requester {
  const principal = principalOf(request);
  const actor = principal.role === 'user' && principal.identity ? principal.identity : 'sp';
  const key = request.headers['idempotency-key'];
  const requester: Requester = { user: request.uid, actor, channel: 'rest' };
  if (typeof key === 'string') {
    const { uid: _uid, ...params } = (request.params ?? {}) as Record<string, unknown>;
    requester.idempotency = {
      key,
      fingerprint: fingerprintOf({ method: request.method, route: request.routeOptions.url, user: request.uid, params, body: request.body ?? null }),
    };
  }
  return requester;
}

/** Sends an action's answer; a repeat of an earlier request is marked `Idempotent-Replayed: true`. */
export function sendOutcome<R>(reply: FastifyReply, status: number, outcome: ActionOutcome<R>): FastifyReply {
  if (outcome.replayed) reply.header('idempotent-replayed', 'true');
  return status === 204 ? reply.code(204).send(null) : reply.code(status).send(outcome.answer);
}
