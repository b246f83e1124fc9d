/**
 * Preferences over REST on the real Redis: the whole document, the default, presentation rules,
 * filter rules and privacy; canonical identities, checked references, and refusals that change
 * nothing. Presentation previews show that what is stored is what calls use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import type { LibraryEntry, Preferences } from '../../../src/domain/types.js';
import { BOB, managementTest, path, type ManagementTest } from '../../support/management.js';

let t: ManagementTest;
beforeAll(async () => {
  t = await managementTest();
  for (const id of ['r-1', 'r-2', 'r-3']) await t.addResource(id);
  const box = { id: 'b-cat', name: 'Catalog', resourceIds: ['r-3'], mode: 'sequential', price: 100, currency: 'EUR', validityDays: 30 };
  expect((await t.call('POST', '/v1/boxes', { as: 'sp', body: box })).statusCode).toBe(201);
});
afterAll(async () => t.close());

let userCounter = 400;
/** A user of its own holding r-1 and r-2. */
async function freshUser(): Promise<Identity> {
  const user = `tel:+1555123${String(userCounter++).padStart(4, '0')}` as Identity;
  t.fund(user);
  for (const resourceId of ['r-1', 'r-2']) {
    expect((await t.call('POST', path(user, '/library'), { as: user, body: { resourceId } })).statusCode).toBe(201);
  }
  return user;
}

const prefsOf = async (user: Identity) => (await t.call('GET', path(user, '/preferences'), { as: user })).json<Preferences>();
const preview = async (user: Identity, caller: string, at?: string) =>
  (await t.call('GET', path(user, `/presentation?caller=${encodeURIComponent(caller)}${at ? `&at=${encodeURIComponent(at)}` : ''}`), { as: user })).json();

function document(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    timezone: 'Europe/Paris',
    default: { resourceId: 'r-1' },
    rules: [
      {
        id: 'night',
        priority: 5,
        enabled: true,
        conditions: { callers: ['sip:+1-555-123-0002@IMS.example.net;user=phone'], timeOfDay: { from: '22:00', to: '07:00' }, daysOfWeek: [7, 1], dateRange: { from: '2024-01-01', to: '2030-12-31' } },
        present: { resourceId: 'r-2' },
      },
    ],
    filters: [{ id: 'no-mature', ratings: ['mature'], owners: ['SIP:dave@Example.NET:5060'] }],
    privacy: { copy: 'contacts', contacts: ['tel:+1-555-123-0002', 'tel:+15551230002'], blocked: ['sip:eve@example.net'], gifts: 'nobody' },
    ...overrides,
  };
}

describe('the whole document', () => {
  it('starts from the defaults', async () => {
    const user = await freshUser();
    expect(await prefsOf(user)).toEqual({ timezone: 'UTC', default: null, rules: [], filters: [], privacy: { copy: 'everyone', contacts: [], blocked: [], gifts: 'everyone' } });
  });

  it('is stored canonical, charged as a free change, recorded, and used by calls', async () => {
    const user = await freshUser();
    const res = await t.call('PUT', path(user, '/preferences'), { as: user, body: document() });
    expect(res.statusCode, res.body).toBe(200);
    const expected: Preferences = {
      timezone: 'Europe/Paris',
      default: { resourceId: 'r-1' },
      rules: [
        {
          id: 'night',
          priority: 5,
          enabled: true,
          conditions: { callers: [BOB], timeOfDay: { from: '22:00', to: '07:00' }, daysOfWeek: [1, 7], dateRange: { from: '2024-01-01', to: '2030-12-31' } },
          present: { resourceId: 'r-2' },
        },
      ],
      filters: [{ id: 'no-mature', ratings: ['mature'], owners: ['sip:dave@example.net' as Identity] }],
      privacy: { copy: 'contacts', contacts: [BOB], blocked: ['sip:eve@example.net' as Identity], gifts: 'nobody' },
    };
    expect(res.json()).toEqual({ preferences: expected, charge: { id: expect.stringMatching(/^ch-/), amount: 0, currency: 'XXX' } });
    expect(await prefsOf(user)).toEqual(expected);
    expect((await t.charges(user))[0]).toMatchObject({ kind: 'preferences', amount: 0, currency: 'XXX', mode: 'cdr', outcome: 'granted' });
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'preferences', result: 'success', actor: user });

    // Sunday 2025-06-01 23:30 in Paris is 21:30 UTC: the night rule applies to Bob, the default to others.
    expect((await preview(user, BOB, '2025-06-01T21:30:00Z')).presented).toEqual([expect.objectContaining({ resourceId: 'r-2' })]);
    expect((await preview(user, BOB, '2025-06-01T12:00:00Z')).presented).toEqual([expect.objectContaining({ resourceId: 'r-1' })]);
    expect((await preview(user, 'sip:eve@example.net')).source).toMatchObject({ kind: 'none', reason: 'blocked' });
  });

  const rule = (changes: Record<string, unknown>) => ({ id: 'x', priority: 1, enabled: true, conditions: {}, present: { resourceId: 'r-1' }, ...changes });
  it.each([
    ['an unknown time zone', { timezone: 'Mars/Olympus_Mons' }, '/timezone'],
    ['a time past 23:59', { rules: [rule({ conditions: { timeOfDay: { from: '24:00', to: '07:00' } } })] }, '/timeOfDay/from'],
    ['a time without two digits', { rules: [rule({ conditions: { timeOfDay: { from: '7:00', to: '09:00' } } })] }, 'timeOfDay/from'],
    ['weekday 0', { rules: [rule({ conditions: { daysOfWeek: [0] } })] }, 'daysOfWeek/0'],
    ['weekday 8', { rules: [rule({ conditions: { daysOfWeek: [8] } })] }, 'daysOfWeek/0'],
    ['a date range ending before it starts', { rules: [rule({ conditions: { dateRange: { from: '2025-02-01', to: '2025-01-31' } } })] }, '/rules/0/conditions/dateRange'],
    ['a date that does not exist', { rules: [rule({ conditions: { dateRange: { from: '2025-02-30', to: '2025-03-01' } } })] }, 'dateRange/from'],
    ['a malformed caller', { rules: [rule({ conditions: { callers: ['bob'] } })] }, '/rules/0/conditions/callers/0'],
    ['a malformed contact', { privacy: { copy: 'everyone', contacts: ['tel:555'], blocked: [], gifts: 'everyone' } }, '/privacy/contacts/0'],
    ['a malformed blocked identity', { privacy: { copy: 'everyone', contacts: [], blocked: ['eve'], gifts: 'everyone' } }, '/privacy/blocked/0'],
    ['a malformed owner', { filters: [{ id: 'f', owners: ['mailto:x@y'] }] }, '/filters/0/owners/0'],
    ['a filter with no criterion', { filters: [{ id: 'f' }] }, '/filters/0'],
    ['two rules with one id', { rules: [rule({}), rule({ priority: 2 })] }, 'rule id x'],
    ['a rule presenting a resource not held', { rules: [rule({ present: { resourceId: 'r-3' } })] }, '/rules/0/present'],
    ['a default presenting a resource not in the catalog', { default: { resourceId: 'r-none' } }, '/default'],
    ['a default presenting a catalog box not subscribed', { default: { boxId: 'b-cat' } }, '/default'],
    ['a default presenting an unknown box', { default: { boxId: 'pb-none' } }, '/default'],
    ['a target naming both a resource and a box', { default: { resourceId: 'r-1', boxId: 'b-cat' } }, 'default'],
    ['a priority of the wrong type', { rules: [rule({ priority: 'high' })] }, 'priority'],
    ['an unknown audience', { privacy: { copy: 'friends', contacts: [], blocked: [], gifts: 'everyone' } }, '/privacy/copy must be one of "everyone", "contacts", "nobody"'],
    ['an unknown field', { theme: 'dark' }, ''],
    ['a missing part', { filters: undefined }, 'filters'],
  ])('refuses %s (400) and changes nothing', async (_label, changes, where) => {
    const user = await freshUser();
    const before = await t.stateOf(user);
    const res = await t.call('PUT', path(user, '/preferences'), { as: user, body: document(changes) });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('validation-failed');
    expect(res.json().detail).toContain(where);
    expect(await t.stateOf(user)).toEqual(before);
  });
});

describe('the default', () => {
  it('takes a held resource, a personal box, a subscribed catalog box, or null', async () => {
    const user = await freshUser();
    const put = (body: unknown) => t.call('PUT', path(user, '/preferences/default'), { as: user, body, headers: { 'content-type': 'application/json' } });
    const res = await put({ resourceId: 'r-2' });
    expect(res.json()).toEqual({ default: { resourceId: 'r-2' }, charge: expect.objectContaining({ amount: 0 }) });
    expect((await prefsOf(user)).default).toEqual({ resourceId: 'r-2' });

    const { box } = (await t.call('POST', path(user, '/boxes'), { as: user, body: { name: 'P', resourceIds: ['r-1'], mode: 'random' } })).json();
    expect((await put({ boxId: box.id })).statusCode).toBe(200);

    expect((await put({ boxId: 'b-cat' })).statusCode).toBe(400);
    expect((await t.call('POST', path(user, '/box-subscriptions'), { as: user, body: { boxId: 'b-cat' } })).statusCode).toBe(201);
    expect((await put({ boxId: 'b-cat' })).statusCode).toBe(200);
    expect((await preview(user, BOB)).presented).toEqual([expect.objectContaining({ resourceId: 'r-3' })]);

    const cleared = await put('null');
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().default).toBeNull();
    expect((await prefsOf(user)).default).toBeNull();
    expect((await put({})).statusCode).toBe(400);
  });

  it('refuses a resource not held, and a box of another user (400), changing nothing', async () => {
    const user = await freshUser();
    const other = await freshUser();
    const { box } = (await t.call('POST', path(other, '/boxes'), { as: other, body: { name: 'O', resourceIds: ['r-1'], mode: 'random' } })).json();
    const before = await t.stateOf(user);
    expect((await t.call('PUT', path(user, '/preferences/default'), { as: user, body: { resourceId: 'r-3' } })).statusCode).toBe(400);
    expect((await t.call('PUT', path(user, '/preferences/default'), { as: user, body: { boxId: box.id } })).statusCode).toBe(400);
    expect(await t.stateOf(user)).toEqual(before);
  });

  it('refuses a request without a body (400): clearing the default takes an explicit null', async () => {
    const user = await freshUser();
    expect((await t.call('PUT', path(user, '/preferences/default'), { as: user, body: { resourceId: 'r-2' } })).statusCode).toBe(200);
    const before = await t.stateOf(user);
    const res = await t.call('PUT', path(user, '/preferences/default'), { as: user });
    expect({ status: res.statusCode, code: res.json().code }).toEqual({ status: 400, code: 'validation-failed' });
    expect(await t.stateOf(user)).toEqual(before);
  });
});

describe('the time zone', () => {
  const setZone = (user: Identity, body: unknown) => t.call('PUT', path(user, '/preferences/timezone'), { as: user, body });

  it('is set alone, by its IANA name (stored as the zone names itself), and rules are read in it', async () => {
    const user = await freshUser();
    const night = { id: 'night', priority: 1, enabled: true, conditions: { timeOfDay: { from: '22:00', to: '07:00' } }, present: { resourceId: 'r-2' } };
    expect((await t.call('PUT', path(user, '/preferences'), { as: user, body: document({ timezone: 'UTC', rules: [night] }) })).statusCode).toBe(200);
    // 23:30 UTC is night in UTC, and 08:30 the next morning in Tokyo.
    const at = '2025-06-01T23:30:00Z';
    expect((await preview(user, BOB, at)).presented).toEqual([expect.objectContaining({ resourceId: 'r-2' })]);

    const res = await setZone(user, { timezone: 'asia/tokyo' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ timezone: 'Asia/Tokyo', charge: expect.objectContaining({ amount: 0 }) });
    const stored = await prefsOf(user);
    expect(stored).toMatchObject({ timezone: 'Asia/Tokyo', rules: [expect.objectContaining({ id: 'night' })], default: { resourceId: 'r-1' } });
    expect(await preview(user, BOB, at)).toMatchObject({ timezone: 'Asia/Tokyo', presented: [expect.objectContaining({ resourceId: 'r-1' })] });
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'preferences', result: 'success', detail: { action: 'timezone', timezone: 'Asia/Tokyo' } });
  });

  it.each([
    ['an unknown zone', { timezone: 'Mars/Olympus_Mons' }, '/timezone is not an IANA time zone: Mars/Olympus_Mons'],
    ['an offset instead of a zone name', { timezone: '+02:00' }, '/timezone is not an IANA time zone'],
    ['an empty name', { timezone: '' }, 'timezone'],
    ['no body', undefined, 'body'],
    ['another field', { timezone: 'UTC', zone: 'UTC' }, ''],
  ])('refuses %s (400), changing nothing', async (_label, body, detail) => {
    const user = await freshUser();
    const before = await t.stateOf(user);
    const res = await setZone(user, body);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().code).toBe('validation-failed');
    expect(res.json().detail).toContain(detail);
    expect(await t.stateOf(user)).toEqual(before);
  });
});

describe('presentation rules', () => {
  it('are added, listed, replaced and deleted', async () => {
    const user = await freshUser();
    const created = await t.call('POST', path(user, '/preferences/rules'), {
      as: user,
      body: { priority: 1, conditions: { callers: [BOB] }, present: { resourceId: 'r-2' } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { rule, charge } = created.json();
    expect(rule).toEqual({ id: expect.stringMatching(/^ru-/), priority: 1, enabled: true, conditions: { callers: [BOB] }, present: { resourceId: 'r-2' } });
    expect(charge).toMatchObject({ amount: 0 });
    expect((await t.call('GET', path(user, '/preferences/rules'), { as: user })).json()).toEqual([rule]);
    expect((await preview(user, BOB)).source).toEqual({ kind: 'rule', ruleId: rule.id });

    const replaced = await t.call('PUT', path(user, `/preferences/rules/${rule.id}`), {
      as: user,
      body: { priority: 3, enabled: false, conditions: { daysOfWeek: [6, 7] }, present: { resourceId: 'r-1' } },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json().rule).toEqual({ id: rule.id, priority: 3, enabled: false, conditions: { daysOfWeek: [6, 7] }, present: { resourceId: 'r-1' } });
    expect((await prefsOf(user)).rules).toEqual([replaced.json().rule]);

    expect((await t.call('DELETE', path(user, `/preferences/rules/${rule.id}`), { as: user })).statusCode).toBe(204);
    expect((await prefsOf(user)).rules).toEqual([]);
  });

  it('takes a chosen id once (409 for a second), and replays a repeated key', async () => {
    const user = await freshUser();
    const body = { id: 'mine', priority: 1, conditions: {}, present: { resourceId: 'r-1' } };
    const first = await t.call('POST', path(user, '/preferences/rules'), { as: user, body, key: 'rule-1' });
    const replay = await t.call('POST', path(user, '/preferences/rules'), { as: user, body, key: 'rule-1' });
    expect([first.statusCode, replay.statusCode]).toEqual([201, 201]);
    expect(replay.json()).toEqual(first.json());
    expect((await t.call('POST', path(user, '/preferences/rules'), { as: user, body })).statusCode).toBe(409);
    expect((await prefsOf(user)).rules).toHaveLength(1);
  });

  it('refuses unknown rules (404) and bad rules (400), changing nothing', async () => {
    const user = await freshUser();
    const before = await t.stateOf(user);
    const good = { priority: 1, enabled: true, conditions: {}, present: { resourceId: 'r-1' } };
    expect((await t.call('PUT', path(user, '/preferences/rules/ru-none'), { as: user, body: good })).statusCode).toBe(404);
    expect((await t.call('DELETE', path(user, '/preferences/rules/ru-none'), { as: user })).statusCode).toBe(404);
    for (const body of [
      { ...good, present: { resourceId: 'r-3' } },
      { ...good, conditions: { timeOfDay: { from: '10:00' } } },
      { ...good, conditions: { callers: ['not an identity'] } },
      { ...good, conditions: { weekdays: [1] } },
      { ...good, priority: -1 },
    ]) {
      const res = await t.call('POST', path(user, '/preferences/rules'), { as: user, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(await t.stateOf(user)).toEqual(before);
  });

  it('keeps a stored reference that no longer resolves, but refuses it in a new rule', async () => {
    const user = await freshUser();
    const rule = (await t.call('POST', path(user, '/preferences/rules'), { as: user, body: { priority: 1, conditions: {}, present: { resourceId: 'r-2' } } })).json().rule;
    const entry = ((await t.call('GET', path(user, '/library'), { as: user })).json<LibraryEntry[]>()).find((e) => e.resourceId === 'r-2')!;
    expect((await t.call('DELETE', path(user, `/library/${entry.id}`), { as: user })).statusCode).toBe(204);

    expect((await t.call('POST', path(user, '/preferences/filters'), { as: user, body: { categories: ['rock'] } })).statusCode).toBe(201);
    const whole = await prefsOf(user);
    expect((await t.call('PUT', path(user, '/preferences'), { as: user, body: whole })).statusCode).toBe(200);
    expect((await t.call('PUT', path(user, `/preferences/rules/${rule.id}`), { as: user, body: { priority: 2, enabled: true, conditions: {}, present: { resourceId: 'r-2' } } })).statusCode).toBe(200);
    const fresh = await t.call('POST', path(user, '/preferences/rules'), { as: user, body: { priority: 1, conditions: {}, present: { resourceId: 'r-3' } } });
    expect(fresh.statusCode).toBe(400);
  });
});

describe('filter rules', () => {
  it('are added, listed, replaced and deleted, and filter what the user is presented', async () => {
    const user = await freshUser();
    const caller = await freshUser();
    expect((await t.call('PUT', path(caller, '/preferences/default'), { as: caller, body: { resourceId: 'r-1' } })).statusCode).toBe(200);
    expect((await preview(caller, user)).presented).toHaveLength(1);

    const created = await t.call('POST', path(user, '/preferences/filters'), { as: user, body: { providers: ['acme-music'], owners: [caller] } });
    expect(created.statusCode).toBe(201);
    const { filter } = created.json();
    expect(filter).toEqual({ id: expect.stringMatching(/^fi-/), providers: ['acme-music'], owners: [caller] });
    expect((await t.call('GET', path(user, '/preferences/filters'), { as: user })).json()).toEqual([filter]);
    expect((await preview(caller, user)).presented).toEqual([]);

    const replaced = await t.call('PUT', path(user, `/preferences/filters/${filter.id}`), { as: user, body: { ratings: ['mature'] } });
    expect(replaced.json().filter).toEqual({ id: filter.id, ratings: ['mature'] });
    expect((await preview(caller, user)).presented).toHaveLength(1);

    expect((await t.call('DELETE', path(user, `/preferences/filters/${filter.id}`), { as: user })).statusCode).toBe(204);
    expect((await prefsOf(user)).filters).toEqual([]);
  });

  it('refuses empty, malformed and unknown filters, changing nothing', async () => {
    const user = await freshUser();
    const before = await t.stateOf(user);
    for (const body of [{}, { ratings: [] }, { ratings: ['adult'] }, { types: ['song'] }, { owners: ['x'] }, { categories: ['pop'], extra: 1 }]) {
      expect((await t.call('POST', path(user, '/preferences/filters'), { as: user, body })).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await t.call('PUT', path(user, '/preferences/filters/fi-none'), { as: user, body: { ratings: ['teen'] } })).statusCode).toBe(404);
    expect((await t.call('DELETE', path(user, '/preferences/filters/fi-none'), { as: user })).statusCode).toBe(404);
    expect(await t.stateOf(user)).toEqual(before);
  });
});

describe('privacy', () => {
  it('is stored canonical as its own kind of activity', async () => {
    const user = await freshUser();
    const res = await t.call('PUT', path(user, '/privacy'), { as: user, body: { copy: 'nobody', contacts: ['sip:Bob@Example.net'], blocked: ['tel:+1-555-000-1111'], gifts: 'contacts' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().privacy).toEqual({ copy: 'nobody', contacts: ['sip:Bob@example.net'], blocked: ['tel:+15550001111'], gifts: 'contacts' });
    expect((await prefsOf(user)).privacy).toEqual(res.json().privacy);
    expect((await t.activities(user))[0]).toMatchObject({ kind: 'privacy' });
  });

  it('refuses malformed identities and audiences, changing nothing', async () => {
    const user = await freshUser();
    const before = await t.stateOf(user);
    for (const body of [
      { copy: 'everyone', contacts: ['bob'], blocked: [], gifts: 'everyone' },
      { copy: 'everyone', contacts: [], blocked: ['sip:@example.net'], gifts: 'everyone' },
      { copy: 'some', contacts: [], blocked: [], gifts: 'everyone' },
      { copy: 'everyone', contacts: [], gifts: 'everyone' },
      { copy: 'everyone', contacts: [], blocked: [], gifts: 'everyone', public: true },
    ]) {
      expect((await t.call('PUT', path(user, '/privacy'), { as: user, body })).statusCode, JSON.stringify(body)).toBe(400);
    }
    expect(await t.stateOf(user)).toEqual(before);
  });
});
