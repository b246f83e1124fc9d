/** `POST /v1/users/{uid}/copies`: online copy from a live call, or offline copy from another user's library. */
import { Type } from 'typebox';
import type { CopyRequest } from '../../../copy/copy-service.js';
import { httpStatusOf } from '../../../copy/copy-outcomes.js';
import { MAX_COPY_BODY_BYTES } from '../../../copy/copy-request.js';
import { CmrError } from '../../../domain/errors.js';
import { parseIdentity, type Identity } from '../../../domain/identity.js';
import type { Services } from '../../../wiring.js';
import type { App } from '../../app.js';
import { channelOf } from '../../channel.js';
import { idempotencyOf, sendOutcome } from '../../idempotency-key.js';
import { actorOf } from '../../plugins/auth.js';
import { CopyBody, CopyResult } from '../../schemas/copies.js';
import { UidParams } from '../../schemas/common.js';
import { IdempotencyHeaders } from '../../schemas/management.js';
import { actionRefusals } from '../management/requests.js';

export async function copyRoutes(app: App, { copy }: Services): Promise<void> {
  app.addSchema(CopyResult);

  app.post(
    '/users/:uid/copies',
    {
      config: { access: 'self' },
      bodyLimit: MAX_COPY_BODY_BYTES,
      schema: {
        tags: ['copy'],
        operationId: 'copyResources',
        summary: "Copy resources into the user's library",
        description:
          '`online`: copies what the live (or just ended, within the grace period) call with `peer` presents to the user, or the ' +
          '`resourceIds` subset of it; the client must be registered, enabled and at least its minimum version. `offline`: copies ' +
          "`resourceIds` from `from`'s active library entries. Either way the owner's privacy (`copy`, `blocked`) and each resource's " +
          "licence (`copyable`) and status are honoured, the `copy` price is charged, and the entries expire after the resource's " +
          '`validityDays`. Resources the user already holds are skipped; when all are held the answer is 200 `already-owned` and ' +
          'nothing is charged. Honours `Idempotency-Key`.',
        params: UidParams,
        headers: IdempotencyHeaders,
        body: CopyBody,
        response: {
          201: { ...Type.Ref('CopyResult'), description: 'Copied: the new entries and their charge' },
          200: { ...Type.Ref('CopyResult'), description: 'Already owned: the entries held, nothing charged' },
          ...actionRefusals,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const common = {
        channel: channelOf(request),
        requestor: request.uid,
        actor: actorOf(request),
        idempotency: idempotencyOf(request),
      };
      const copyRequest: CopyRequest =
        body.mode === 'online'
          ? {
              ...common,
              mode: 'online',
              call: { peer: identity('peer', body.peer) },
              client: body.client,
              parties: null,
              resourceIds: body.resourceIds ?? null,
            }
          : { ...common, mode: 'offline', from: identity('from', body.from), resourceIds: body.resourceIds };
      const outcome = await copy.copy(copyRequest);
      return sendOutcome(reply, httpStatusOf(outcome.answer), outcome);
    },
  );
}

function identity(field: string, value: string): Identity {
  const parsed = parseIdentity(value);
  if (!parsed.ok) throw new CmrError('bad-identity', `${field}: ${parsed.reason}`);
  return parsed.identity;
}
