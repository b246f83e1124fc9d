/**
 * Boxes: the SP's catalog boxes (`/v1/boxes`; users may read them), the user's personal boxes and
 * subscriptions to catalog boxes (`/v1/users/{uid}/…`).
 */
import { Type } from 'typebox';
import type { Services } from '../../../wiring.js';
import type { App } from '../../app.js';
import { UidParams } from '../../schemas/common.js';
import {
  BoxAnswer,
  BoxParams,
  BoxSubscriptionAnswer,
  BoxSubscriptionBody,
  CatalogBoxInput,
  CatalogBoxReplace,
  IdempotencyHeaders,
  PersonalBoxInput,
  UserBoxParams,
} from '../../schemas/management.js';
import { once, sendOutcome } from '../../idempotency-key.js';
import { actorOf } from '../../plugins/auth.js';
import { actionRefusals, requesterOf } from './requests.js';

export async function boxRoutes(app: App, { management, idempotency }: Services): Promise<void> {
  const { boxes, catalogBoxes } = management;
  const tags = ['boxes'];

  app.get(
    '/boxes',
    { config: { access: 'any' }, schema: { tags, operationId: 'listCatalogBoxes', summary: 'List the catalog boxes', response: { 200: Type.Array(Type.Ref('Box')) } } },
    async () => catalogBoxes.list(),
  );

  app.get(
    '/boxes/:boxId',
    { config: { access: 'any' }, schema: { tags, operationId: 'getCatalogBox', summary: 'Read a catalog box', params: BoxParams, response: { 200: Type.Ref('Box') } } },
    async (request) => catalogBoxes.get(request.params.boxId),
  );

  app.post(
    '/boxes',
    {
      config: { access: 'sp' },
      schema: {
        tags,
        operationId: 'createCatalogBox',
        summary: 'Add a box to the catalog',
        description: 'Every resource must be in the catalog. Subscribers pay `price` and hold the resources for `validityDays`.',
        headers: IdempotencyHeaders,
        body: CatalogBoxInput,
        response: { 201: Type.Ref('Box'), 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) => sendOutcome(reply, 201, await once(request, idempotency, () => catalogBoxes.create(request.body, actorOf(request)))),
  );

  app.put(
    '/boxes/:boxId',
    {
      config: { access: 'sp' },
      schema: { tags, operationId: 'replaceCatalogBox', summary: 'Replace a catalog box', params: BoxParams, body: CatalogBoxReplace, response: { 200: Type.Ref('Box') } },
    },
    async (request) => catalogBoxes.replace(request.params.boxId, request.body, actorOf(request)),
  );

  app.delete(
    '/boxes/:boxId',
    {
      config: { access: 'sp' },
      schema: {
        tags,
        operationId: 'removeCatalogBox',
        summary: 'Remove a catalog box',
        description: 'No one can subscribe to it any more; entries already subscribed through it keep their resources until they expire.',
        params: BoxParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await catalogBoxes.remove(request.params.boxId, actorOf(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/users/:uid/boxes',
    {
      config: { access: 'self' },
      schema: { tags, operationId: 'listPersonalBoxes', summary: "The user's personal boxes", params: UidParams, response: { 200: Type.Array(Type.Ref('Box')) } },
    },
    async (request) => boxes.listPersonal(request.uid),
  );

  app.post(
    '/users/:uid/boxes',
    {
      config: { access: 'self' },
      schema: {
        tags,
        operationId: 'createPersonalBox',
        summary: 'Define a personal box',
        description: 'From resources the user holds actively; `sequential` rotates through them call by call, `random` draws one per call.',
        params: UidParams,
        headers: IdempotencyHeaders,
        body: PersonalBoxInput,
        response: { 201: BoxAnswer, ...actionRefusals },
      },
    },
    async (request, reply) => sendOutcome(reply, 201, await boxes.define(requesterOf(request), request.body)),
  );

  app.put(
    '/users/:uid/boxes/:boxId',
    {
      config: { access: 'self' },
      schema: {
        tags,
        operationId: 'replacePersonalBox',
        summary: 'Replace a personal box',
        description: 'Resources the box already had may stay; new ones must be held actively.',
        params: UserBoxParams,
        headers: IdempotencyHeaders,
        body: PersonalBoxInput,
        response: { 200: BoxAnswer, ...actionRefusals },
      },
    },
    async (request, reply) => sendOutcome(reply, 200, await boxes.update(requesterOf(request), request.params.boxId, request.body)),
  );

  app.delete(
    '/users/:uid/boxes/:boxId',
    {
      config: { access: 'self' },
      schema: {
        tags,
        operationId: 'deletePersonalBox',
        summary: 'Delete a personal box',
        description: 'Refused (409) while the default or a rule presents it.',
        params: UserBoxParams,
        headers: IdempotencyHeaders,
        response: { 204: Type.Null(), ...actionRefusals },
      },
    },
    async (request, reply) => sendOutcome(reply, 204, await boxes.remove(requesterOf(request), request.params.boxId)),
  );

  app.post(
    '/users/:uid/box-subscriptions',
    {
      config: { access: 'self' },
      schema: {
        tags,
        operationId: 'subscribeToBox',
        summary: 'Subscribe to a catalog box',
        description:
          "Charged the box's price; adds one entry per available resource of the box, linked to it (`origin: box`, `boxId`) and valid for the box's " +
          '`validityDays`. 409 while entries of the box are active.',
        params: UidParams,
        headers: IdempotencyHeaders,
        body: BoxSubscriptionBody,
        response: { 201: BoxSubscriptionAnswer, ...actionRefusals },
      },
    },
    async (request, reply) => sendOutcome(reply, 201, await boxes.subscribe(requesterOf(request), request.body.boxId)),
  );
}
