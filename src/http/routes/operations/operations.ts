/** Operations endpoints (no `/v1`, no token): health, readiness, metrics, the OpenAPI document. */
import { Type } from 'typebox';
import type { App } from '../../app.js';
import type { Services } from '../../../wiring.js';

const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('not-ready')]),
    checks: Type.Record(Type.String(), Type.Boolean(), { description: 'Each dependency: redis, the SIP front (sip)' }),
  },
  { examples: [{ status: 'ready', checks: { redis: true, sip: true } }] },
);

export async function operationsRoutes(app: App, services: Services): Promise<void> {
  const publicRoute = { access: 'public' as const };
  const tags = ['operations'];

  app.get(
    '/healthz',
    {
      config: publicRoute,
      schema: {
        tags,
        operationId: 'getHealth',
        summary: 'Liveness: the process answers',
        response: { 200: Type.Object({ status: Type.Literal('ok') }, { description: 'The process is alive', examples: [{ status: 'ok' }] }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: publicRoute,
      schema: {
        tags,
        operationId: 'getReadiness',
        summary: 'Readiness: the store and the SIP front are up and the server is not draining',
        response: {
          200: { ...Readiness, description: 'Ready to take calls and requests' },
          503: { ...Readiness, description: 'Not ready: a check failed, or the server is draining', examples: [{ status: 'not-ready', checks: { redis: false, sip: true } }] },
        },
      },
    },
    async (_request, reply) => {
      const report = await services.readiness.report();
      return reply.code(report.ready ? 200 : 503).send({ status: report.ready ? 'ready' : 'not-ready', checks: report.checks });
    },
  );

  app.get(
    '/metrics',
    {
      config: publicRoute,
      schema: {
        tags,
        operationId: 'getMetrics',
        summary: 'Prometheus metrics',
        produces: ['text/plain'],
        response: {
          200: {
            description: 'Prometheus text exposition format 0.0.4',
            content: { 'text/plain': { schema: Type.String({ examples: ['# TYPE cmr_http_requests_total counter\ncmr_http_requests_total{method="GET",route="/healthz",status="200"} 3\n'] }) } },
          },
        },
      },
    },
    async (_request, reply) => {
      const body = await services.metrics.registry.metrics();
      return reply.type(services.metrics.registry.contentType).send(body);
    },
  );

  app.get('/openapi.json', { config: publicRoute, schema: { hide: true } }, async () => app.swagger());

  // Where a browser pointed at the server lands: the portal and the API documentation.
  app.get('/', { config: publicRoute, schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(HOME));
}

const HOME = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>CMR Server</title></head>
<body>
<h1>CMR Server</h1>
<ul>
<li><a href="/portal/">CMR Portal</a>: users and the service provider</li>
<li><a href="/docs">API documentation</a> (<a href="/openapi.json">OpenAPI document</a>)</li>
<li><a href="/healthz">health</a>, <a href="/readyz">readiness</a>, <a href="/metrics">metrics</a></li>
</ul>
</body>
</html>
`;
