/**
 * Part 3, management: `GET /v1/users/{uid}/service` (the called party of the call benchmark:
 * rules, a 50-entry library, a box) against two anchors listening in the same process:
 * - the *fair* route: a Fastify route doing the least the service route must do — the same HS256
 *   check of the same token, one Redis GET of the same answer (stored as its JSON) and the same
 *   schema serialisation (`ServiceInfo`);
 * - the *bare* route: prepared bytes, the ceiling of Fastify on this machine.
 * Beside them, the same service route on a second server of the same namespace that keeps no
 * answers (`CMR_SELECT_CACHED_USERS=0`: reads and parses everything on every request), the
 * before of keeping them. autocannon loads them in turn (service, every-read, fair, bare, and back
 * in reverse), so drift on a shared machine weighs on all alike. The ratios are what the real route (its plugins, rate limit, reads
 * and parsing) keeps of each anchor's rate.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createVerifier } from 'fast-jwt';
import { managementSchemas, ServiceInfo } from '../../src/http/schemas/management.js';
import { TEST_SECRET } from '../../test/support/context.js';
import { createTestContext } from '../../test/support/context.js';
import { BENCH_CALLED, seedCalledParty, seedCatalogFor } from '../bench-data.js';
import { httpLoad, type HttpLoadResult } from '../http-load.js';
import type { BenchOptions } from '../options.js';
import { benchEnv, type Progress } from '../run.js';
import { round } from '../stats.js';
import { LIBRARY_SIZE } from './calls.js';

export interface RouteFigures {
  /** Mean of its runs, answers per second. */
  perSec: number;
  /** Mean p50 and worst p99 of its runs, ms. */
  latencyMs: { p50: number; p99: number };
  failed: number;
  runs: HttpLoadResult[];
}

export interface ManagementFigures {
  answerBytes: number;
  service: RouteFigures;
  /** The service route on a server that keeps no answers between requests. */
  readEveryRequest: RouteFigures;
  /** JWT check, one Redis GET, the same schema serialisation. */
  fair: RouteFigures;
  bare: RouteFigures;
  /** service / fair. */
  fairRatio: number;
  /** service / bare. */
  ratio: number;
}

const ROUTES = ['service', 'readEveryRequest', 'fair', 'bare', 'bare', 'fair', 'readEveryRequest', 'service'] as const;
type Route = (typeof ROUTES)[number];

/** The fair anchor: what any route serving this answer must do, and nothing else. */
function fairRoute(app: FastifyInstance, read: () => Promise<string | null>): void {
  const verify = createVerifier({ key: TEST_SECRET, algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] });
  for (const schema of managementSchemas) app.addSchema(schema);
  app.get('/fair', { schema: { response: { 200: ServiceInfo } } }, async (request) => {
    try {
      verify(request.headers.authorization?.slice('Bearer '.length) ?? '');
    } catch {
      throw Object.assign(new Error('unauthorized'), { statusCode: 401 });
    }
    return JSON.parse((await read()) ?? 'null') as unknown;
  });
}

export async function benchManagement(options: BenchOptions, progress: Progress): Promise<ManagementFigures> {
  const ctx = await createTestContext({ env: benchEnv(options) });
  const everyRead = await createTestContext({ env: benchEnv(options, { CMR_SELECT_CACHED_USERS: '0', CMR_REDIS_NAMESPACE: ctx.config.redis.namespace }) });
  const anchors = Fastify();
  try {
    await seedCatalogFor(ctx.services, LIBRARY_SIZE);
    await seedCalledParty(ctx.services, BENCH_CALLED, LIBRARY_SIZE);
    const path = `/v1/users/${encodeURIComponent(BENCH_CALLED)}/service`;
    const headers = ctx.as(BENCH_CALLED);
    const first = await ctx.app.inject({ method: 'GET', url: path, headers });
    if (first.statusCode !== 200) throw new Error(`GET ${path} answered ${first.statusCode}: ${first.body}`);
    const answer = first.body;
    const answerKey = `${ctx.config.redis.namespace}:bench:service-answer`;
    await ctx.services.redis.set(answerKey, answer);
    fairRoute(anchors, () => ctx.services.redis.get(answerKey));
    anchors.get('/bare', async (_request, reply) => reply.type('application/json; charset=utf-8').send(answer));
    const fairCheck = await anchors.inject({ method: 'GET', url: '/fair', headers });
    if (fairCheck.body !== answer) throw new Error('the fair route does not send the service answer');

    const serviceUrl = `${await ctx.app.listen({ host: '127.0.0.1', port: 0 })}${path}`;
    const everyReadUrl = `${await everyRead.app.listen({ host: '127.0.0.1', port: 0 })}${path}`;
    const anchorsUrl = await anchors.listen({ host: '127.0.0.1', port: 0 });
    const urls: Record<Route, { url: string; headers: Record<string, string> }> = {
      service: { url: serviceUrl, headers },
      readEveryRequest: { url: everyReadUrl, headers },
      fair: { url: `${anchorsUrl}/fair`, headers },
      bare: { url: `${anchorsUrl}/bare`, headers: {} },
    };
    const runs: Record<Route, HttpLoadResult[]> = { service: [], readEveryRequest: [], fair: [], bare: [] };
    for (const route of ROUTES) {
      const result = await httpLoad({ ...urls[route], connections: options.connections, duration: options.httpSec });
      runs[route].push(result);
      progress(`management ${route}: ${result.perSec}/s, p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} ms, ${result.failed} failed`);
    }
    const [service, fair, bare] = [summary(runs.service), summary(runs.fair), summary(runs.bare)];
    return { answerBytes: Buffer.byteLength(answer), service, readEveryRequest: summary(runs.readEveryRequest), fair, bare, fairRatio: round(service.perSec / fair.perSec, 3), ratio: round(service.perSec / bare.perSec, 3) };
  } finally {
    await anchors.close();
    await everyRead.app.close();
    await everyRead.services.close();
    await ctx.close();
  }
}

function summary(runs: HttpLoadResult[]): RouteFigures {
  const mean = (pick: (r: HttpLoadResult) => number) => round(runs.reduce((sum, r) => sum + pick(r), 0) / runs.length, 1);
  return {
    perSec: mean((r) => r.perSec),
    latencyMs: { p50: mean((r) => r.latencyMs.p50), p99: Math.max(...runs.map((r) => r.latencyMs.p99)) },
    failed: runs.reduce((sum, r) => sum + r.failed, 0),
    runs,
  };
}
