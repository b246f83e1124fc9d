/** `/v1/clients`: the registry of CMR clients (handset and management applications), SP only. */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { channelOf } from '../../channel.js';
import type { App } from '../../app.js';
import type { Services } from '../../../wiring.js';
import { problemResponses } from '../../schemas/common.js';
import { Client, ClientInput, ClientReplace, IdParams } from '../../schemas/catalog.js';
import { withoutReadOnlyFields } from './read-only-fields.js';

export async function clientRoutes(app: App, { clients, activities }: Services): Promise<void> {
  const noted = (request: FastifyRequest, action: string, clientId: string) =>
    activities.note({ actor: 'sp', subject: null, kind: 'client', channel: channelOf(request), detail: { action, clientId } });
  app.addSchema(Client);
  const tags = ['clients'];
  const sp = { access: 'sp' as const };

  app.get('/clients', { config: sp, schema: { tags, summary: 'List registered clients', response: { 200: Type.Array(Type.Ref('Client')), ...problemResponses } } }, async () =>
    clients.list(),
  );

  app.get(
    '/clients/:id',
    { config: sp, schema: { tags, summary: 'Read a client', params: IdParams, response: { 200: Type.Ref('Client'), ...problemResponses } } },
    async (request) => clients.get(request.params.id),
  );

  app.post(
    '/clients',
    { config: sp, schema: { tags, summary: 'Register a client', body: ClientInput, response: { 201: Type.Ref('Client'), ...problemResponses, 409: Type.Ref('Problem') } } },
    async (request, reply) => {
      const client = await clients.create(request.body);
      await noted(request, 'create', client.id);
      return reply.code(201).send(client);
    },
  );

  app.put(
    '/clients/:id',
    { config: sp, schema: { tags, summary: 'Replace a client', params: IdParams, body: ClientReplace, response: { 200: Type.Ref('Client'), ...problemResponses } } },
    async (request) => {
      const client = await clients.replace(request.params.id, withoutReadOnlyFields(request.params.id, request.body));
      await noted(request, 'replace', client.id);
      return client;
    },
  );

  app.delete(
    '/clients/:id',
    { config: sp, schema: { tags, summary: 'Remove a client', params: IdParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      await clients.remove(request.params.id);
      await noted(request, 'remove', request.params.id);
      return reply.code(204).send(null);
    },
  );
}
