/** `/v1/users/{uid}/service`: everything the management client shows, in one call. */
import type { Services } from '../../../wiring.js';
import type { App } from '../../app.js';
import { UidParams } from '../../schemas/common.js';
import { ServiceInfo } from '../../schemas/management.js';

export async function serviceRoutes(app: App, { management }: Services): Promise<void> {
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
    async (request) => management.serviceInfo.read(request.uid),
  );
}
