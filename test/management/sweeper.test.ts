/**
 * The library sweeper on the real Redis with an injected clock, charging online against the HTTP/2
 * test CHF: renewals shortly before expiry, expiries on time, refused and unanswered renewals,
 * the per-entry lock, two server instances on one store, and the background loop of the wiring.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import type { LibraryEntry } from '../../src/domain/types.js';
import type { SweepResult } from '../../src/management/renewal-sweeper.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { eventually } from '../support/eventually.js';
import { managementTest, path, type ManagementTest } from '../support/management.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2025-03-01T10:00:00.000Z');
let clock = T0;
const now = () => new Date(clock);

let t: ManagementTest;
beforeAll(async () => {
  t = await managementTest({ services: { now }, env: { CMR_RENEW_AHEAD_SEC: '3600' } });
  await t.addResource('r-1', { validityDays: 30, prices: { subscribe: 200, renew: 150, copy: 50, gift: 200, currency: 'EUR' } });
});
afterAll(async () => t.close());
afterEach(() => t.chf.clearSwitches());

let userCounter = 500;
function freshUser(): Identity {
  const user = `tel:+1555123${String(userCounter++).padStart(4, '0')}` as Identity;
  t.fund(user);
  return user;
}

/** Subscribes at T0; the entry expires at T0 + 30 days. */
async function subscribed(user: Identity, autoRenew: boolean, resourceId = 'r-1'): Promise<LibraryEntry> {
  clock = T0;
  const res = await t.call('POST', path(user, '/library'), { as: user, body: { resourceId, autoRenew } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().entry as LibraryEntry;
}

const sweeper = () => t.ctx.services.management.sweeper;
const entryOf = async (user: Identity, id: string) => (await t.ctx.services.users.library(user).get(id))!;
const outcomesFor = (results: SweepResult[], user: Identity) => results.filter((r) => r.user === user).map((r) => r.outcome);
const scoreOf = async (user: Identity, entryId: string) => {
  const score = await t.ctx.services.redis.zscore(t.ctx.services.keys.expiryIndex, JSON.stringify([user, entryId]));
  return score === null ? null : Number(score);
};

describe('renewal', () => {
  it('renews an auto-renewing entry an hour before it expires, charged the renew price', async () => {
    const user = freshUser();
    const entry = await subscribed(user, true);
    const expiresAt = Date.parse(entry.expiresAt);
    expect(expiresAt).toBe(T0 + 30 * DAY);
    expect(await scoreOf(user, entry.id)).toBe(expiresAt - HOUR);

    clock = expiresAt - 2 * HOUR;
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual([]);

    clock = expiresAt - 30 * 60_000;
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['renewed']);
    const renewed = await entryOf(user, entry.id);
    expect(renewed).toMatchObject({ status: 'active', autoRenew: true, expiresAt: new Date(expiresAt + 30 * DAY).toISOString() });
    expect(t.chf.chargesOf(user)).toBe(2);
    expect((await t.charges(user))[0]).toMatchObject({ kind: 'renew', amount: 150, outcome: 'granted', id: renewed.chargeId });
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'renew', actor: 'system', channel: 'system', subject: user, result: 'success' });
    expect(await scoreOf(user, entry.id)).toBe(expiresAt + 30 * DAY - HOUR);

    // Nothing more is due until the next period.
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual([]);
    expect(t.chf.chargesOf(user)).toBe(2);
  });

  it('renews an entry switched to auto-renewal after it was subscribed', async () => {
    const user = freshUser();
    const entry = await subscribed(user, false);
    expect((await t.call('PATCH', path(user, `/library/${entry.id}`), { as: user, body: { autoRenew: true } })).statusCode).toBe(200);
    clock = Date.parse(entry.expiresAt) - 10 * 60_000;
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['renewed']);
  });

  it('expires the entry at once when the CHF refuses the renewal, and records the refusal', async () => {
    const user = freshUser();
    t.chf.setBalance(user, 200);
    const entry = await subscribed(user, true);
    clock = Date.parse(entry.expiresAt) - 30 * 60_000;
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['refused']);
    expect(await entryOf(user, entry.id)).toMatchObject({ status: 'expired', expiresAt: entry.expiresAt });
    expect(t.chf.chargesOf(user)).toBe(1);
    const [expired, refused] = await t.activities(user);
    expect(refused).toMatchObject({ kind: 'renew', result: 'denied', actor: 'system', detail: { reason: 'QUOTA_LIMIT_REACHED' } });
    expect(expired).toMatchObject({ kind: 'expire', result: 'success', actor: 'system' });
    expect((await t.charges(user)).map((c) => [c.kind, c.outcome])).toEqual([
      ['expire', 'granted'],
      ['renew', 'denied'],
      ['subscribe', 'granted'],
    ]);
    expect(await scoreOf(user, entry.id)).toBeNull();
  });

  it('tries again later when the CHF is unavailable, and renews once it answers', async () => {
    const user = freshUser();
    const entry = await subscribed(user, true);
    clock = Date.parse(entry.expiresAt) - 30 * 60_000;
    t.chf.failNext(503, 1);
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['deferred']);
    expect(await entryOf(user, entry.id)).toEqual(entry);
    expect(await scoreOf(user, entry.id)).toBeGreaterThanOrEqual(clock + 5000);

    // Within the CHF's Retry-After the stored answer stands: the CHF is not asked again.
    clock += 30_000;
    const asked = t.chf.requests.length;
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['deferred']);
    expect(t.chf.requests.length).toBe(asked);
    await eventually(async () => {
      clock += 30_000;
      expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['renewed']);
    }, 10_000, 500);
    expect(t.chf.chargesOf(user)).toBe(2);
  });

  it('lets an entry of a withdrawn resource expire on time instead of renewing it', async () => {
    const user = freshUser();
    await t.addResource('r-withdrawn-later');
    const entry = await subscribed(user, true, 'r-withdrawn-later');
    expect((await t.call('DELETE', '/v1/resources/r-withdrawn-later', { as: 'sp' })).statusCode).toBe(204);
    clock = Date.parse(entry.expiresAt) - 30 * 60_000;
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['rescheduled']);
    expect((await entryOf(user, entry.id)).status).toBe('active');
    clock = Date.parse(entry.expiresAt);
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['expired']);
    expect(t.chf.chargesOf(user)).toBe(1);
  });
});

describe('expiry', () => {
  it('expires an entry that does not renew itself at its expiry, not before', async () => {
    const user = freshUser();
    const entry = await subscribed(user, false);
    const expiresAt = Date.parse(entry.expiresAt);
    expect(await scoreOf(user, entry.id)).toBe(expiresAt);
    clock = expiresAt - 1;
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual([]);
    clock = expiresAt;
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['expired']);
    expect((await entryOf(user, entry.id)).status).toBe('expired');
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'expire', actor: 'system', channel: 'system' });
    expect((await t.charges(user))[0]).toMatchObject({ kind: 'expire', amount: 0, mode: 'cdr' });
    expect(t.chf.chargesOf(user)).toBe(1);
    expect(await scoreOf(user, entry.id)).toBeNull();
  });

  it('drops entries that were cancelled and index members that name nothing', async () => {
    const user = freshUser();
    const entry = await subscribed(user, true);
    expect((await t.call('DELETE', path(user, `/library/${entry.id}`), { as: user })).statusCode).toBe(204);
    await t.ctx.services.redis.zadd(t.ctx.services.keys.expiryIndex, T0, JSON.stringify([user, 'le-never-written']));
    clock = Date.parse(entry.expiresAt);
    expect(outcomesFor(await sweeper().runOnce(), user).sort()).toEqual(['dropped', 'dropped']);
    expect((await entryOf(user, entry.id)).status).toBe('cancelled');
    expect(t.chf.chargesOf(user)).toBe(1);
  });

  it('files an entry renewed by hand under its new expiry', async () => {
    const user = freshUser();
    const entry = await subscribed(user, false);
    clock = T0 + DAY;
    const renewed = (await t.call('POST', path(user, `/library/${entry.id}/renew`), { as: user })).json().entry as LibraryEntry;
    clock = Date.parse(entry.expiresAt);
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['rescheduled']);
    expect(await scoreOf(user, entry.id)).toBe(Date.parse(renewed.expiresAt));
    expect((await entryOf(user, entry.id)).status).toBe('active');
  });
});

describe('one instance per entry', () => {
  it('leaves an entry whose lock another instance holds, and renews it once free', async () => {
    const user = freshUser();
    const entry = await subscribed(user, true);
    const lock = t.ctx.services.keys.user(user).lock(`sweep:${entry.id}`);
    await t.ctx.services.redis.set(lock, 'another-instance', 'PX', 60_000);
    clock = Date.parse(entry.expiresAt) - 30 * 60_000;
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['busy']);
    expect(t.chf.chargesOf(user)).toBe(1);
    await t.ctx.services.redis.del(lock);
    expect(outcomesFor(await sweeper().runOnce(), user)).toEqual(['renewed']);
    expect(t.chf.chargesOf(user)).toBe(2);
  });

  it('renews once when two server instances sweep the same store at the same time', async () => {
    const other: TestContext = await createTestContext({
      env: { CMR_REDIS_NAMESPACE: t.ctx.config.redis.namespace, CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: t.chf.url, CMR_RENEW_AHEAD_SEC: '3600' },
      services: { now, management: { background: false }, charging: { background: false } },
    });
    try {
      const users = [freshUser(), freshUser(), freshUser()];
      const entries = await Promise.all(users.map((user) => subscribed(user, true)));
      clock = Date.parse(entries[0]!.expiresAt) - 30 * 60_000;
      const [a, b] = await Promise.all([sweeper().runOnce(), other.services.management.sweeper.runOnce()]);
      for (const [i, user] of users.entries()) {
        expect(t.chf.chargesOf(user), user).toBe(2);
        expect([...outcomesFor(a, user), ...outcomesFor(b, user)]).toContain('renewed');
        expect((await entryOf(user, entries[i]!.id)).expiresAt).toBe(new Date(Date.parse(entries[i]!.expiresAt) + 30 * DAY).toISOString());
        expect((await t.charges(user)).filter((c) => c.kind === 'renew')).toHaveLength(1);
      }
    } finally {
      await other.app.close();
      await other.services.close();
    }
  });
});

describe('the background sweeper', () => {
  it('is started by the wiring and expires entries without being asked', async () => {
    const bg = await managementTest({ services: { now, management: { background: true } }, env: { CMR_SWEEP_INTERVAL_MS: '100' } });
    try {
      await bg.addResource('r-1');
      const user = 'tel:+15551239000' as Identity;
      bg.fund(user);
      clock = T0;
      const entry = (await bg.call('POST', path(user, '/library'), { as: user, body: { resourceId: 'r-1' } })).json().entry as LibraryEntry;
      clock = Date.parse(entry.expiresAt) + 1;
      await eventually(async () => expect((await bg.ctx.services.users.library(user).get(entry.id))!.status).toBe('expired'));
    } finally {
      await bg.close();
    }
  });
});
