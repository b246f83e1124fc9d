/**
 * What management routes share: the requester of an action (the path's user, the token's actor,
 * the `Idempotency-Key` with a fingerprint of the request) and the answers charging routes add.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Requester } from '../../../management/management-action.js';
import { channelOf } from '../../channel.js';
import { idempotencyOf } from '../../idempotency-key.js';
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

/** The requester of the action a request asks for: the path's user, the token's actor, the idempotency key. */
export function requesterOf(request: FastifyRequest): Requester {
  const principal = principalOf(request);
  const actor = principal.role === 'user' && principal.identity ? principal.identity : 'sp';
  const idempotency = idempotencyOf(request);
  return { user: request.uid, actor, channel: channelOf(request), ...(idempotency ? { idempotency } : {}) };
}
