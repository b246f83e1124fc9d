import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../support/context.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

describe('operations endpoints', () => {
  it('/healthz answers without a token', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz reports each check, and not ready while a check fails', async () => {
    ctx.services.readiness.register('sip', () => true);
    const ready = await ctx.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { redis: true, sip: true } });
    ctx.services.readiness.register('sip', () => false);
    const notReady = await ctx.app.inject({ method: 'GET', url: '/readyz' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json().checks).toEqual({ redis: true, sip: false });
  });

  it('/metrics exposes Prometheus text with HTTP counters', async () => {
    await ctx.app.inject({ method: 'GET', url: '/healthz' });
    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toMatch(/cmr_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
  });

  it('/openapi.json describes the API with its problem schema and bearer auth', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/v1/resources']).toHaveProperty('post');
    expect(doc.components.schemas).toHaveProperty('Problem');
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('/ points a browser to the portal and the API documentation', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('href="/portal/"');
    expect(res.body).toContain('href="/docs"');
  });

  it('/docs serves the interactive documentation', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/swagger/i);
  });

  it('unknown routes answer 404 problem JSON, and every answer carries a request id', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/nothing-here', headers: { 'x-request-id': 'req-42' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not-found', status: 404 });
    expect(res.headers['x-request-id']).toBe('req-42');
  });
});
