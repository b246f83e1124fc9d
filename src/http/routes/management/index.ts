/** The management API (contract §4): service information, library, boxes, gifts, preferences. */
import type { Services } from '../../../wiring.js';
import type { App } from '../../app.js';
import { managementSchemas } from '../../schemas/management.js';
import { boxRoutes } from './boxes.js';
import { giftRoutes } from './gifts.js';
import { libraryRoutes } from './library.js';
import { preferencesRoutes } from './preferences.js';
import { serviceRoutes } from './service.js';

export async function managementRoutes(app: App, services: Services): Promise<void> {
  for (const schema of managementSchemas) app.addSchema(schema);
  await serviceRoutes(app, services);
  await libraryRoutes(app, services);
  await boxRoutes(app, services);
  await giftRoutes(app, services);
  await preferencesRoutes(app, services);
}
