/**
 * `Idempotency-Key` on the SP's catalog POSTs (resources, clients, catalog boxes) and the marking
 * of every replay, refusals included: a repeat gets the first status and body with
 * `Idempotent-Replayed: true` and does nothing again; the same key with another body is 409.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../support/context.js';
import { clientBody, resourceBody } from '../../support/fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
  await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody({ id: 'r-base' }) });
});
afterAll(async () => ctx.close());

const post = (url: string, payload: unknown, key: string) => ctx.app.inject({ method: 'POST', url, headers: { ...ctx.sp, 'idempotency-key': key }, payload: payload as object });
const activitiesAbout = async (field: string, id: string) => {
  const feed = (await ctx.app.inject({ method: 'GET', url: '/v1/activities?after=0-0&limit=500', headers: ctx.sp })).json<{ items: Array<{ record: { detail: Record<string, unknown> } }> }>();
  return feed.items.filter((item) => item.record.detail[field] === id).length;
};

describe.each([
  ['/v1/resources', (id: string) => resourceBody({ id }), 'resourceId'],
  ['/v1/clients', (id: string) => clientBody({ id }), 'clientId'],
  ['/v1/boxes', (id: string) => ({ id, name: 'Chill', resourceIds: ['r-base'], mode: 'random', price: 299, currency: 'EUR', validityDays: 30 }), 'boxId'],
])('POST %s', (url, body, field) => {
  it('with a key runs once: a repeat gets the same answer, marked as replayed', async () => {
    const id = `x-${randomUUID().slice(0, 8)}`;
    const key = randomUUID();
    const first = await post(url, body(id), key);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const repeat = await post(url, body(id), key);
    expect(repeat.statusCode).toBe(201);
    expect(repeat.headers['idempotent-replayed']).toBe('true');
    expect(repeat.json()).toEqual(first.json());
    expect(await activitiesAbout(field, id)).toBe(1);
    // Without the key, the same request is a new one, refused as a duplicate.
    expect((await ctx.app.inject({ method: 'POST', url, headers: ctx.sp, payload: body(id) })).statusCode).toBe(409);
  });

  it('keeps a refusal as the answer, replayed marked, and refuses the key for another body', async () => {
    const id = `x-${randomUUID().slice(0, 8)}`;
    await post(url, body(id), randomUUID());
    const key = randomUUID();
    const refused = await post(url, body(id), key);
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['idempotent-replayed']).toBeUndefined();
    const again = await post(url, body(id), key);
    expect({ status: again.statusCode, replayed: again.headers['idempotent-replayed'], code: again.json().code }).toEqual({ status: 409, replayed: 'true', code: 'conflict' });
    const reused = await post(url, body(`${id}-other`), key);
    expect(reused.json()).toMatchObject({ status: 409, code: 'idempotency-key-reused' });
  });
});

describe('a charged action refused', () => {
  it('replays its refusal marked as replayed', async () => {
    const user = 'tel:+15551239901';
    const url = `/v1/users/${encodeURIComponent(user)}/library`;
    const headers = { ...ctx.as(user), 'idempotency-key': randomUUID() };
    const first = await ctx.app.inject({ method: 'POST', url, headers, payload: { resourceId: 'r-not-in-catalog' } });
    expect(first.statusCode).toBe(404);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await ctx.app.inject({ method: 'POST', url, headers, payload: { resourceId: 'r-not-in-catalog' } });
    expect({ status: again.statusCode, replayed: again.headers['idempotent-replayed'] }).toEqual({ status: 404, replayed: 'true' });
    expect(again.json()).toEqual(first.json());
  });
});
