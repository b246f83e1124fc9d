/** `/v1/users/{uid}/service`: everything the management client shows, in one call. */
import type { FastifyReply } from 'fastify';
import type { ServiceInfo as ServiceInfoAnswer } from '../../../management/service-info.js';
import type { Services } from '../../../wiring.js';
import type { App } from '../../app.js';
import { UidParams } from '../../schemas/common.js';
import { ServiceInfo } from '../../schemas/management.js';

export async function serviceRoutes(app: App, { management }: Services): Promise<void> {
  // The reader hands out the same answer object while the user's data is unchanged: its JSON is
  // written once by the route's schema and sent as it is to every request it answers.
  const serialized = new WeakMap<ServiceInfoAnswer, ReturnType<FastifyReply['serialize']>>();
  app.get(
    '/users/:uid/service',
    {
      config: { access: 'self' },
      schema: {
        tags: ['service'],
        operationId: 'getServiceInfo',
        summary: "The user's service information",
        description: 'Preferences, library (newest first), personal boxes and privacy, read together.',
        params: UidParams,
        response: { 200: ServiceInfo },
      },
    },
    async (request, reply) => {
      const info = await management.serviceInfo.read(request.uid);
      let body = serialized.get(info);
      if (body === undefined) serialized.set(info, (body = reply.serialize(info)));
      // Sent as prepared bytes, which the typed reply does not describe: the schema made them.
      return (reply as FastifyReply).type('application/json; charset=utf-8').send(body);
    },
  );
}
