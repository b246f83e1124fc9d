/** Catalog and client registry schemas (contract §2). */
import { Type, type Static } from 'typebox';
import { Currency, Id, IdOf, Money } from './common.js';
import * as E from './examples.js';

export const ResourceType = Type.Union(
  [Type.Literal('audio'), Type.Literal('video'), Type.Literal('image'), Type.Literal('text'), Type.Literal('multimedia')],
);
export const Rating = Type.Union([Type.Literal('general'), Type.Literal('teen'), Type.Literal('mature')]);
export const ResourceStatus = Type.Union([Type.Literal('available'), Type.Literal('withdrawn')]);

export const Prices = Type.Object(
  { subscribe: Money, renew: Money, copy: Money, gift: Money, currency: Currency },
  { additionalProperties: false },
);

const resourceFields = {
  title: Type.String({ minLength: 1, maxLength: 200 }),
  type: ResourceType,
  contentUri: Type.String({ format: 'uri', pattern: '^https?://[^\\s]+$', maxLength: 2048, description: 'an http:// or https:// address of the content' }),
  mimeType: Type.String({ pattern: '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$', maxLength: 127, description: 'a media type, e.g. audio/mpeg' }),
  durationSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
  categories: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32, uniqueItems: true }),
  rating: Rating,
  provider: Type.String({ minLength: 1, maxLength: 128 }),
  copyable: Type.Boolean(),
  validityDays: Type.Integer({ minimum: 1, maximum: 3650 }),
  prices: Prices,
  status: Type.Optional(ResourceStatus),
};

export const ResourceInput = Type.Object({ id: Type.Optional(Id), ...resourceFields }, { additionalProperties: false, examples: [E.RESOURCE_INPUT] });
export type ResourceInput = Static<typeof ResourceInput>;
/**
 * Read-only fields a client may send back unchanged after a GET (GET-modify-PUT): `id` must name
 * the resource of the path; the timestamps are ignored.
 */
const readOnlyFields = {
  id: Type.Optional(Id),
  createdAt: Type.Optional(Type.String({ maxLength: 64 })),
  updatedAt: Type.Optional(Type.String({ maxLength: 64 })),
};

export const ResourceReplace = Type.Object({ ...resourceFields, ...readOnlyFields }, { additionalProperties: false, examples: [E.RESOURCE_REPLACE] });
export type ResourceReplace = Static<typeof ResourceReplace>;

export const Resource = Type.Object(
  {
    id: Type.String(),
    ...resourceFields,
    status: ResourceStatus,
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Resource', examples: [E.RESOURCE] },
);

export const ResourceQuery = Type.Object({
  type: Type.Optional({ ...ResourceType, description: 'Only resources of this type' }),
  category: Type.Optional(Type.String({ maxLength: 64, description: 'Only resources in this category' })),
  status: Type.Optional({ ...ResourceStatus, description: 'Only available, or only withdrawn, resources' }),
});

export const ResourceParams = Type.Object({ id: IdOf('The resource') });
export const ClientParams = Type.Object({ id: IdOf('The client') });

const clientFields = {
  name: Type.String({ minLength: 1, maxLength: 128 }),
  enabled: Type.Boolean(),
  minVersion: Type.String({
    pattern: '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$',
    description: 'Lowest accepted client version (semver)',
  }),
};
export const ClientInput = Type.Object({ id: Id, ...clientFields }, { additionalProperties: false, examples: [E.CLIENT_INPUT] });
export const ClientReplace = Type.Object({ ...clientFields, ...readOnlyFields }, { additionalProperties: false, examples: [E.CLIENT_REPLACE] });
export const Client = Type.Object(
  { id: Type.String(), ...clientFields, createdAt: Type.String(), updatedAt: Type.String() },
  { $id: 'Client', examples: [E.CLIENT] },
);
