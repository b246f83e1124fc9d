/**
 * Library and subscriptions over REST on the real Redis, charged online by the HTTP/2 test CHF:
 * subscribe, list, auto-renewal, cancel, renew, the service information, idempotency, parallel
 * subscribes, refused and failed charges, and bad input that must change nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import type { LibraryEntry } from '../../../src/domain/types.js';
import { ALICE, BOB, CAROL, managementTest, path, type ManagementTest } from '../../support/management.js';

let t: ManagementTest;
beforeAll(async () => {
  t = await managementTest();
  await t.addResource('r-1');
  await t.addResource('r-2', { prices: { subscribe: 300, renew: 250, copy: 99, gift: 300, currency: 'USD' }, validityDays: 10 });
  await t.addResource('r-gone', { status: 'withdrawn' });
  t.fund(ALICE, BOB, CAROL);
});
afterAll(async () => t.close());
afterEach(() => t.chf.clearSwitches());

const DAY = 86_400_000;
let userCounter = 100;
/** A user of its own for each test, funded at the CHF. */
function freshUser(): Identity {
  const user = `tel:+1555123${String(userCounter++).padStart(4, '0')}` as Identity;
  t.fund(user);
  return user;
}

async function subscribe(user: Identity, resourceId: string, extra: Record<string, unknown> = {}): Promise<LibraryEntry> {
  const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId, ...extra } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().entry as LibraryEntry;
}

describe('subscribe', () => {
  it('charges the subscribe price and adds an active entry valid for validityDays', async () => {
    const user = freshUser();
    const before = Date.now();
    const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-2', autoRenew: true } });
    expect(res.statusCode).toBe(201);
    const { entry, charge } = res.json();
    expect(entry).toMatchObject({ resourceId: 'r-2', origin: 'subscription', status: 'active', autoRenew: true, chargeId: charge.id });
    expect(charge).toEqual({ id: expect.stringMatching(/^ch-/), amount: 300, currency: 'USD' });
    const validity = Date.parse(entry.expiresAt) - Date.parse(entry.acquiredAt);
    expect(validity).toBe(10 * DAY);
    expect(Date.parse(entry.acquiredAt)).toBeGreaterThanOrEqual(before - 1000);

    expect(t.chf.chargesOf(user)).toBe(1);
    expect((await t.charges(user))[0]).toMatchObject({ id: charge.id, kind: 'subscribe', amount: 300, currency: 'USD', outcome: 'granted', mode: 'nchf', resourceIds: ['r-2'] });
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'subscribe', actor: user, subject: user, channel: 'rest', result: 'success', chargeId: charge.id });
    const list = await t.call('GET', path(user, '/library'), { as: user });
    expect(list.json()).toEqual([entry]);
  });

  it('refuses a second active subscription of the same resource (409) and changes nothing', async () => {
    const user = freshUser();
    await subscribe(user, 'r-1');
    const before = await t.stateOf(user);
    const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'conflict', status: 409 });
    expect(await t.stateOf(user)).toEqual(before);
  });

  it('refuses unknown (404) and withdrawn (409) resources', async () => {
    const user = freshUser();
    const before = await t.stateOf(user);
    const unknown = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-none' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/application\/problem\+json/);
    const withdrawn = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-gone' } });
    expect(withdrawn.statusCode).toBe(409);
    expect(await t.stateOf(user)).toEqual(before);
  });

  it.each([
    ['a missing resourceId', {}],
    ['an unknown field', { resourceId: 'r-1', price: 0 }],
    ['a resourceId of the wrong type', { resourceId: { id: 'r-1' } }],
    ['a malformed resourceId', { resourceId: 'r 1' }],
    ['autoRenew of the wrong type', { resourceId: 'r-1', autoRenew: 'yes' }],
  ])('answers 400 for %s and changes nothing', async (_label, body) => {
    const user = freshUser();
    const before = await t.stateOf(user);
    const res = await t.call('POST', path(user, '/library'), { as: user, body });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('validation-failed');
    expect(await t.stateOf(user)).toEqual(before);
  });

  it('answers 413 for an oversize body and changes nothing', async () => {
    const user = freshUser();
    const before = await t.stateOf(user);
    const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1', pad: 'x'.repeat(70_000) } });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('payload-too-large');
    expect(await t.stateOf(user)).toEqual(before);
  });

  it('answers 415 for a body that is not JSON and changes nothing', async () => {
    const user = freshUser();
    const before = await t.stateOf(user);
    const res = await t.call('POST', path(user, '/library'), { as: user, body: '{"resourceId":"r-1"}', headers: { 'content-type': 'text/plain' } });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json().code).toBe('unsupported-media-type');
    expect(await t.stateOf(user)).toEqual(before);
  });

  it('answers 400 for a malformed user identity in the path', async () => {
    const res = await t.call('POST', '/v1/users/alice/library', { as: 'sp', body: { resourceId: 'r-1' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('bad-identity');
  });

  it('lets the SP subscribe for a user, recorded with the SP as actor', async () => {
    const user = freshUser();
    const res = await t.call('POST', path(user, '/library'), { as: 'sp', body: { resourceId: 'r-1' } });
    expect(res.statusCode).toBe(201);
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'subscribe', actor: 'sp:portal-admin', subject: user });
    expect(t.chf.chargesOf(user)).toBe(1);
  });
});

describe('charging refused or unavailable', () => {
  it('answers 402 when the CHF denies, applies nothing and records the denial', async () => {
    const user = freshUser();
    const before = await t.stateOf(user);
    t.chf.denyNext('END_USER_SERVICE_DENIED', { times: 1 });
    const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' } });
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({ code: 'charging-denied', reason: 'END_USER_SERVICE_DENIED', chargeId: expect.stringMatching(/^ch-/) });
    const after = await t.stateOf(user);
    expect(after.service).toEqual(before.service);
    expect(after.chfCharges).toBe(0);
    expect(after.charges).toEqual([expect.objectContaining({ outcome: 'denied', kind: 'subscribe', amount: 199 })]);
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'subscribe', result: 'denied' });
  });

  it('answers 503 with Retry-After when the CHF is unavailable, and applies nothing', async () => {
    const user = freshUser();
    const before = await t.stateOf(user);
    t.chf.failNext(503, 1);
    const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' } });
    expect(res.statusCode).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.json()).toMatchObject({ code: 'dependency-unavailable', chargeId: expect.stringMatching(/^ch-/) });
    const after = await t.stateOf(user);
    expect(after.service).toEqual(before.service);
    expect(after.charges.filter((c) => c.outcome === 'granted')).toEqual([]);
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'subscribe', result: 'failed' });
  });

  it('answers 402 to a renewal the CHF denies and leaves the entry as it was', async () => {
    const user = freshUser();
    const entry = await subscribe(user, 'r-1');
    const before = await t.stateOf(user);
    t.chf.denyNext('QUOTA_LIMIT_REACHED', { times: 1 });
    const res = await t.call('POST', path(user, `/library/${entry.id}/renew`), { as: user });
    expect(res.statusCode).toBe(402);
    expect((await t.stateOf(user)).service).toEqual(before.service);
  });
});

describe('idempotency', () => {
  it('replays the first answer for a repeated key (same status and body) and charges once', async () => {
    const user = freshUser();
    const first = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' }, key: 'sub-1' });
    const again = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' }, key: 'sub-1' });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(t.chf.chargesOf(user)).toBe(1);
    expect(await t.call('GET', path(user, '/library'), { as: user }).then((r) => r.json())).toHaveLength(1);
  });

  it('refuses the same key with another body (409) and changes nothing', async () => {
    const user = freshUser();
    await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' }, key: 'sub-2' });
    const before = await t.stateOf(user);
    const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-2' }, key: 'sub-2' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('idempotency-key-reused');
    expect(await t.stateOf(user)).toEqual(before);
  });

  it('replays a refusal with its status, without asking the CHF again', async () => {
    const user = freshUser();
    t.chf.denyNext('END_USER_SERVICE_DENIED', { times: 1 });
    const first = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' }, key: 'sub-3' });
    const asked = t.chf.requests.length;
    const again = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' }, key: 'sub-3' });
    expect([first.statusCode, again.statusCode]).toEqual([402, 402]);
    expect(again.json().detail).toBe(first.json().detail);
    expect(t.chf.requests.length).toBe(asked);
  });

  it('treats a key on another route as another request (409)', async () => {
    const user = freshUser();
    const entry = await subscribe(user, 'r-1');
    await t.call('PATCH', path(user, `/library/${entry.id}`), { as: user, body: { autoRenew: true }, key: 'k-route' });
    const res = await t.call('POST', path(user, `/library/${entry.id}/renew`), { as: user, key: 'k-route' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('idempotency-key-reused');
  });

  it('refuses a malformed key (400)', async () => {
    const user = freshUser();
    const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' }, key: 'has space' });
    expect(res.statusCode).toBe(400);
    expect(t.chf.chargesOf(user)).toBe(0);
  });
});

describe('parallel subscribes of one resource by one user', () => {
  it('yield one active entry and one charge; the others are 409', async () => {
    const user = freshUser();
    const answers = await Promise.all(Array.from({ length: 20 }, () => t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' } })));
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([201, ...Array(19).fill(409)]);
    expect(t.chf.chargesOf(user)).toBe(1);
    const library = (await t.call('GET', path(user, '/library'), { as: user })).json<LibraryEntry[]>();
    expect(library.filter((e) => e.status === 'active')).toHaveLength(1);
    expect((await t.charges(user)).filter((c) => c.outcome === 'granted')).toHaveLength(1);
  });

  it('with one idempotency key yield one answer for all, one entry and one charge', async () => {
    const user = freshUser();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => t.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' }, key: 'same' })),
    );
    expect(new Set(answers.map((a) => `${a.statusCode} ${a.body}`)).size).toBe(1);
    expect(answers[0]!.statusCode).toBe(201);
    expect(t.chf.chargesOf(user)).toBe(1);
  });
});

describe('list', () => {
  it('lists newest first, filters by status, and reports an entry past its expiry as expired', async () => {
    const user = freshUser();
    const first = await subscribe(user, 'r-1');
    const second = await subscribe(user, 'r-2');
    const lapsed: LibraryEntry = { ...first, id: 'le-lapsed', resourceId: 'r-x', acquiredAt: '2020-01-01T00:00:00.000Z', expiresAt: '2020-02-01T00:00:00.000Z' };
    await t.ctx.services.users.library(user).put(lapsed);
    const all = (await t.call('GET', path(user, '/library'), { as: user })).json<LibraryEntry[]>();
    expect(all.map((e) => e.id)).toEqual([second.id, first.id, 'le-lapsed']);
    expect(all[2]!.status).toBe('expired');
    const active = (await t.call('GET', path(user, '/library?status=active'), { as: user })).json<LibraryEntry[]>();
    expect(active.map((e) => e.id)).toEqual([second.id, first.id]);
    const expired = (await t.call('GET', path(user, '/library?status=expired'), { as: user })).json<LibraryEntry[]>();
    expect(expired.map((e) => e.id)).toEqual(['le-lapsed']);
    expect((await t.call('GET', path(user, '/library?status=gone'), { as: user })).statusCode).toBe(400);
  });
});

describe('auto-renewal switch', () => {
  it('turns autoRenew on and off as a free change', async () => {
    const user = freshUser();
    const entry = await subscribe(user, 'r-1');
    const on = await t.call('PATCH', path(user, `/library/${entry.id}`), { as: user, body: { autoRenew: true } });
    expect(on.statusCode).toBe(200);
    expect(on.json()).toMatchObject({ entry: { id: entry.id, autoRenew: true }, charge: { amount: 0, currency: 'XXX' } });
    expect((await t.ctx.services.users.library(user).get(entry.id))!.autoRenew).toBe(true);
    expect((await t.charges(user))[0]).toMatchObject({ kind: 'update-entry', amount: 0, mode: 'cdr', outcome: 'granted' });
    expect(t.chf.chargesOf(user)).toBe(1);

    const same = await t.call('PATCH', path(user, `/library/${entry.id}`), { as: user, body: { autoRenew: true } });
    expect(same.json()).toMatchObject({ entry: { autoRenew: true }, charge: null });

    const off = await t.call('PATCH', path(user, `/library/${entry.id}`), { as: user, body: { autoRenew: false } });
    expect(off.json().entry.autoRenew).toBe(false);
  });

  it('refuses unknown and foreign entries (404), cancelled entries (409) and bad bodies (400), changing nothing', async () => {
    const user = freshUser();
    const other = freshUser();
    const foreign = await subscribe(other, 'r-1');
    const cancelled = await subscribe(user, 'r-1');
    await t.call('DELETE', path(user, `/library/${cancelled.id}`), { as: user });
    const before = await t.stateOf(user);
    const otherBefore = await t.stateOf(other);
    expect((await t.call('PATCH', path(user, '/library/le-none'), { as: user, body: { autoRenew: true } })).statusCode).toBe(404);
    expect((await t.call('PATCH', path(user, `/library/${foreign.id}`), { as: user, body: { autoRenew: true } })).statusCode).toBe(404);
    expect((await t.call('PATCH', path(user, `/library/${cancelled.id}`), { as: user, body: { autoRenew: true } })).statusCode).toBe(409);
    expect((await t.call('PATCH', path(user, `/library/${cancelled.id}`), { as: user, body: { autoRenew: 1, status: 'active' } })).statusCode).toBe(400);
    expect((await t.call('PATCH', path(user, `/library/${cancelled.id}`), { as: user, body: {} })).statusCode).toBe(400);
    expect(await t.stateOf(user)).toEqual(before);
    expect(await t.stateOf(other)).toEqual(otherBefore);
  });
});

describe('cancel', () => {
  it('marks the entry cancelled (204), stops presenting it, and refuses to renew it', async () => {
    const user = freshUser();
    const entry = await subscribe(user, 'r-1', { autoRenew: true });
    await t.call('PUT', path(user, '/preferences/default'), { as: user, body: { resourceId: 'r-1' } });
    const preview = () => t.call('GET', path(user, `/presentation?caller=${encodeURIComponent(BOB)}`), { as: user }).then((r) => r.json());
    expect((await preview()).presented).toEqual([expect.objectContaining({ resourceId: 'r-1' })]);

    const res = await t.call('DELETE', path(user, `/library/${entry.id}`), { as: user });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(await t.ctx.services.users.library(user).get(entry.id)).toMatchObject({ status: 'cancelled', autoRenew: false });
    expect((await preview()).presented).toEqual([]);
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'cancel', result: 'success' });

    const renew = await t.call('POST', path(user, `/library/${entry.id}/renew`), { as: user });
    expect(renew.statusCode).toBe(409);
    expect((await t.call('DELETE', path(user, `/library/${entry.id}`), { as: user })).statusCode).toBe(204);
    expect((await t.call('DELETE', path(user, '/library/le-none'), { as: user })).statusCode).toBe(404);
  });

  it('lets the user subscribe again after cancelling', async () => {
    const user = freshUser();
    const entry = await subscribe(user, 'r-1');
    await t.call('DELETE', path(user, `/library/${entry.id}`), { as: user });
    const again = await subscribe(user, 'r-1');
    expect(again.id).not.toBe(entry.id);
  });
});

describe('renew', () => {
  it('extends an active entry from its current expiry, for the renew price', async () => {
    const user = freshUser();
    const entry = await subscribe(user, 'r-2');
    const res = await t.call('POST', path(user, `/library/${entry.id}/renew`), { as: user });
    expect(res.statusCode).toBe(200);
    const { entry: renewed, charge } = res.json();
    expect(charge).toMatchObject({ amount: 250, currency: 'USD' });
    expect(Date.parse(renewed.expiresAt)).toBe(Date.parse(entry.expiresAt) + 10 * DAY);
    expect(await t.ctx.services.users.library(user).get(entry.id)).toMatchObject({ expiresAt: renewed.expiresAt, chargeId: charge.id, status: 'active' });
    expect((await t.charges(user))[0]).toMatchObject({ kind: 'renew', amount: 250 });
  });

  it('extends an expired entry from now and makes it active again', async () => {
    const user = freshUser();
    const entry = await subscribe(user, 'r-2');
    const lapsed = { ...entry, status: 'expired' as const, expiresAt: '2020-01-01T00:00:00.000Z' };
    await t.ctx.services.users.library(user).put(lapsed);
    const before = Date.now();
    const res = await t.call('POST', path(user, `/library/${entry.id}/renew`), { as: user });
    expect(res.statusCode).toBe(200);
    const expiresAt = Date.parse(res.json().entry.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 10 * DAY);
    expect(expiresAt).toBeLessThan(Date.now() + 10 * DAY + 1000);
    expect((await t.ctx.services.users.library(user).get(entry.id))!.status).toBe('active');
  });

  it('refuses entries of withdrawn resources (409) and unknown entries (404)', async () => {
    const user = freshUser();
    await t.addResource('r-soon-gone');
    const entry = await subscribe(user, 'r-soon-gone');
    await t.call('DELETE', '/v1/resources/r-soon-gone', { as: 'sp' });
    const before = await t.stateOf(user);
    expect((await t.call('POST', path(user, `/library/${entry.id}/renew`), { as: user })).statusCode).toBe(409);
    expect((await t.call('POST', path(user, '/library/le-none/renew'), { as: user })).statusCode).toBe(404);
    expect(await t.stateOf(user)).toEqual(before);
  });
});

describe('service information', () => {
  it('returns preferences, library, boxes and privacy in one answer', async () => {
    const user = freshUser();
    const entry = await subscribe(user, 'r-1');
    await t.call('PUT', path(user, '/privacy'), { as: user, body: { copy: 'contacts', contacts: [BOB], blocked: [], gifts: 'nobody' } });
    const res = await t.call('GET', path(user, '/service'), { as: user });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.library).toEqual([entry]);
    expect(body.boxes).toEqual([]);
    expect(body.privacy).toEqual({ copy: 'contacts', contacts: [BOB], blocked: [], gifts: 'nobody' });
    expect(body.preferences).toMatchObject({ timezone: 'UTC', default: null, privacy: body.privacy });
  });

  it('names the same user whatever form the identity takes in the path', async () => {
    const entry = await subscribe(ALICE, 'r-2');
    for (const form of [ALICE, encodeURIComponent(ALICE), 'sip:+1-555-123-0001@IMS.example.net;user=phone']) {
      const res = await t.call('GET', `/v1/users/${form}/service`, { as: ALICE });
      expect(res.statusCode, form).toBe(200);
      expect(res.json().library.map((e: LibraryEntry) => e.id), form).toContain(entry.id);
    }
  });
});
