/** `/v1/clients`: the registry of CMR clients (handset and management applications), SP only. */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { channelOf } from '../../channel.js';
import type { App } from '../../app.js';
import { actorOf } from '../../plugins/auth.js';
import { once, sendOutcome } from '../../idempotency-key.js';
import { IdempotencyHeaders } from '../../schemas/management.js';
import type { Services } from '../../../wiring.js';
import { Client, ClientInput, ClientReplace, ClientParams } from '../../schemas/catalog.js';
import { withoutReadOnlyFields } from './read-only-fields.js';

export async function clientRoutes(app: App, { clients, activities, idempotency }: Services): Promise<void> {
  const noted = (request: FastifyRequest, action: string, clientId: string) =>
    activities.note({ actor: actorOf(request), subject: null, kind: 'client', channel: channelOf(request), detail: { action, clientId } });
  app.addSchema(Client);
  const tags = ['clients'];
  const sp = { access: 'sp' as const };

  app.get('/clients', { config: sp, schema: { tags, operationId: 'listClients', summary: 'List registered clients', response: { 200: Type.Array(Type.Ref('Client')) } } }, async () =>
    clients.list(),
  );

  app.get(
    '/clients/:id',
    { config: sp, schema: { tags, operationId: 'getClient', summary: 'Read a client', params: ClientParams, response: { 200: Type.Ref('Client') } } },
    async (request) => clients.get(request.params.id),
  );

  app.post(
    '/clients',
    {
      config: sp,
      schema: { tags, operationId: 'createClient', summary: 'Register a client', headers: IdempotencyHeaders, body: ClientInput, response: { 201: Type.Ref('Client'), 409: Type.Ref('Problem') } },
    },
    async (request, reply) => {
      const outcome = await once(request, idempotency, async () => {
        const client = await clients.create(request.body);
        await noted(request, 'create', client.id);
        return client;
      });
      return sendOutcome(reply, 201, outcome);
    },
  );

  app.put(
    '/clients/:id',
    { config: sp, schema: { tags, operationId: 'replaceClient', summary: 'Replace a client', params: ClientParams, body: ClientReplace, response: { 200: Type.Ref('Client') } } },
    async (request) => {
      const client = await clients.replace(request.params.id, withoutReadOnlyFields(request.params.id, request.body));
      await noted(request, 'replace', client.id);
      return client;
    },
  );

  app.delete(
    '/clients/:id',
    { config: sp, schema: { tags, operationId: 'removeClient', summary: 'Remove a client', params: ClientParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await clients.remove(request.params.id);
      await noted(request, 'remove', request.params.id);
      return reply.code(204).send(null);
    },
  );
}
