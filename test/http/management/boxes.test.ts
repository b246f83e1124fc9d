/**
 * Boxes over REST on the real Redis: the SP's catalog boxes, users' personal boxes built from their
 * library, and subscriptions to catalog boxes charged online by the HTTP/2 test CHF.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import type { Box, LibraryEntry } from '../../../src/domain/types.js';
import { BOB, managementTest, path, type ManagementTest } from '../../support/management.js';

let t: ManagementTest;
beforeAll(async () => {
  t = await managementTest();
  for (const id of ['r-1', 'r-2', 'r-3']) await t.addResource(id);
  await t.addResource('r-gone');
  t.fund(BOB);
});
afterAll(async () => t.close());
afterEach(() => t.chf.clearSwitches());

let userCounter = 200;
function freshUser(): Identity {
  const user = `tel:+1555123${String(userCounter++).padStart(4, '0')}` as Identity;
  t.fund(user);
  return user;
}

const catalogBox = (overrides: Record<string, unknown> = {}) => ({ name: 'Chill', resourceIds: ['r-1', 'r-2'], mode: 'random', price: 450, currency: 'EUR', validityDays: 7, ...overrides });

async function createCatalogBox(id: string, overrides: Record<string, unknown> = {}): Promise<Box> {
  const res = await t.call('POST', '/v1/boxes', { as: 'sp', body: catalogBox({ id, ...overrides }) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<Box>();
}

async function holding(user: Identity, ...resourceIds: string[]): Promise<void> {
  for (const resourceId of resourceIds) {
    const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId } });
    expect(res.statusCode, res.body).toBe(201);
  }
}

describe('catalog boxes (SP)', () => {
  it('creates, reads, lists, replaces and removes a box; users may read', async () => {
    const created = await createCatalogBox('b-crud');
    expect(created).toMatchObject({ id: 'b-crud', name: 'Chill', resourceIds: ['r-1', 'r-2'], mode: 'random', price: 450, currency: 'EUR', validityDays: 7 });
    expect((await t.call('GET', '/v1/boxes/b-crud', { as: BOB })).json()).toEqual(created);
    expect(((await t.call('GET', '/v1/boxes', { as: BOB })).json<Box[]>()).map((b) => b.id)).toContain('b-crud');

    const replaced = await t.call('PUT', '/v1/boxes/b-crud', { as: 'sp', body: catalogBox({ name: 'Chill 2', resourceIds: ['r-3'], mode: 'sequential' }) });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ id: 'b-crud', name: 'Chill 2', resourceIds: ['r-3'], createdAt: created.createdAt });

    expect((await t.call('DELETE', '/v1/boxes/b-crud', { as: 'sp' })).statusCode).toBe(204);
    expect((await t.call('GET', '/v1/boxes/b-crud', { as: BOB })).statusCode).toBe(404);
    expect((await t.call('DELETE', '/v1/boxes/b-crud', { as: 'sp' })).statusCode).toBe(404);
    const feed = (await t.ctx.services.activityFeed.after(undefined, 500)).items.map((i) => i.record);
    expect(feed.filter((a) => a.kind === 'catalog' && a.detail['boxId'] === 'b-crud').map((a) => a.detail['action'])).toEqual(['create', 'replace', 'delete']);
  });

  it('refuses resources not in the catalog, bad prices, duplicates and users (400/409/403), changing nothing', async () => {
    await createCatalogBox('b-dup');
    const list = async () => (await t.call('GET', '/v1/boxes', { as: 'sp' })).json();
    const before = await list();
    const missing = await t.call('POST', '/v1/boxes', { as: 'sp', body: catalogBox({ id: 'b-missing', resourceIds: ['r-1', 'r-none'] }) });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().detail).toMatch(/r-none/);
    for (const body of [catalogBox({ price: -1 }), catalogBox({ currency: 'euro' }), catalogBox({ resourceIds: [] }), catalogBox({ mode: 'shuffle' }), catalogBox({ validityDays: 0 })]) {
      expect((await t.call('POST', '/v1/boxes', { as: 'sp', body })).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await t.call('POST', '/v1/boxes', { as: 'sp', body: catalogBox({ id: 'b-dup' }) })).statusCode).toBe(409);
    expect((await t.call('POST', '/v1/boxes', { as: BOB, body: catalogBox({ id: 'b-user' }) })).statusCode).toBe(403);
    expect((await t.call('PUT', '/v1/boxes/b-dup', { as: 'sp', body: catalogBox({ resourceIds: ['r-none'] }) })).statusCode).toBe(400);
    expect((await t.call('PUT', '/v1/boxes/b-none', { as: 'sp', body: catalogBox() })).statusCode).toBe(404);
    expect(await list()).toEqual(before);
  });
});

describe('personal boxes', () => {
  it('defines, lists, replaces and deletes a box of held resources, each a free recorded change', async () => {
    const user = freshUser();
    await holding(user, 'r-1', 'r-2');
    const created = await t.call('POST', path(user, '/boxes'), { as: user, body: { name: 'Mine', resourceIds: ['r-2', 'r-1'], mode: 'sequential' } });
    expect(created.statusCode).toBe(201);
    const { box, charge } = created.json();
    expect(box).toMatchObject({ id: expect.stringMatching(/^pb-/), name: 'Mine', resourceIds: ['r-2', 'r-1'], mode: 'sequential', owner: user });
    expect(charge).toMatchObject({ amount: 0, currency: 'XXX' });
    expect((await t.call('GET', path(user, '/boxes'), { as: user })).json()).toEqual([box]);

    const replaced = await t.call('PUT', path(user, `/boxes/${box.id}`), { as: user, body: { name: 'Mine 2', resourceIds: ['r-1'], mode: 'random' } });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json().box).toMatchObject({ id: box.id, name: 'Mine 2', resourceIds: ['r-1'], mode: 'random', createdAt: box.createdAt });
    expect((await t.call('GET', path(user, '/service'), { as: user })).json().boxes).toEqual([replaced.json().box]);

    expect((await t.call('DELETE', path(user, `/boxes/${box.id}`), { as: user })).statusCode).toBe(204);
    expect((await t.call('GET', path(user, '/boxes'), { as: user })).json()).toEqual([]);
    expect((await t.activities(user)).slice(0, 3).map((a) => a.kind)).toEqual(['box-delete', 'box-update', 'box-define']);
  });

  it('presents a personal box through the default', async () => {
    const user = freshUser();
    await holding(user, 'r-1');
    const { box } = (await t.call('POST', path(user, '/boxes'), { as: user, body: { name: 'One', resourceIds: ['r-1'], mode: 'sequential' } })).json();
    expect((await t.call('PUT', path(user, '/preferences/default'), { as: user, body: { boxId: box.id } })).statusCode).toBe(200);
    const preview = (await t.call('GET', path(user, `/presentation?caller=${encodeURIComponent(BOB)}`), { as: user })).json();
    expect(preview).toMatchObject({ presented: [{ resourceId: 'r-1' }], source: { kind: 'default', boxId: box.id } });
    const refused = await t.call('DELETE', path(user, `/boxes/${box.id}`), { as: user });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().detail).toMatch(/default/);
  });

  it('refuses resources not held, unknown and foreign boxes, and bad bodies, changing nothing', async () => {
    const user = freshUser();
    const other = freshUser();
    await holding(user, 'r-1');
    await holding(other, 'r-1');
    const { box: foreign } = (await t.call('POST', path(other, '/boxes'), { as: other, body: { name: 'Theirs', resourceIds: ['r-1'], mode: 'random' } })).json();
    const before = await t.stateOf(user);
    const otherBefore = await t.stateOf(other);
    const notHeld = await t.call('POST', path(user, '/boxes'), { as: user, body: { name: 'X', resourceIds: ['r-1', 'r-2'], mode: 'random' } });
    expect(notHeld.statusCode).toBe(400);
    expect(notHeld.json().detail).toMatch(/r-2/);
    for (const body of [{ name: '', resourceIds: ['r-1'], mode: 'random' }, { name: 'X', resourceIds: [], mode: 'random' }, { name: 'X', resourceIds: ['r-1', 'r-1'], mode: 'random' }, { name: 'X', resourceIds: ['r-1'], mode: 'random', owner: other }]) {
      expect((await t.call('POST', path(user, '/boxes'), { as: user, body })).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await t.call('PUT', path(user, `/boxes/${foreign.id}`), { as: user, body: { name: 'Mine', resourceIds: ['r-1'], mode: 'random' } })).statusCode).toBe(404);
    expect((await t.call('DELETE', path(user, `/boxes/${foreign.id}`), { as: user })).statusCode).toBe(404);
    expect((await t.call('DELETE', path(user, '/boxes/pb-none'), { as: user })).statusCode).toBe(404);
    expect(await t.stateOf(user)).toEqual(before);
    expect(await t.stateOf(other)).toEqual(otherBefore);
  });

  it('keeps resources the box already had when they are no longer held, but refuses new ones', async () => {
    const user = freshUser();
    await holding(user, 'r-1', 'r-2');
    const { box } = (await t.call('POST', path(user, '/boxes'), { as: user, body: { name: 'B', resourceIds: ['r-1', 'r-2'], mode: 'random' } })).json();
    const library = (await t.call('GET', path(user, '/library'), { as: user })).json<LibraryEntry[]>();
    await t.call('DELETE', path(user, `/library/${library.find((e) => e.resourceId === 'r-2')!.id}`), { as: user });
    expect((await t.call('PUT', path(user, `/boxes/${box.id}`), { as: user, body: { name: 'B2', resourceIds: ['r-2', 'r-1'], mode: 'random' } })).statusCode).toBe(200);
    expect((await t.call('PUT', path(user, `/boxes/${box.id}`), { as: user, body: { name: 'B3', resourceIds: ['r-3'], mode: 'random' } })).statusCode).toBe(400);
  });
});

describe('box subscriptions', () => {
  it('charges the box price and adds entries linked to the box for its available resources', async () => {
    const user = freshUser();
    await createCatalogBox('b-sub', { resourceIds: ['r-1', 'r-gone', 'r-2'] });
    await t.call('DELETE', '/v1/resources/r-gone', { as: 'sp' });
    const res = await t.call('POST', path(user, '/box-subscriptions'), { as: user, body: { boxId: 'b-sub' } });
    expect(res.statusCode).toBe(201);
    const { boxId, entries, charge } = res.json();
    expect(boxId).toBe('b-sub');
    expect(charge).toMatchObject({ amount: 450, currency: 'EUR' });
    expect(entries.map((e: LibraryEntry) => [e.resourceId, e.origin, e.boxId, e.status])).toEqual([
      ['r-1', 'box', 'b-sub', 'active'],
      ['r-2', 'box', 'b-sub', 'active'],
    ]);
    expect(Date.parse(entries[0].expiresAt) - Date.parse(entries[0].acquiredAt)).toBe(7 * 86_400_000);
    expect(t.chf.chargesOf(user)).toBe(1);
    expect((await t.charges(user))[0]).toMatchObject({ kind: 'box-subscribe', amount: 450, resourceIds: ['r-1', 'r-2'] });

    // The subscribed box may now be presented; a second subscription while active is refused.
    expect((await t.call('PUT', path(user, '/preferences/default'), { as: user, body: { boxId: 'b-sub' } })).statusCode).toBe(200);
    const before = await t.stateOf(user);
    expect((await t.call('POST', path(user, '/box-subscriptions'), { as: user, body: { boxId: 'b-sub' } })).statusCode).toBe(409);
    expect(await t.stateOf(user)).toEqual(before);

    // Box entries are renewed by subscribing to the box again, not one by one.
    expect((await t.call('POST', path(user, `/library/${entries[0].id}/renew`), { as: user })).statusCode).toBe(409);
    expect((await t.call('PATCH', path(user, `/library/${entries[0].id}`), { as: user, body: { autoRenew: true } })).statusCode).toBe(409);
  });

  it('refuses unknown boxes (404) and bad bodies (400); a denied charge (402) applies nothing', async () => {
    const user = freshUser();
    await createCatalogBox('b-deny');
    const before = await t.stateOf(user);
    expect((await t.call('POST', path(user, '/box-subscriptions'), { as: user, body: { boxId: 'b-none' } })).statusCode).toBe(404);
    expect((await t.call('POST', path(user, '/box-subscriptions'), { as: user, body: { boxId: 7 } })).statusCode).toBe(404);
    expect((await t.call('POST', path(user, '/box-subscriptions'), { as: user, body: { box: 'b-deny' } })).statusCode).toBe(400);
    expect(await t.stateOf(user)).toEqual(before);
    t.chf.denyNext('QUOTA_LIMIT_REACHED', { times: 1 });
    expect((await t.call('POST', path(user, '/box-subscriptions'), { as: user, body: { boxId: 'b-deny' } })).statusCode).toBe(402);
    expect((await t.stateOf(user)).service).toEqual(before.service);
  });

  it('subscribes once for parallel requests', async () => {
    const user = freshUser();
    await createCatalogBox('b-race');
    const answers = await Promise.all(Array.from({ length: 10 }, () => t.call('POST', path(user, '/box-subscriptions'), { as: user, body: { boxId: 'b-race' } })));
    expect(answers.map((a) => a.statusCode).sort()).toEqual([201, ...Array(9).fill(409)]);
    expect(t.chf.chargesOf(user)).toBe(1);
  });
});
