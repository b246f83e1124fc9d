/**
 * What a token must be, beyond the matrix: an `exp` no further than CMR_JWT_MAX_TTL_SEC from its
 * issue; RS256/ES256 tokens of an operator's identity provider, verified against its JWKS served
 * by a real local HTTP server with keys made here (issuer, audience, role claim); requests
 * without a valid token limited per address before they are refused; the SP's actions recorded
 * with the subject of its token.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_JWT_SECRET } from '../../../src/config/settings.js';
import { createTestContext, TEST_SECRET, type TestContext, withForgedSignature } from '../../support/context.js';
import { resourceBody } from '../../support/fixtures.js';
import { TestIdentityProvider } from '../../support/identity-provider.js';

const alice = 'tel:+15551230001';
const aliceCharges = `/v1/users/${encodeURIComponent(alice)}/charges`;
const now = () => Math.floor(Date.now() / 1000);
const hs256 = (claims: Record<string, unknown>) => createSigner({ key: TEST_SECRET, algorithm: 'HS256' })(claims);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('token lifetime', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ env: { CMR_JWT_MAX_TTL_SEC: '600' } });
  });
  afterAll(async () => ctx.close());
  const status = async (token: string) => (await ctx.app.inject({ method: 'GET', url: aliceCharges, headers: bearer(token) })).statusCode;

  it('requires exp', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: aliceCharges, headers: bearer(hs256({ sub: alice, role: 'user' })) });
    expect(res.statusCode).toBe(401);
    expect(res.json().detail).toMatch(/exp/);
  });

  it('accepts a lifetime up to CMR_JWT_MAX_TTL_SEC and refuses a longer one, counted from iat', async () => {
    expect(await status(hs256({ sub: alice, role: 'user', iat: now(), exp: now() + 600 }))).toBe(200);
    expect(await status(hs256({ sub: alice, role: 'user', exp: now() + 590 }))).toBe(200);
    const long = await ctx.app.inject({ method: 'GET', url: aliceCharges, headers: bearer(hs256({ sub: alice, role: 'user', iat: now(), exp: now() + 3600 })) });
    expect(long.statusCode).toBe(401);
    expect(long.json().detail).toMatch(/CMR_JWT_MAX_TTL_SEC/);
    expect(await status(hs256({ sub: alice, role: 'user', exp: now() + 3600 }))).toBe(401);
    // Issued long ago, still valid for a while: its lifetime is what counts.
    expect(await status(hs256({ sub: alice, role: 'user', iat: now() - 3000, exp: now() + 300 }))).toBe(401);
  });
});

describe("tokens of the operator's identity provider (JWKS)", () => {
  const idp = new TestIdentityProvider();
  let ctx: TestContext;
  beforeAll(async () => {
    await idp.start();
    ctx = await createTestContext({
      env: { CMR_JWT_JWKS_URL: idp.url, CMR_JWT_ISSUER: idp.issuer, CMR_JWT_AUDIENCE: idp.audience, CMR_JWT_ROLE_CLAIM: 'cmr.roles' },
    });
  });
  afterAll(async () => {
    await ctx.close();
    await idp.stop();
  });
  const get = (url: string, token: string) => ctx.app.inject({ method: 'GET', url, headers: bearer(token) });

  it('accepts RS256 and ES256 tokens signed by a key of the JWKS, the role from the configured claim', async () => {
    expect((await get(aliceCharges, idp.sign({ sub: alice, cmr: { roles: ['user'] } }))).statusCode).toBe(200);
    const sp = idp.sign({ sub: 'portal-operator', cmr: { roles: ['offline_access', 'sp'] } }, { alg: 'ES256' });
    expect((await get('/v1/charges', sp)).statusCode).toBe(200);
    // A user token reaches only the user's own data.
    expect((await get('/v1/charges', idp.sign({ sub: alice, cmr: { roles: ['user'] } }))).statusCode).toBe(403);
  });

  it.each([
    ['another issuer', () => idp.sign({ sub: alice, cmr: { roles: ['user'] } }, { iss: 'https://evil.example.com' })],
    ['another audience', () => idp.sign({ sub: alice, cmr: { roles: ['user'] } }, { aud: 'someone-else' })],
    ['a kid the JWKS does not have', () => idp.sign({ sub: alice, cmr: { roles: ['user'] } }, { kid: 'rsa-9' })],
    ['a key that is not the one its kid names', () => idp.sign({ sub: alice, cmr: { roles: ['user'] } }, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() })],
    ['no role in the claim', () => idp.sign({ sub: alice, cmr: { roles: ['offline_access'] } })],
    ['the role in another claim', () => idp.sign({ sub: alice, role: 'sp' })],
  ])('refuses a token with %s (401)', async (_label, make) => {
    const res = await get('/v1/charges', make());
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'unauthorized' });
  });

  it("answers 503 with Retry-After while the identity provider's keys cannot be read", async () => {
    const fresh = await createTestContext({ env: { CMR_JWT_JWKS_URL: idp.url, CMR_JWT_ISSUER: idp.issuer, CMR_JWT_AUDIENCE: idp.audience, CMR_JWT_ROLE_CLAIM: 'cmr.roles' } });
    idp.up = false;
    try {
      const res = await fresh.app.inject({ method: 'GET', url: aliceCharges, headers: bearer(idp.sign({ sub: alice, cmr: { roles: ['user'] } })) });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBeDefined();
      expect(res.json()).toMatchObject({ code: 'dependency-unavailable' });
    } finally {
      idp.up = true;
      await fresh.close();
    }
  });

  it('refuses HS256 tokens of the development secret beside an identity provider (and only there)', async () => {
    const devToken = createSigner({ key: DEVELOPMENT_JWT_SECRET, algorithm: 'HS256', expiresIn: 300_000 })({ sub: alice, role: 'sp' });
    const beside = await createTestContext({
      env: { CMR_JWT_JWKS_URL: idp.url, CMR_JWT_ISSUER: idp.issuer, CMR_JWT_AUDIENCE: idp.audience, CMR_JWT_SECRET: DEVELOPMENT_JWT_SECRET },
    });
    const alone = await createTestContext({ env: { CMR_JWT_SECRET: DEVELOPMENT_JWT_SECRET } });
    try {
      const refused = await beside.app.inject({ method: 'GET', url: '/v1/charges', headers: bearer(devToken) });
      expect(refused.statusCode).toBe(401);
      expect(refused.json().detail).toMatch(/HS256 are not accepted/);
      expect((await alone.app.inject({ method: 'GET', url: '/v1/charges', headers: bearer(devToken) })).statusCode).toBe(200);
    } finally {
      await beside.close();
      await alone.close();
    }
  });

  it('still accepts HS256 tokens when the server has its own secret', async () => {
    const withSecret = await createTestContext({
      env: { CMR_JWT_JWKS_URL: idp.url, CMR_JWT_ISSUER: idp.issuer, CMR_JWT_AUDIENCE: idp.audience, CMR_JWT_SECRET: TEST_SECRET },
    });
    try {
      expect((await withSecret.app.inject({ method: 'GET', url: aliceCharges, headers: withSecret.as(alice) })).statusCode).toBe(200);
    } finally {
      await withSecret.close();
    }
  });
});

describe("the identity provider's keys, asked for sparingly", () => {
  const idp = new TestIdentityProvider();
  const contexts: TestContext[] = [];
  beforeAll(async () => idp.start());
  afterAll(async () => {
    for (const ctx of contexts) await ctx.close();
    await idp.stop();
  });
  async function server(env: Record<string, string> = {}): Promise<TestContext> {
    const ctx = await createTestContext({ env: { CMR_JWT_JWKS_URL: idp.url, CMR_JWT_ISSUER: idp.issuer, CMR_JWT_AUDIENCE: idp.audience, CMR_JWT_ROLE_CLAIM: 'cmr.roles', CMR_JWT_SECRET: TEST_SECRET, ...env } });
    contexts.push(ctx);
    return ctx;
  }
  const userToken = (kid?: string) => idp.sign({ sub: alice, cmr: { roles: ['user'] } }, kid ? { kid } : {});
  const get = (ctx: TestContext, token: string) => ctx.app.inject({ method: 'GET', url: aliceCharges, headers: bearer(token) });

  it('counts a token whose key is not held yet against its address before asking the provider', async () => {
    const ctx = await server({ CMR_HTTP_RATE_LIMIT_ANONYMOUS: '3' });
    for (let i = 0; i < 3; i++) expect((await ctx.app.inject({ method: 'GET', url: aliceCharges })).statusCode).toBe(401);
    const asked = idp.requests;
    const limited = await get(ctx, userToken());
    expect(limited.statusCode).toBe(429);
    expect(idp.requests).toBe(asked);
  });

  it('asks the provider once for a flood of tokens with made-up kids, then verifies its real keys from memory', async () => {
    const ctx = await server();
    const asked = idp.requests;
    for (let i = 0; i < 20; i++) {
      const res = await get(ctx, userToken(`forged-${randomUUID()}`));
      expect(res.statusCode).toBe(401);
      expect(res.json().detail).toMatch(/^invalid bearer token: no key "forged-.*" in the identity provider's keys/);
    }
    expect(idp.requests - asked).toBe(1);
    expect((await get(ctx, userToken())).statusCode).toBe(200);
    expect(idp.requests - asked).toBe(1);
  });

  it('answers 503 in words while the provider is down, without asking it for every request, and keeps HS256 working', async () => {
    const ctx = await server();
    idp.up = false;
    try {
      const asked = idp.requests;
      for (let i = 0; i < 5; i++) {
        const res = await get(ctx, userToken());
        expect(res.statusCode).toBe(503);
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
        expect(res.json()).toMatchObject({ code: 'dependency-unavailable', detail: expect.stringMatching(/^the identity provider's keys cannot be read \(it answered 503\)/) });
      }
      expect(idp.requests - asked).toBe(1);
      expect((await ctx.app.inject({ method: 'GET', url: aliceCharges, headers: ctx.as(alice) })).statusCode).toBe(200);
    } finally {
      idp.up = true;
    }
  });

  it('answers 503 in words, not a hang, while the provider takes the request and never answers', async () => {
    const ctx = await server();
    idp.hanging = true;
    try {
      const res = await get(ctx, userToken());
      expect(res.statusCode).toBe(503);
      expect(res.json().detail).toMatch(/^the identity provider did not send its keys within \d+ s/);
      expect((await ctx.app.inject({ method: 'GET', url: aliceCharges, headers: ctx.as(alice) })).statusCode).toBe(200);
    } finally {
      idp.hanging = false;
    }
  });
});

describe('requests without a valid token', () => {
  let ctx: TestContext;
  const LIMIT = 4;
  beforeAll(async () => {
    ctx = await createTestContext({ env: { CMR_HTTP_RATE_LIMIT_ANONYMOUS: String(LIMIT), CMR_HTTP_RATE_LIMIT: '100' } });
  });
  afterAll(async () => ctx.close());

  it('are limited per address before they are refused, while valid tokens keep their own budget', async () => {
    const forged = bearer(withForgedSignature(hs256({ sub: alice, role: 'sp', exp: now() + 60 })));
    for (let i = 0; i < LIMIT; i++) {
      const headers = i % 2 === 0 ? {} : forged;
      expect((await ctx.app.inject({ method: 'GET', url: '/v1/charges', headers })).statusCode).toBe(401);
    }
    const flooded = await ctx.app.inject({ method: 'GET', url: '/v1/charges', headers: forged });
    expect(flooded.statusCode).toBe(429);
    expect(Number(flooded.headers['retry-after'])).toBeGreaterThan(0);
    expect(flooded.json()).toMatchObject({ code: 'rate-limited' });
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/charges', headers: ctx.sp })).statusCode).toBe(200);
  });
});

describe("the SP's actions", () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => ctx.close());

  it("are recorded with the subject of the SP's token", async () => {
    const id = `r-${randomUUID().slice(0, 8)}`;
    const created = await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.as('catalog-editor', 'sp'), payload: resourceBody({ id }) });
    expect(created.statusCode, created.body).toBe(201);
    const feed = (await ctx.app.inject({ method: 'GET', url: '/v1/activities?after=0-0', headers: ctx.sp })).json<{ items: Array<{ record: { actor: string; detail: { resourceId?: string } } }> }>();
    expect(feed.items.find((item) => item.record.detail.resourceId === id)?.record.actor).toBe('sp:catalog-editor');
  });
});
