/** `/v1/users/{uid}/library`: the user's library and subscriptions. */
import { Type } from 'typebox';
import type { Services } from '../../../wiring.js';
import type { App } from '../../app.js';
import { UidParams } from '../../schemas/common.js';
import { EntryAnswer, EntryParams, EntryPatch, IdempotencyHeaders, LibraryQuery, SubscribeBody } from '../../schemas/management.js';
import { sendOutcome } from '../../idempotency-key.js';
import { actionRefusals, requesterOf } from './requests.js';

export async function libraryRoutes(app: App, { management }: Services): Promise<void> {
  const { library } = management;
  const tags = ['library'];

  app.get(
    '/users/:uid/library',
    {
      config: { access: 'self' },
      schema: {
        tags,
        operationId: 'listLibrary',
        summary: "The user's library, newest first",
        description: 'Every entry with the status it has now (an active entry past its expiry reads as expired); `status` keeps one kind.',
        params: UidParams,
        querystring: LibraryQuery,
        response: { 200: Type.Array(Type.Ref('LibraryEntry')) },
      },
    },
    async (request) => library.list(request.uid, request.query.status),
  );

  app.post(
    '/users/:uid/library',
    {
      config: { access: 'self' },
      schema: {
        tags,
        operationId: 'subscribe',
        summary: 'Subscribe to a catalog resource',
        description:
          "Charged the resource's `subscribe` price; the entry expires after the resource's `validityDays`. Only available resources; " +
          '409 while the user holds an active entry for the resource.',
        params: UidParams,
        headers: IdempotencyHeaders,
        body: SubscribeBody,
        response: { 201: EntryAnswer, ...actionRefusals },
      },
    },
    async (request, reply) => sendOutcome(reply, 201, await library.subscribe(requesterOf(request), request.body)),
  );

  app.patch(
    '/users/:uid/library/:entryId',
    {
      config: { access: 'self' },
      schema: {
        tags,
        operationId: 'setAutoRenew',
        summary: 'Turn automatic renewal on or off',
        description: 'An auto-renewing entry is renewed (and charged) shortly before it expires. Not for cancelled, expired or box entries.',
        params: EntryParams,
        headers: IdempotencyHeaders,
        body: EntryPatch,
        response: { 200: EntryAnswer, ...actionRefusals },
      },
    },
    async (request, reply) => sendOutcome(reply, 200, await library.setAutoRenew(requesterOf(request), request.params.entryId, request.body.autoRenew)),
  );

  app.delete(
    '/users/:uid/library/:entryId',
    {
      config: { access: 'self' },
      schema: {
        tags,
        operationId: 'cancelEntry',
        summary: 'Cancel a library entry',
        description: 'The entry stays in the library with status `cancelled` and is never presented, copied or renewed again.',
        params: EntryParams,
        headers: IdempotencyHeaders,
        response: { 204: Type.Null(), ...actionRefusals },
      },
    },
    async (request, reply) => sendOutcome(reply, 204, await library.cancel(requesterOf(request), request.params.entryId)),
  );

  app.post(
    '/users/:uid/library/:entryId/renew',
    {
      config: { access: 'self' },
      schema: {
        tags,
        operationId: 'renewEntry',
        summary: 'Renew a library entry',
        description:
          "Charged the resource's `renew` price; the entry then runs `validityDays` from the later of now and its current expiry. " +
          'An expired entry becomes active again; cancelled and box entries cannot be renewed (409).',
        params: EntryParams,
        headers: IdempotencyHeaders,
        response: { 200: EntryAnswer, ...actionRefusals },
      },
    },
    async (request, reply) => sendOutcome(reply, 200, await library.renew(requesterOf(request), request.params.entryId)),
  );
}
