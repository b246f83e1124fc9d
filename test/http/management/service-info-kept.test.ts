/**
 * Service information kept between reads under the user's data version: never older than the
 * last write, on any instance, and never past an entry's expiry or the age bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import { KEPT_MAX_AGE_MS } from '../../../src/store/kept-by-version.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { ALICE, entry, seedUser } from '../../support/presentation-fixtures.js';

const T0 = Date.parse('2030-06-01T12:00:00.000Z');

describe('GET /v1/users/{uid}/service with answers kept', () => {
  const contexts: TestContext[] = [];
  afterEach(async () => {
    for (const ctx of contexts.splice(0).reverse()) await ctx.close();
  });

  let clock = T0;
  async function server(env: Record<string, string> = {}): Promise<TestContext> {
    const ctx = await createTestContext({ env, services: { now: () => new Date(clock) } });
    contexts.push(ctx);
    return ctx;
  }
  async function service(ctx: TestContext): Promise<{ library: Array<{ id: string; status: string }>; privacy: { blocked: string[] } }> {
    const res = await ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(ALICE)}/service`, headers: ctx.as(ALICE) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  it('reports an entry expired once its expiry passes, with no write in between', async () => {
    clock = T0;
    const ctx = await server();
    await seedUser(ctx.services, ALICE, { library: [entry('r-soon', { expiresAt: new Date(T0 + 5_000).toISOString() }), entry('r-later')] });
    expect((await service(ctx)).library.map((e) => [e.id, e.status])).toEqual(expect.arrayContaining([['e-r-soon', 'active'], ['e-r-later', 'active']]));
    clock = T0 + 6_000; // within the age bound: only the expiry itself can make it read again
    const after = await service(ctx);
    expect(after.library.find((e) => e.id === 'e-r-soon')?.status).toBe('expired');
    expect(after.library.find((e) => e.id === 'e-r-later')?.status).toBe('active');
  });

  it("answers another instance's write at once, and the same bytes as an instance that keeps nothing", async () => {
    clock = T0;
    const reading = await server();
    const writing = await server({ CMR_REDIS_NAMESPACE: reading.config.redis.namespace, CMR_SELECT_CACHED_USERS: '0' });
    await seedUser(writing.services, ALICE, { library: [entry('r-first')] });
    expect((await service(reading)).library.map((e) => e.id)).toEqual(['e-r-first']);
    await seedUser(writing.services, ALICE, { library: [entry('r-second', { acquiredAt: '2025-01-01T00:00:00.000Z' })], preferences: { privacy: { copy: 'everyone', contacts: [], blocked: ['tel:+15550000099' as Identity], gifts: 'everyone' } } });
    const seen = await service(reading);
    expect(seen.library.map((e) => e.id)).toEqual(['e-r-second', 'e-r-first']);
    expect(seen.privacy.blocked).toEqual(['tel:+15550000099']);
    const url = `/v1/users/${encodeURIComponent(ALICE)}/service`;
    const [kept, fresh] = await Promise.all([reading, writing].map((ctx) => ctx.app.inject({ method: 'GET', url, headers: ctx.as(ALICE) })));
    expect(kept!.body).toBe(fresh!.body);
    expect(kept!.headers['content-type']).toBe(fresh!.headers['content-type']);
  });

  it('reads again after the age bound a write made around the stores', async () => {
    clock = T0;
    const ctx = await server();
    await seedUser(ctx.services, ALICE, { library: [entry('r-first')] });
    await service(ctx);
    // Written by hand, without moving the data version on: the stores never do this.
    const raw = JSON.stringify(entry('r-by-hand', { acquiredAt: '2025-01-01T00:00:00.000Z' }));
    await ctx.services.redis.hset(ctx.services.keys.user(ALICE).library, 'e-r-by-hand', raw);
    expect((await service(ctx)).library.map((e) => e.id)).toEqual(['e-r-first']);
    clock = T0 + KEPT_MAX_AGE_MS + 1;
    expect((await service(ctx)).library.map((e) => e.id)).toEqual(['e-r-by-hand', 'e-r-first']);
  });
});
