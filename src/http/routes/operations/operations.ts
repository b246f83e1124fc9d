/** Operations endpoints (no `/v1`, no token): health, readiness, metrics, OpenAPI. */
import type { App } from '../../app.js';
import type { Services } from '../../../wiring.js';

export async function operationsRoutes(app: App, services: Services): Promise<void> {
  const publicRoute = { access: 'public' as const };

  app.get('/healthz', { config: publicRoute, schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: publicRoute, schema: { hide: true } }, async (_request, reply) => {
    const report = await services.readiness.report();
    return reply.code(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not-ready', checks: report.checks });
  });

  app.get('/metrics', { config: publicRoute, schema: { hide: true } }, async (_request, reply) => {
    const body = await services.metrics.registry.metrics();
    return reply.type(services.metrics.registry.contentType).send(body);
  });

  app.get('/openapi.json', { config: publicRoute, schema: { hide: true } }, async () => app.swagger());
}
