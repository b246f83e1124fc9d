/**
 * What management routes share: the requester of an action (the path's user, the token's actor,
 * the `Idempotency-Key` with a fingerprint of the request) and the answers charging routes add.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { Requester } from '../../../management/management-action.js';
import { channelOf } from '../../channel.js';
import { idempotencyOf } from '../../idempotency-key.js';
import { actorOf } from '../../plugins/auth.js';

/**
 * Refusals a charging action gives besides those of every route (see `openapi.ts`): the charge
 * refused (402, with its `chargeId` and `reason`), a conflict with the user's data or a reused
 * `Idempotency-Key` (409), something named in the body that does not exist (404).
 */
export const actionRefusals = { 402: Type.Ref('Problem'), 404: Type.Ref('Problem'), 409: Type.Ref('Problem') } as const;

/** The requester of the action a request asks for: the path's user, the token's actor, the idempotency key. */
export function requesterOf(request: FastifyRequest): Requester {
  const idempotency = idempotencyOf(request);
  return { user: request.uid, actor: actorOf(request), channel: channelOf(request), ...(idempotency ? { idempotency } : {}) };
}
