/**
 * How the server serves the browser pages: the built portal at `/portal/` and handset at
 * `/handset/` with no token, same origin, a strict Content-Security-Policy, hashed assets cached for good and the page never; a
 * page that was not built answers 503 in words. Also `GET /v1/me`, which the pages sign in with.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemPlugin } from '../../src/http/plugins/problem.js';
import { builtWebRoot, webPages } from '../../src/http/plugins/web-pages.js';
import { signToken } from '../../src/http/tokens.js';
import { createTestContext, TEST_SECRET, type TestContext } from '../support/context.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

describe('the portal at /portal/', () => {
  it('serves the built page without a token, with its security policy, never cached', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/portal/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(res.body).toContain('<title>CMR Portal</title>');
    expect(res.body).toMatch(/<script type="module" crossorigin src="\/portal\/assets\/[\w-]+\.js"><\/script>/);
  });

  it('serves its hashed assets for a year and sends /portal to /portal/', async () => {
    const assets = await readdir(join(builtWebRoot(), 'portal', 'assets'));
    const script = assets.find((f) => f.endsWith('.js'))!;
    const res = await ctx.app.inject({ method: 'GET', url: `/portal/assets/${script}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const bare = await ctx.app.inject({ method: 'GET', url: '/portal' });
    expect([bare.statusCode, bare.headers.location]).toEqual([301, '/portal/']);
    const missing = await ctx.app.inject({ method: 'GET', url: '/portal/assets/nothing.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers 503 in words where the page was not built, and the server runs on', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'no-web-'));
    const app = Fastify();
    await app.register(problemPlugin);
    await app.register(async (scope) => webPages(scope, { root: empty }));
    const res = await app.inject({ method: 'GET', url: '/portal/' });
    expect(res.statusCode).toBe(503);
    expect(res.json().detail).toBe('the portal is not built on this server: run npm run build:web');
    expect(res.headers['retry-after']).toBe('60');
    await app.close();
    await rm(empty, { recursive: true });
  });
});

describe('the handset at /handset/', () => {
  it('serves the built page, whose policy lets it open the SIP WebSocket and nothing else beyond its origin', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/handset/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<title>CMR Handset</title>');
    expect(res.headers['content-security-policy']).toContain("connect-src 'self' ws: wss:");
    const portal = await ctx.app.inject({ method: 'GET', url: '/portal/' });
    expect(portal.headers['content-security-policy']).toContain("connect-src 'self';");
  });

  it('tells the page, without a token, where the embedded front takes SIP over WebSocket', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/handset/sip.json' });
    expect(res.statusCode).toBe(200);
    const { sip } = ctx.config;
    expect(res.json()).toEqual({ webSocketPort: sip.wsPort, domain: `${sip.publicHost}:${sip.port}` });
  });
});

describe('GET /v1/me', () => {
  it('names the principal of the token and when it expires', async () => {
    const token = signToken(TEST_SECRET, { sub: 'sip:+15551230001@ims.example.net;user=phone', role: 'user' }, 600);
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp as number;
    expect(res.json()).toEqual({ sub: 'sip:+15551230001@ims.example.net;user=phone', role: 'user', identity: 'tel:+15551230001', expiresAt: new Date(exp * 1000).toISOString() });
    const sp = await ctx.app.inject({ method: 'GET', url: '/v1/me', headers: ctx.sp });
    expect(sp.json()).toMatchObject({ sub: 'portal-admin', role: 'sp', identity: null });
  });

  it('refuses a token it cannot verify, with the reason', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: 'Bearer nope' } });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/^invalid bearer token: /);
  });
});
