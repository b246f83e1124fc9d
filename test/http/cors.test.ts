/**
 * Browser access (CORS) over real HTTP: pages of the origins in `CMR_HTTP_CORS_ORIGINS` may call
 * the API with a bearer token and read every answer (refusals included, and the headers a client
 * needs); other origins get no CORS grant; with the setting unset (the default) no origin does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import { createTestContext, testConfig, type TestContext } from '../support/context.js';

const PORTAL = 'https://portal.example.net';

async function listening(env: Record<string, string>): Promise<{ ctx: TestContext; url: string }> {
  const ctx = await createTestContext({ env });
  return { ctx, url: await ctx.app.listen({ host: '127.0.0.1', port: 0 }) };
}

const preflight = (url: string, origin: string) =>
  fetch(`${url}/v1/users/tel%3A%2B15551230001/library`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key, x-cmr-channel' },
  });

describe('with an allow-list', () => {
  let server: { ctx: TestContext; url: string };
  beforeAll(async () => {
    server = await listening({ CMR_HTTP_CORS_ORIGINS: `${PORTAL}, http://127.0.0.1:5173` });
  });
  afterAll(async () => server.ctx.close());

  it('answers the preflight of an allowed origin, without a token', async () => {
    const res = await preflight(server.url, PORTAL);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/authorization.*content-type.*idempotency-key/);
    // A tool that labels its records as the portal does (`X-CMR-Channel`) may send the header.
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/x-cmr-channel/);
    expect(res.headers.get('access-control-max-age')).toBe('600');
  });

  it('lets the page read answers and refusals, with the headers a client needs', async () => {
    const ok = await fetch(`${server.url}/v1/resources`, { headers: { origin: PORTAL, ...server.ctx.as('tel:+15551230001') } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/Retry-After.*Idempotent-Replayed/);
    expect(ok.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const refused = await fetch(`${server.url}/v1/resources`, { headers: { origin: PORTAL } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe(PORTAL);
  });

  it('grants the live activity stream to the page too, with the usual response headers', async () => {
    const stop = new AbortController();
    const res = await fetch(`${server.url}/v1/activities/stream`, { headers: { origin: PORTAL, accept: 'text/event-stream', ...server.ctx.sp }, signal: stop.signal });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(res.headers.get('access-control-allow-origin')).toBe(PORTAL);
      expect(res.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/);
      expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-request-id')).toBeTruthy();
    } finally {
      stop.abort();
    }
  });

  it('grants nothing to another origin', async () => {
    const res = await preflight(server.url, 'https://evil.example.com');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${server.url}/v1/resources`, { headers: { origin: 'https://evil.example.com', ...server.ctx.as('tel:+15551230001') } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('by default', () => {
  let server: { ctx: TestContext; url: string };
  beforeAll(async () => {
    server = await listening({});
  });
  afterAll(async () => server.ctx.close());

  it('grants no origin: the preflight is an unknown route', async () => {
    const res = await preflight(server.url, PORTAL);
    expect(res.status).toBe(404);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
  });
});

describe('the setting', () => {
  it('takes origins only', () => {
    expect(testConfig({ CMR_HTTP_CORS_ORIGINS: '*' }).http.corsOrigins).toEqual(['*']);
    for (const bad of ['portal.example.net', 'https://portal.example.net/', 'https://portal.example.net/app', 'ftp://files.example.net']) {
      expect(() => testConfig({ CMR_HTTP_CORS_ORIGINS: bad }), bad).toThrow(ConfigError);
    }
  });
});
