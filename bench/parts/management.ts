/**
 * Part 3, management: `GET /v1/users/{uid}/service` (the called party of the call benchmark:
 * rules, a 50-entry library, a box) against a bare Fastify route sending the very same answer
 * bytes, both listening in this process, loaded by autocannon in turn: service, bare, bare,
 * service, so drift on a shared machine weighs on both alike. The ratio is what the real route
 * (auth, rate limit, Redis reads, schema serialisation) keeps of the bare route's rate.
 */
import Fastify from 'fastify';
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
  bare: RouteFigures;
  ratio: number;
}

export async function benchManagement(options: BenchOptions, progress: Progress): Promise<ManagementFigures> {
  const ctx = await createTestContext({ env: benchEnv(options) });
  const bare = Fastify();
  try {
    await seedCatalogFor(ctx.services, LIBRARY_SIZE);
    await seedCalledParty(ctx.services, BENCH_CALLED, LIBRARY_SIZE);
    const path = `/v1/users/${encodeURIComponent(BENCH_CALLED)}/service`;
    const headers = ctx.as(BENCH_CALLED);
    const first = await ctx.app.inject({ method: 'GET', url: path, headers });
    if (first.statusCode !== 200) throw new Error(`GET ${path} answered ${first.statusCode}: ${first.body}`);
    const answer = first.body;
    bare.get('/bare', async (_request, reply) => reply.type('application/json; charset=utf-8').send(answer));

    const serviceUrl = `${await ctx.app.listen({ host: '127.0.0.1', port: 0 })}${path}`;
    const bareUrl = `${await bare.listen({ host: '127.0.0.1', port: 0 })}/bare`;
    const load = (url: string, extra: Record<string, string>) => httpLoad({ url, headers: extra, connections: options.connections, duration: options.httpSec });
    const runs = { service: [] as HttpLoadResult[], bare: [] as HttpLoadResult[] };
    for (const route of ['service', 'bare', 'bare', 'service'] as const) {
      const result = route === 'service' ? await load(serviceUrl, headers) : await load(bareUrl, {});
      runs[route].push(result);
      progress(`management ${route}: ${result.perSec}/s, p50 ${result.latencyMs.p50} p99 ${result.latencyMs.p99} ms, ${result.failed} failed`);
    }
    const service = summary(runs.service);
    const bareRoute = summary(runs.bare);
    return { answerBytes: Buffer.byteLength(answer), service, bare: bareRoute, ratio: round(service.perSec / bareRoute.perSec, 3) };
  } finally {
    await bare.close();
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
