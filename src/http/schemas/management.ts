/** Management API schemas (contract §2, §4): library, boxes, gifts, preferences, service information. */
import { Type, type Static } from 'typebox';
import { Currency, Id, IdentityString, IdOf, Money, UserInPath } from './common.js';
import * as E from './examples.js';
import { Rating, ResourceType } from './catalog.js';
import { TIME_ZONE_MAX_LENGTH } from '../../domain/time-zone.js';

// ── shared ─────────────────────────────────────────────────────────────────

export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: '^[\\x21-\\x7E]{1,255}$',
      description: 'Makes the request safe to repeat: a repeat gets the first answer and is charged once; the same key with another body is 409',
    }),
  ),
});
export type IdempotencyHeaders = Static<typeof IdempotencyHeaders>;

export const ChargeView = Type.Union(
  [
    Type.Object({
      id: Type.String({ description: 'Charge id, as in /charges' }),
      amount: Type.Integer({ description: 'Minor units; 0 for a free change (an offline charging event)' }),
      currency: Type.String({ description: 'ISO 4217; XXX when no priced resource is concerned' }),
    }),
    Type.Null(),
  ],
  { description: 'The charging event of the action; null when nothing changed' },
);

const EntryStatus = Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('cancelled')]);
const PlayMode = Type.Union([Type.Literal('sequential'), Type.Literal('random')]);
const Audience = Type.Union([Type.Literal('everyone'), Type.Literal('contacts'), Type.Literal('nobody')]);
const Identities = (maxItems: number) => Type.Array(IdentityString, { maxItems });

// ── library ────────────────────────────────────────────────────────────────

export const LibraryEntry = Type.Object(
  {
    id: Type.String(),
    resourceId: Type.String(),
    origin: Type.Union([Type.Literal('subscription'), Type.Literal('box'), Type.Literal('copy-online'), Type.Literal('copy-offline'), Type.Literal('gift')]),
    from: Type.Optional(Type.String({ description: 'Identity copied or gifted from' })),
    boxId: Type.Optional(Type.String({ description: 'Catalog box the entry was subscribed with' })),
    acquiredAt: Type.String({ format: 'date-time' }),
    expiresAt: Type.String({ format: 'date-time' }),
    autoRenew: Type.Boolean(),
    status: EntryStatus,
    chargeId: Type.Optional(Type.String({ description: 'The charge that paid for the entry or its last renewal' })),
  },
  { $id: 'LibraryEntry', examples: [E.LIBRARY_ENTRY] },
);

export const LibraryQuery = Type.Object({ status: Type.Optional({ ...EntryStatus, description: 'Only entries with this status now' }) });
export const EntryParams = Type.Object({ uid: UserInPath, entryId: IdOf('The library entry') });
export const SubscribeBody = Type.Object(
  { resourceId: Id, autoRenew: Type.Optional(Type.Boolean({ description: 'Renew (and charge) shortly before expiry; off when absent' })) },
  { additionalProperties: false, examples: [{ resourceId: 'r-summer', autoRenew: true }] },
);
export const EntryPatch = Type.Object({ autoRenew: Type.Boolean() }, { additionalProperties: false, examples: [{ autoRenew: false }] });
export const EntryAnswer = Type.Object({ entry: Type.Ref('LibraryEntry'), charge: ChargeView }, { examples: [{ entry: E.LIBRARY_ENTRY, charge: E.CHARGE_VIEW }] });

// ── boxes ──────────────────────────────────────────────────────────────────

export const Box = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    resourceIds: Type.Array(Type.String()),
    mode: PlayMode,
    price: Type.Optional(Type.Integer({ description: 'Catalog boxes: price of a subscription, minor units' })),
    currency: Type.Optional(Type.String()),
    validityDays: Type.Optional(Type.Integer({ description: 'Catalog boxes: how long a subscription lasts' })),
    owner: Type.Optional(Type.String({ description: 'Personal boxes: the user' })),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Box', examples: [E.CATALOG_BOX, E.PERSONAL_BOX] },
);

const boxFields = {
  name: Type.String({ minLength: 1, maxLength: 128 }),
  resourceIds: Type.Array(Id, { minItems: 1, maxItems: 100, uniqueItems: true, description: 'In play order' }),
  mode: PlayMode,
};
const catalogBoxFields = { ...boxFields, price: Money, currency: Currency, validityDays: Type.Integer({ minimum: 1, maximum: 3650 }) };

export const CatalogBoxInput = Type.Object({ id: Type.Optional(Id), ...catalogBoxFields }, { additionalProperties: false, examples: [E.CATALOG_BOX_INPUT] });
export const CatalogBoxReplace = Type.Object(catalogBoxFields, { additionalProperties: false, examples: [E.CATALOG_BOX_REPLACE] });
export const PersonalBoxInput = Type.Object(boxFields, { additionalProperties: false, examples: [E.PERSONAL_BOX_INPUT] });
export const BoxParams = Type.Object({ boxId: IdOf('The catalog box') });
export const UserBoxParams = Type.Object({ uid: UserInPath, boxId: IdOf('The personal box') });
export const BoxAnswer = Type.Object({ box: Type.Ref('Box'), charge: ChargeView }, { examples: [{ box: E.PERSONAL_BOX, charge: E.FREE_CHARGE_VIEW }] });
export const BoxSubscriptionBody = Type.Object({ boxId: Id }, { additionalProperties: false, examples: [{ boxId: 'box-chill' }] });
export const BoxSubscriptionAnswer = Type.Object(
  { boxId: Type.String(), entries: Type.Array(Type.Ref('LibraryEntry')), charge: ChargeView },
  { examples: [{ boxId: 'box-chill', entries: [E.BOX_ENTRY], charge: { ...E.CHARGE_VIEW, amount: 299 } }] },
);

// ── gifts ──────────────────────────────────────────────────────────────────

export const GiftBody = Type.Object({ to: IdentityString, resourceId: Id }, { additionalProperties: false, examples: [{ to: 'tel:+15551230002', resourceId: 'r-jazz' }] });
export const GiftAnswer = Type.Object(
  {
    to: Type.String({ description: 'The receiver, canonical' }),
    entry: Type.Ref('LibraryEntry', { description: "The receiver's new entry" }),
    charge: ChargeView,
  },
  { examples: [{ to: 'tel:+15551230002', entry: { ...E.LIBRARY_ENTRY, resourceId: 'r-jazz', origin: 'gift', from: 'tel:+15551230001', autoRenew: false }, charge: E.CHARGE_VIEW }] },
);

// ── preferences ────────────────────────────────────────────────────────────

export const PresentTarget = Type.Union(
  [
    Type.Object({ resourceId: Id }, { additionalProperties: false }),
    Type.Object({ boxId: Id }, { additionalProperties: false }),
  ],
  { description: 'One resource, or a box (personal, or a subscribed catalog box)' },
);

const LocalTime = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'Local time HH:MM' });
const LocalDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'Local date YYYY-MM-DD' });

export const RuleConditions = Type.Object(
  {
    callers: Type.Optional(Identities(100)),
    timeOfDay: Type.Optional(Type.Object({ from: LocalTime, to: LocalTime }, { additionalProperties: false, description: 'from inclusive, to exclusive; wraps midnight when from > to' })),
    daysOfWeek: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { maxItems: 7, uniqueItems: true, description: 'ISO: 1 = Monday … 7 = Sunday' })),
    dateRange: Type.Optional(Type.Object({ from: LocalDate, to: LocalDate }, { additionalProperties: false, description: 'Both inclusive' })),
  },
  { additionalProperties: false, description: "Read in the user's time zone; an absent condition does not constrain" },
);

const ruleFields = {
  priority: Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Lowest wins' }),
  enabled: Type.Boolean(),
  conditions: RuleConditions,
  present: PresentTarget,
};
export const PresentationRule = Type.Object({ id: Id, ...ruleFields }, { additionalProperties: false, examples: [E.RULE] });
export const RuleInput = Type.Object(
  { id: Type.Optional(Id), ...ruleFields, enabled: Type.Optional(Type.Boolean({ default: true })) },
  { additionalProperties: false, examples: [E.RULE_INPUT] },
);
export const RuleReplace = Type.Object(ruleFields, { additionalProperties: false, examples: [E.RULE_REPLACE] });

const Strings = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 50 });
const filterFields = {
  categories: Type.Optional(Strings),
  ratings: Type.Optional(Type.Array(Rating, { maxItems: 3 })),
  types: Type.Optional(Type.Array(ResourceType, { maxItems: 5 })),
  providers: Type.Optional(Strings),
  owners: Type.Optional(Identities(100)),
};
export const FilterRule = Type.Object({ id: Id, ...filterFields }, { additionalProperties: false, description: 'Refuses what matches every criterion it sets', examples: [E.FILTER] });
export const FilterInput = Type.Object({ id: Type.Optional(Id), ...filterFields }, { additionalProperties: false, examples: [E.FILTER_INPUT] });
export const FilterReplace = Type.Object(filterFields, { additionalProperties: false, examples: [E.FILTER_INPUT] });

export const Privacy = Type.Object(
  { copy: Audience, contacts: Identities(1000), blocked: Identities(1000), gifts: Audience },
  { additionalProperties: false, examples: [E.PRIVACY] },
);

// Checked beyond its length by the domain (`canonicalTimeZone`), which says why in words.
const TimeZone = Type.String({
  minLength: 1,
  maxLength: TIME_ZONE_MAX_LENGTH,
  description: 'IANA time zone name in which the rules are read (e.g. Europe/Paris; not an offset)',
  examples: ['Europe/Paris'],
});

export const Preferences = Type.Object(
  {
    timezone: TimeZone,
    default: Type.Union([PresentTarget, Type.Null()]),
    rules: Type.Array(PresentationRule, { maxItems: 100 }),
    filters: Type.Array(FilterRule, { maxItems: 50 }),
    privacy: Privacy,
  },
  { additionalProperties: false, examples: [E.PREFERENCES] },
);

export const TimezoneBody = Type.Object({ timezone: TimeZone }, { additionalProperties: false, examples: [{ timezone: 'Europe/Paris' }] });
export const DefaultBody = Type.Union([PresentTarget, Type.Null()], { description: '{resourceId}, {boxId}, or null for none', examples: [{ resourceId: 'r-summer' }, { boxId: 'box-chill' }, null] });
export const RuleParams = Type.Object({ uid: UserInPath, ruleId: IdOf('The presentation rule') });
export const FilterParams = Type.Object({ uid: UserInPath, filterId: IdOf('The filter rule') });

const changed = <T>(field: string, example: T) => ({ examples: [{ [field]: example, charge: E.FREE_CHARGE_VIEW }] });
export const PreferencesAnswer = Type.Object({ preferences: Preferences, charge: ChargeView }, changed('preferences', E.PREFERENCES));
export const TimezoneAnswer = Type.Object({ timezone: TimeZone, charge: ChargeView }, changed('timezone', 'Europe/Paris'));
export const DefaultAnswer = Type.Object({ default: Type.Union([PresentTarget, Type.Null()]), charge: ChargeView }, changed('default', { resourceId: 'r-summer' }));
export const RuleAnswer = Type.Object({ rule: PresentationRule, charge: ChargeView }, changed('rule', E.RULE));
export const FilterAnswer = Type.Object({ filter: FilterRule, charge: ChargeView }, changed('filter', E.FILTER));
export const PrivacyAnswer = Type.Object({ privacy: Privacy, charge: ChargeView }, changed('privacy', E.PRIVACY));

// ── service information ────────────────────────────────────────────────────

export const ServiceInfo = Type.Object(
  {
    preferences: Preferences,
    library: Type.Array(Type.Ref('LibraryEntry'), { description: 'Newest first' }),
    boxes: Type.Array(Type.Ref('Box'), { description: 'Personal boxes' }),
    privacy: Privacy,
  },
  { examples: [{ preferences: E.PREFERENCES, library: [E.LIBRARY_ENTRY], boxes: [E.PERSONAL_BOX], privacy: E.PRIVACY }] },
);

/** The schemas the routes refer to by `$id`, registered once on the app. */
export const managementSchemas = [LibraryEntry, Box];
