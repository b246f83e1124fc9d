/**
 * Gifts over REST on the real Redis: the giver pays the gift price at the HTTP/2 test CHF, the
 * receiver's privacy decides, and the receiver's entry arrives through the giver's outbox.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import type { LibraryEntry } from '../../../src/domain/types.js';
import { eventually } from '../../support/eventually.js';
import { managementTest, path, type ManagementTest } from '../../support/management.js';

let t: ManagementTest;
beforeAll(async () => {
  t = await managementTest();
  await t.addResource('r-1', { prices: { subscribe: 199, renew: 149, copy: 99, gift: 250, currency: 'EUR' } });
  await t.addResource('r-gone', { status: 'withdrawn' });
});
afterAll(async () => t.close());
afterEach(() => t.chf.clearSwitches());

let userCounter = 300;
function freshUser(): Identity {
  const user = `tel:+1555123${String(userCounter++).padStart(4, '0')}` as Identity;
  t.fund(user);
  return user;
}

async function setPrivacy(user: Identity, privacy: Record<string, unknown>): Promise<void> {
  const res = await t.call('PUT', path(user, '/privacy'), { as: user, body: { copy: 'everyone', contacts: [], blocked: [], gifts: 'everyone', ...privacy } });
  expect(res.statusCode, res.body).toBe(200);
}

const receiverLibrary = async (user: Identity) => (await t.call('GET', path(user, '/library'), { as: user })).json<LibraryEntry[]>();

describe('a gift', () => {
  it('charges the giver the gift price and gives the receiver an entry from the giver', async () => {
    const giver = freshUser();
    const receiver = freshUser();
    const res = await t.call('POST', path(giver, '/gifts'), { as: giver, body: { to: receiver, resourceId: 'r-1' } });
    expect(res.statusCode, res.body).toBe(201);
    const { to, entry, charge } = res.json();
    expect(to).toBe(receiver);
    expect(entry).toMatchObject({ resourceId: 'r-1', origin: 'gift', from: giver, status: 'active', autoRenew: false });
    expect(charge).toMatchObject({ amount: 250, currency: 'EUR' });
    expect(t.chf.chargesOf(giver)).toBe(1);
    expect(t.chf.chargesOf(receiver)).toBe(0);
    await eventually(async () => expect(await receiverLibrary(receiver)).toEqual([entry]));
    expect(await receiverLibrary(giver)).toEqual([]);
    expect((await t.charges(giver))[0]).toMatchObject({ kind: 'gift', subscriber: giver, amount: 250 });
    const [given] = await t.activities(giver);
    expect(given).toMatchObject({ kind: 'gift', actor: giver, subject: receiver, result: 'success' });
    await eventually(async () => expect((await t.activities(receiver)).map((a) => a.id)).toEqual([given!.id]));
  });

  it('accepts the receiver in any identity form and stores it canonical', async () => {
    const giver = freshUser();
    const receiver = 'tel:+15551239876' as Identity;
    const res = await t.call('POST', path(giver, '/gifts'), { as: giver, body: { to: 'sip:+1-555-123-9876@ims.example.net;user=phone', resourceId: 'r-1' } });
    expect(res.statusCode).toBe(201);
    expect(res.json().to).toBe(receiver);
    await eventually(async () => expect(await receiverLibrary(receiver)).toHaveLength(1));
  });

  it('refuses a receiver who already holds the resource (409)', async () => {
    const giver = freshUser();
    const receiver = freshUser();
    expect((await t.call('POST', path(receiver, '/library'), { as: receiver, body: { resourceId: 'r-1' } })).statusCode).toBe(201);
    const before = await t.stateOf(giver);
    const res = await t.call('POST', path(giver, '/gifts'), { as: giver, body: { to: receiver, resourceId: 'r-1' } });
    expect(res.statusCode).toBe(409);
    expect(await t.stateOf(giver)).toEqual(before);
  });
});

describe("the receiver's gifts privacy", () => {
  /** A giver and a receiver whose privacy is `privacy`, with GIVER standing for the giver. */
  async function pair(privacy: Record<string, unknown>): Promise<{ giver: Identity; receiver: Identity }> {
    const giver = freshUser();
    const receiver = freshUser();
    const withGiver = (value: unknown) => (Array.isArray(value) ? value.map((x) => (x === 'GIVER' ? giver : x)) : value);
    await setPrivacy(receiver, Object.fromEntries(Object.entries(privacy).map(([k, v]) => [k, withGiver(v)])));
    return { giver, receiver };
  }

  it.each([
    ['nobody', { gifts: 'nobody' }],
    ['contacts, giver not a contact', { gifts: 'contacts', contacts: ['tel:+15550000000'] }],
    ['everyone, giver blocked', { gifts: 'everyone', blocked: ['GIVER'] }],
    ['contacts, giver a contact but blocked', { gifts: 'contacts', contacts: ['GIVER'], blocked: ['GIVER'] }],
  ])('refuses the gift (403) when %s, changing nothing, and records the refusal for the giver', async (_label, privacy) => {
    const { giver, receiver } = await pair(privacy);
    const giverBefore = await t.stateOf(giver);
    const receiverBefore = await t.stateOf(receiver);
    const res = await t.call('POST', path(giver, '/gifts'), { as: giver, body: { to: receiver, resourceId: 'r-1' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('privacy-forbids');
    expect(await t.stateOf(giver)).toEqual(giverBefore);
    expect(await t.stateOf(receiver)).toEqual(receiverBefore);
    const [refusal] = await t.activities(giver);
    expect(refusal).toMatchObject({ kind: 'gift', actor: giver, subject: giver, result: 'denied', chargeId: null, detail: { code: 'privacy-forbids', to: receiver } });
  });

  it.each([
    ['contacts, giver a contact', { gifts: 'contacts', contacts: ['GIVER'] }],
    ['everyone', { gifts: 'everyone' }],
  ])('accepts the gift when %s', async (_label, privacy) => {
    const { giver, receiver } = await pair(privacy);
    const res = await t.call('POST', path(giver, '/gifts'), { as: giver, body: { to: receiver, resourceId: 'r-1' } });
    expect(res.statusCode).toBe(201);
    await eventually(async () => expect(await receiverLibrary(receiver)).toHaveLength(1));
  });
});

describe('bad gifts', () => {
  it('refuses malformed receivers, oneself, unknown and withdrawn resources, and bad bodies, changing nothing', async () => {
    const giver = freshUser();
    const before = await t.stateOf(giver);
    const cases: Array<[unknown, number, string]> = [
      [{ to: 'bob', resourceId: 'r-1' }, 400, 'bad-identity'],
      [{ to: 'tel:+1 555', resourceId: 'r-1' }, 400, 'bad-identity'],
      [{ to: giver, resourceId: 'r-1' }, 400, 'validation-failed'],
      [{ to: 'tel:+15551239999', resourceId: 'r-none' }, 404, 'not-found'],
      [{ to: 'tel:+15551239999', resourceId: 'r-gone' }, 409, 'conflict'],
      [{ to: 'tel:+15551239999' }, 400, 'validation-failed'],
      [{ to: { uri: 'tel:+15551239999' }, resourceId: 'r-1' }, 400, 'validation-failed'],
      [{ to: 'tel:+15551239999', resourceId: 'r-1', from: 'tel:+15550000001' }, 400, 'validation-failed'],
    ];
    for (const [body, status, code] of cases) {
      const res = await t.call('POST', path(giver, '/gifts'), { as: giver, body });
      expect({ body, status: res.statusCode, code: res.json().code }).toEqual({ body, status, code });
    }
    expect(await t.stateOf(giver)).toEqual(before);
    expect(await receiverLibrary('tel:+15551239999' as Identity)).toEqual([]);
  });

  it('applies nothing when the giver is refused by the CHF (402)', async () => {
    const giver = freshUser();
    const receiver = freshUser();
    t.chf.denyNext('QUOTA_LIMIT_REACHED', { times: 1 });
    const res = await t.call('POST', path(giver, '/gifts'), { as: giver, body: { to: receiver, resourceId: 'r-1' } });
    expect(res.statusCode).toBe(402);
    expect(await receiverLibrary(receiver)).toEqual([]);
    expect(t.chf.chargesOf(giver)).toBe(0);
  });

  it('gives once for a repeated idempotency key', async () => {
    const giver = freshUser();
    const receiver = freshUser();
    const body = { to: receiver, resourceId: 'r-1' };
    const first = await t.call('POST', path(giver, '/gifts'), { as: giver, body, key: 'gift-1' });
    const again = await t.call('POST', path(giver, '/gifts'), { as: giver, body, key: 'gift-1' });
    expect([first.statusCode, again.statusCode]).toEqual([201, 201]);
    expect(again.json()).toEqual(first.json());
    expect(t.chf.chargesOf(giver)).toBe(1);
    await eventually(async () => expect(await receiverLibrary(receiver)).toHaveLength(1));
  });
});
