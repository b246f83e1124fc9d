/** `/v1/resources`: the SP's catalog. Users may read it; only the SP changes it. */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { channelOf } from '../../channel.js';
import type { App } from '../../app.js';
import { actorOf } from '../../plugins/auth.js';
import { once, sendOutcome } from '../../idempotency-key.js';
import { IdempotencyHeaders } from '../../schemas/management.js';
import type { Services } from '../../../wiring.js';
import { ResourceParams, Resource, ResourceInput, ResourceQuery, ResourceReplace } from '../../schemas/catalog.js';
import { withoutReadOnlyFields } from './read-only-fields.js';

export async function catalogRoutes(app: App, { catalog, activities, idempotency }: Services): Promise<void> {
  const noted = (request: FastifyRequest, action: string, resourceId: string) =>
    activities.note({ actor: actorOf(request), subject: null, kind: 'catalog', channel: channelOf(request), detail: { action, resourceId } });
  app.addSchema(Resource);
  const tags = ['catalog'];

  app.get(
    '/resources',
    {
      config: { access: 'any' },
      schema: { tags, operationId: 'listResources', summary: 'List the catalog', querystring: ResourceQuery, response: { 200: Type.Array(Type.Ref('Resource')) } },
    },
    async (request) => catalog.list(request.query),
  );

  app.get(
    '/resources/:id',
    { config: { access: 'any' }, schema: { tags, operationId: 'getResource', summary: 'Read a resource', params: ResourceParams, response: { 200: Type.Ref('Resource') } } },
    async (request) => catalog.get(request.params.id),
  );

  app.post(
    '/resources',
    {
      config: { access: 'sp' },
      schema: {
        tags,
        operationId: 'createResource',
        summary: 'Add a resource to the catalog',
        headers: IdempotencyHeaders,
        body: ResourceInput,
        response: { 201: Type.Ref('Resource'), 409: Type.Ref('Problem') },
      },
    },
    async (request, reply) => {
      const outcome = await once(request, idempotency, async () => {
        const resource = await catalog.create(request.body);
        await noted(request, 'create', resource.id);
        return resource;
      });
      return sendOutcome(reply, 201, outcome);
    },
  );

  app.put(
    '/resources/:id',
    {
      config: { access: 'sp' },
      schema: { tags, operationId: 'replaceResource', summary: 'Replace a resource', params: ResourceParams, body: ResourceReplace, response: { 200: Type.Ref('Resource') } },
    },
    async (request) => {
      const resource = await catalog.replace(request.params.id, withoutReadOnlyFields(request.params.id, request.body));
      await noted(request, 'replace', resource.id);
      return resource;
    },
  );

  app.delete(
    '/resources/:id',
    {
      config: { access: 'sp' },
      schema: {
        tags,
        operationId: 'withdrawResource',
        summary: 'Withdraw a resource',
        description: 'The resource stays readable with status "withdrawn"; it is never presented, subscribed or copied again.',
        params: ResourceParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await catalog.withdraw(request.params.id);
      await noted(request, 'withdraw', request.params.id);
      return reply.code(204).send(null);
    },
  );
}
