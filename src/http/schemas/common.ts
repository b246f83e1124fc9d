/** Schemas shared by many routes: problem details, identities in paths, paging. */
import { Type, type Static } from 'typebox';

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

/** Responses every authenticated route may give. */
export const problemResponses = {
  400: Type.Ref('Problem'),
  401: Type.Ref('Problem'),
  403: Type.Ref('Problem'),
  404: Type.Ref('Problem'),
  503: Type.Ref('Problem'),
} as const;

export const IdentityString = Type.String({
  minLength: 1,
  maxLength: 256,
  description: 'Public user identity: tel:+<E.164> or sip:user@host',
  examples: ['tel:+15551230001'],
});

export const UidParams = Type.Object({ uid: IdentityString });
export type UidParams = Static<typeof UidParams>;

export const IdPattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
export const Id = Type.String({ pattern: IdPattern });

export const Money = Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'Minor units' });
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217' });

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 128 })),
});
