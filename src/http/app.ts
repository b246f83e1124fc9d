/**
 * The REST app, built by one factory for the server entry, the tests and the benchmarks.
 * External plugins first (security headers, rate limit, OpenAPI), then the app's own (problem
 * JSON, auth), then the routes, grouped by area under `routes/`.
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { newUlid } from '../domain/ids.js';
import type { Services } from '../wiring.js';
import { authPlugin, type Access } from './plugins/auth.js';
import { frameworkProblem, MAX_PATH_PARAM_LENGTH, problemPlugin, sendProblem } from './plugins/problem.js';
import { documentRoute, swaggerOptions } from './openapi.js';
import { Problem } from './schemas/common.js';
import { callRoutes } from './routes/calls/calls.js';
import { catalogRoutes } from './routes/catalog/resources.js';
import { clientRoutes } from './routes/catalog/clients.js';
import { operationsRoutes } from './routes/operations/operations.js';
import { chargeRoutes } from './routes/charging/charges.js';
import { activityRoutes } from './routes/activity/activities.js';
import { copyRoutes } from './routes/copy/copies.js';
import { managementRoutes } from './routes/management/index.js';
import { meRoutes } from './routes/auth/me.js';
import { isWebPageUrl, webPages } from './plugins/web-pages.js';
import { CHANNEL_HEADER } from './channel.js';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface RouteInfo {
  method: string;
  url: string;
  access: Access;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteInfo[];
  }
}

/** Route modules added by later layers register through this list (see `buildApp`). */
export type RouteModule = (app: App, services: Services) => Promise<void> | void;

export async function buildApp(services: Services, extraRoutes: RouteModule[] = []): Promise<App> {
  const { config, logger, metrics } = services;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: config.http.bodyLimitBytes,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : newUlid();
    },
    return503OnClosing: true,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors: (error, request, reply) => {
      frameworkProblem(error, request, reply);
    },
    forceCloseConnections: 'idle',
    // Verbose: a refusal names the broken field's schema, so a pattern is explained in words (plugins/problem.ts).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false, verbose: true } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.addSchema(Problem);
  // JSON in (contract §4): a body of any other type is 415, not a string that then fails validation.
  app.removeContentTypeParser('text/plain');
  // An empty body with a JSON content type (what clients that set the type on every request send
  // to routes that take no body) is no body: such a route runs, one that needs a body says so (400).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    // Fastify's own parser, in its callback form: it answers through `done`.
    void parseJson(request, body as string, done);
  });
  // Kept for the authorization matrix test and for /docs: every route with its declared access.
  const routeTable: RouteInfo[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    // The documentation and the browser pages are public like /openapi.json (the pages sign in
    // themselves), and so are CORS preflights.
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.url.startsWith('/docs') || isWebPageUrl(route.url) || methods.includes('OPTIONS')) route.config = { ...route.config, access: 'public' };
    documentRoute(route);
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue;
      routeTable.push({ method, url: route.url, access: route.config?.access ?? 'sp' });
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  // Pages of the allowed origins may read every answer, refusals included: CORS runs first.
  const corsOrigins = config.http.corsOrigins;
  if (corsOrigins.length > 0) {
    await app.register(cors, {
      origin: corsOrigins.includes('*') ? '*' : corsOrigins,
      methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', CHANNEL_HEADER, 'X-Request-Id'],
      exposedHeaders: ['Retry-After', 'Idempotent-Replayed', 'WWW-Authenticate', 'X-Request-Id', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'],
      maxAge: 600,
    });
  }
  await app.register(helmet, {
    contentSecurityPolicy: false,
    global: true,
    crossOriginResourcePolicy: { policy: corsOrigins.length > 0 ? 'cross-origin' : 'same-origin' },
  });
  await app.register(swagger, swaggerOptions());
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: false } });
  await app.register(problemPlugin);
  // Overload sheds the API's work before calls (src/overload/load-shedder.ts): /v1 requests get
  // 503 with Retry-After while the event loop lags; operations endpoints and pages still answer.
  // Asked on every request (one number read): a cached verdict would outlive the lag it saw.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/v1/') && !services.load.admitsRestWork()) {
      sendProblem(reply, request, 'dependency-unavailable', 'the server is overloaded: try again later', { retryAfterSec: services.load.retryAfterSec });
      return reply;
    }
  });
  // Who sends the request, then the rate limit: per token subject, and per address for requests
  // without a valid token (so floods of refused requests are limited too) or whose token needs the
  // identity provider's keys read (so they are counted before the provider is asked), then 401 for
  // those without a valid token. Operations endpoints are not limited.
  await app.register(authPlugin, { auth: config.auth });
  await app.register(rateLimit, {
    global: true,
    max: (request) => (request.principal ? config.http.rateLimitPerMinute : config.http.anonymousRateLimitPerMinute),
    timeWindow: 60_000,
    keyGenerator: (request) => (request.principal ? `sub:${request.principal.sub}` : `address:${request.ip}`),
    allowList: (request) => (request.routeOptions.config.access ?? 'sp') === 'public',
    hook: 'onRequest',
  });

  await app.register(async (scope) => operationsRoutes(scope as App, services));
  await app.register(async (scope) => webPages(scope, { sip: config.sip }));
  await app.register(
    async (v1) => {
      await catalogRoutes(v1, services);
      await clientRoutes(v1, services);
      await callRoutes(v1, services);
      await chargeRoutes(v1, services);
      await activityRoutes(v1, services);
      await copyRoutes(v1, services);
      await managementRoutes(v1, services);
      await meRoutes(v1);
      for (const routes of extraRoutes) await routes(v1, services);
    },
    { prefix: '/v1' },
  );
  return app;
}
