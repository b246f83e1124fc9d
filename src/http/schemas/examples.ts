/**
 * Examples of the API's bodies for the OpenAPI document, drawn from the demo of `npm run seed --
 * --demo` (alice tel:+15551230001, bob tel:+15551230002, resource r-summer, box box-chill), so
 * what `/docs` shows can be sent as it is to a seeded server. Redocly's lint checks each against
 * its schema.
 */
const ALICE = 'tel:+15551230001';
const BOB = 'tel:+15551230002';
const AT = '2026-12-02T09:30:00.000Z';
const EXPIRES = '2027-01-01T09:30:00.000Z';

export const PRICES = { subscribe: 199, renew: 159, copy: 100, gift: 199, currency: 'EUR' };

export const RESOURCE_INPUT = {
  id: 'r-summer',
  title: 'Summer Breeze',
  type: 'audio',
  contentUri: 'https://media.example.net/tones/summer-breeze.mp3',
  mimeType: 'audio/mpeg',
  durationSec: 30,
  categories: ['pop'],
  rating: 'general',
  provider: 'acme-music',
  copyable: true,
  validityDays: 30,
  prices: PRICES,
};
const { id: _resourceId, ...resourceFields } = RESOURCE_INPUT;
export const RESOURCE_REPLACE = { ...resourceFields, title: 'Summer Breeze (radio edit)', durationSec: 25 };
export const RESOURCE = { ...RESOURCE_INPUT, status: 'available', createdAt: AT, updatedAt: AT };

export const CLIENT_INPUT = { id: 'acme-handset', name: 'ACME handset', enabled: true, minVersion: '2.0.0' };
export const CLIENT_REPLACE = { name: 'ACME handset', enabled: true, minVersion: '2.1.0' };
export const CLIENT = { ...CLIENT_INPUT, createdAt: AT, updatedAt: AT };

export const CHARGE_VIEW = { id: 'ch-01JBX7Q2M4SUMMER', amount: 199, currency: 'EUR' };
export const FREE_CHARGE_VIEW = { id: 'ch-01JBX7Q2M4CHANGE', amount: 0, currency: 'XXX' };

export const LIBRARY_ENTRY = {
  id: 'le-01JBX7Q2M4-1',
  resourceId: 'r-summer',
  origin: 'subscription',
  acquiredAt: AT,
  expiresAt: EXPIRES,
  autoRenew: true,
  status: 'active',
  chargeId: CHARGE_VIEW.id,
};
export const BOX_ENTRY = { ...LIBRARY_ENTRY, id: 'le-01JBX7Q2M5-1', resourceId: 'r-jazz', origin: 'box', boxId: 'box-chill', autoRenew: false };

export const CATALOG_BOX_INPUT = { id: 'box-chill', name: 'Chill mix', resourceIds: ['r-summer', 'r-jazz'], mode: 'random', price: 299, currency: 'EUR', validityDays: 30 };
const { id: _boxId, ...catalogBoxFields } = CATALOG_BOX_INPUT;
export const CATALOG_BOX_REPLACE = { ...catalogBoxFields, price: 249 };
export const CATALOG_BOX = { ...CATALOG_BOX_INPUT, createdAt: AT, updatedAt: AT };
export const PERSONAL_BOX_INPUT = { name: 'Evenings', resourceIds: ['r-summer', 'r-jazz'], mode: 'sequential' };
export const PERSONAL_BOX = { id: 'pb-01JBX7Q2M6', ...PERSONAL_BOX_INPUT, owner: ALICE, createdAt: AT, updatedAt: AT };

export const PRIVACY = { copy: 'contacts', contacts: [BOB], blocked: [], gifts: 'everyone' };
export const RULE = { id: 'rule-bob', priority: 1, enabled: true, conditions: { callers: [BOB] }, present: { resourceId: 'r-jazz' } };
export const RULE_INPUT = { priority: 5, conditions: { timeOfDay: { from: '22:00', to: '07:00' }, daysOfWeek: [1, 2, 3, 4, 5] }, present: { boxId: 'box-chill' } };
const { id: _ruleId, ...ruleFields } = RULE;
export const RULE_REPLACE = { ...ruleFields, priority: 2 };
export const FILTER = { id: 'filter-mature', ratings: ['mature'] };
export const FILTER_INPUT = { categories: ['rock'], providers: ['stone-records'] };
export const PREFERENCES = { timezone: 'Europe/Paris', default: { resourceId: 'r-summer' }, rules: [RULE], filters: [FILTER], privacy: PRIVACY };

export const COPY_ONLINE = { mode: 'online', peer: BOB, client: { id: 'acme-handset', version: '2.1.0' }, resourceIds: ['r-sunset'] };
export const COPY_OFFLINE = { mode: 'offline', from: BOB, resourceIds: ['r-sunset'] };
export const COPY_RESULT = {
  result: 'copied',
  entries: [{ resourceId: 'r-sunset', libraryEntryId: 'le-01JBX7Q2M7-1', expiresAt: EXPIRES }],
  charge: { id: 'ch-01JBX7Q2M7COPY', amount: 150, currency: 'EUR' },
};

const PRESENTED = { resourceId: 'r-jazz', contentUri: 'https://media.example.net/tones/late-night-jazz.mp3' };
export const PRESENTED_RESOURCE = PRESENTED;
export const PRESENTING_SESSION = {
  callId: 'a84b4c76e66710@pc33.example.net',
  fromTag: '1928301774',
  caller: BOB,
  called: ALICE,
  toCaller: [PRESENTED],
  toCalled: [{ resourceId: 'r-sunset', contentUri: 'https://media.example.net/clips/sunset.mp4' }],
  state: 'confirmed',
  startedAt: AT,
  answeredAt: '2026-12-02T09:30:07.000Z',
};
export const PRESENTATION_PREVIEW = { owner: ALICE, caller: BOB, at: AT, timezone: 'Europe/Paris', presented: [PRESENTED], source: { kind: 'rule', ruleId: 'rule-bob' } };

export const CHARGE_RECORD = {
  id: CHARGE_VIEW.id,
  at: AT,
  subscriber: ALICE,
  kind: 'subscribe',
  amount: 199,
  currency: 'EUR',
  outcome: 'granted',
  mode: 'cdr',
  resourceIds: ['r-summer'],
  activityId: 'act-01JBX7Q2M4',
};
export const ACTIVITY_RECORD = {
  id: 'act-01JBX7Q2M4',
  at: AT,
  actor: ALICE,
  subject: ALICE,
  kind: 'subscribe',
  channel: 'rest',
  result: 'success',
  chargeId: CHARGE_VIEW.id,
  detail: { resourceId: 'r-summer', entryId: LIBRARY_ENTRY.id },
};
export const CURSOR = '1764667800000-0';
