/**
 * The authorization matrix, over every route the app has (routes added later are covered too):
 * no token → 401; a user on another user's data or on an SP route → 403; the SP passes.
 */
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, TEST_SECRET, type TestContext } from '../../support/context.js';

let ctx: TestContext;
beforeAll(async () => {
  // The matrix sends more requests without a valid token than one address may send in a minute.
  ctx = await createTestContext({ env: { CMR_HTTP_RATE_LIMIT_ANONYMOUS: '100000' } });
});
afterAll(async () => ctx.close());

const alice = 'tel:+15551230001';
const bob = 'tel:+15551230002';

function urlFor(template: string, uid: string): string {
  return template
    .replace(':uid', encodeURIComponent(uid))
    .replace(/:[A-Za-z]+/g, 'x-1');
}

describe('authorization matrix', () => {
  it('covers the routes of the app', () => {
    expect(ctx.app.routeTable.length).toBeGreaterThan(5);
  });

  it('refuses every non-public route without a token (401)', async () => {
    for (const route of ctx.app.routeTable.filter((r) => r.access !== 'public')) {
      const res = await ctx.app.inject({ method: route.method as 'GET', url: urlFor(route.url, alice), payload: ['GET', 'DELETE'].includes(route.method) ? undefined : {} });
      expect({ route: `${route.method} ${route.url}`, status: res.statusCode }).toEqual({ route: `${route.method} ${route.url}`, status: 401 });
      expect(res.json().code).toBe('unauthorized');
    }
  });

  it("refuses a user on another user's data and on SP routes (403)", async () => {
    for (const route of ctx.app.routeTable.filter((r) => r.access === 'self' || r.access === 'sp')) {
      const res = await ctx.app.inject({
        method: route.method as 'GET',
        url: urlFor(route.url, bob),
        headers: ctx.as(alice),
        payload: ['GET', 'DELETE'].includes(route.method) ? undefined : {},
      });
      expect({ route: `${route.method} ${route.url}`, status: res.statusCode }).toEqual({ route: `${route.method} ${route.url}`, status: 403 });
    }
  });

  it("lets a user reach the user's own routes and the SP every route (never 401/403)", async () => {
    for (const route of ctx.app.routeTable.filter((r) => r.access !== 'public')) {
      const asSp = await ctx.app.inject({ method: route.method as 'GET', url: urlFor(route.url, alice), headers: ctx.sp, payload: ['GET', 'DELETE'].includes(route.method) ? undefined : {} });
      expect([401, 403], `${route.method} ${route.url} as SP`).not.toContain(asSp.statusCode);
      if (route.access === 'self' || route.access === 'any') {
        const own = await ctx.app.inject({
          method: route.method as 'GET',
          url: urlFor(route.url, alice),
          headers: ctx.as(alice),
          payload: ['GET', 'DELETE'].includes(route.method) ? undefined : {},
        });
        expect([401, 403], `${route.method} ${route.url} as owner`).not.toContain(own.statusCode);
      }
    }
  });

  it('accepts the uid percent-encoded or not, and in any equivalent form', async () => {
    expect(ctx.app.routeTable).toContainEqual({ method: 'GET', url: '/v1/users/:uid/service', access: 'self' });
    for (const form of [alice, encodeURIComponent(alice), 'sip:+15551230001@ims.example.net;user=phone']) {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/users/${form}/service`, headers: ctx.as(alice) });
      expect(res.statusCode, form).toBe(200);
    }
  });
});

describe('tokens', () => {
  const url = '/v1/resources';
  // Valid but for what each case changes: every token carries an exp unless the case is about it.
  const sign = (claims: Record<string, unknown>, options: Record<string, unknown> = {}) =>
    createSigner({ key: TEST_SECRET, algorithm: 'HS256', ...('exp' in claims ? {} : { expiresIn: 600_000 }), ...options })(claims);

  it.each([
    ['expired', () => sign({ sub: alice, role: 'user', exp: Math.floor(Date.now() / 1000) - 10 })],
    ['wrongly signed', () => sign({ sub: alice, role: 'user' }, { key: 'another-secret-another-secret-0123456789' })],
    ['alg none', () => `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: alice, role: 'sp' })).toString('base64url')}.`],
    ['HS384', () => sign({ sub: alice, role: 'user' }, { algorithm: 'HS384' })],
    ['without exp', () => createSigner({ key: TEST_SECRET, algorithm: 'HS256' })({ sub: alice, role: 'user' })],
    ['unknown role', () => sign({ sub: alice, role: 'admin' })],
    ['no role', () => sign({ sub: alice })],
    ['user sub not an identity', () => sign({ sub: 'alice', role: 'user' })],
    ['garbage', () => 'not.a.token'],
  ])('refuses a token that is %s (401)', async (_label, make) => {
    const res = await ctx.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${make()}` } });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
  });

  it('names the Bearer scheme on 401 (RFC 6750) and refuses another scheme', async () => {
    const none = await ctx.app.inject({ method: 'GET', url });
    expect(none.headers['www-authenticate']).toBe('Bearer realm="cmr"');
    const basic = await ctx.app.inject({ method: 'GET', url, headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' } });
    expect(basic.statusCode).toBe(401);
    expect(basic.json().detail).toMatch(/scheme must be Bearer/);
    expect(basic.headers['www-authenticate']).toBe('Bearer realm="cmr", error="invalid_token"');
  });

  it('accepts a valid user token for catalog reads', async () => {
    const res = await ctx.app.inject({ method: 'GET', url, headers: ctx.as(alice) });
    expect(res.statusCode).toBe(200);
  });
});
