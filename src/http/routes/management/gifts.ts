/** `/v1/users/{uid}/gifts`: subscribe a resource for another user. */
import type { Services } from '../../../wiring.js';
import type { App } from '../../app.js';
import { UidParams } from '../../schemas/common.js';
import { GiftAnswer, GiftBody, IdempotencyHeaders } from '../../schemas/management.js';
import { sendOutcome } from '../../idempotency-key.js';
import { actionRefusals, requesterOf } from './requests.js';

export async function giftRoutes(app: App, { management }: Services): Promise<void> {
  app.post(
    '/users/:uid/gifts',
    {
      config: { access: 'self' },
      schema: {
        tags: ['gifts'],
        operationId: 'giveResource',
        summary: 'Give a resource to another user',
        description:
          "The giver pays the resource's `gift` price. The receiver's `gifts` privacy must admit the giver (403 `privacy-forbids`); " +
          'the receiver gets an entry with `origin: gift` and `from` the giver (409 if the receiver already holds the resource).',
        params: UidParams,
        headers: IdempotencyHeaders,
        body: GiftBody,
        response: { 201: GiftAnswer, ...actionRefusals },
      },
    },
    async (request, reply) => sendOutcome(reply, 201, await management.gifts.give(requesterOf(request), request.body)),
  );
}
