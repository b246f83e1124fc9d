/** Schemas shared by many routes: problem details, identities in paths, ids, paging. */
import { Type, type Static } from 'typebox';
import { ERROR_CODES, statusOf, type ErrorCode } from '../../domain/errors.js';

export const Problem = Type.Object(
  {
    type: Type.String({ description: '`urn:cmr:problem:<code>`' }),
    title: Type.String({ description: 'Short summary of the kind of problem' }),
    status: Type.Integer({ description: 'The HTTP status code' }),
    detail: Type.Optional(Type.String({ description: 'What went wrong with this request, in words' })),
    instance: Type.Optional(Type.String({ description: 'The request path' })),
    code: Type.Unsafe<ErrorCode>({
      type: 'string',
      enum: ERROR_CODES,
      description: `Stable machine-readable error code: ${ERROR_CODES.map((code) => `\`${code}\` (${statusOf(code)})`).join(', ')}`,
    }),
    errors: Type.Optional(
      Type.Array(Type.Object({ path: Type.String(), message: Type.String() }), { description: 'Validation failures: one per invalid field' }),
    ),
    chargeId: Type.Optional(Type.String({ description: 'The charge of a refused (402) or unanswered (503) charging request, as in /charges' })),
    reason: Type.Optional(Type.String({ description: "The Charging Enabler's result code of a refusal (402), e.g. QUOTA_LIMIT_REACHED" })),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

export const IdentityString = Type.String({
  minLength: 1,
  maxLength: 256,
  description: 'Public user identity: tel:+<E.164> or sip:user@host',
  examples: ['tel:+15551230001'],
});

/** `{uid}` of a path: the user, percent-encoded or not, in any form that names the same identity. */
export const UserInPath = Type.String({
  minLength: 1,
  maxLength: 256,
  description: 'The user: tel:+<E.164> or sip:user@host, percent-encoded or not (any form of the same identity names the same user)',
  examples: ['tel:+15551230001'],
});

export const UidParams = Type.Object({ uid: UserInPath });
export type UidParams = Static<typeof UidParams>;

export const IdPattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
const ID_FORM = '1–64 letters, digits, ".", "_" or "-", starting with a letter or digit';
export const Id = Type.String({ pattern: IdPattern, description: ID_FORM });
/** An id in a path or a query, saying what it names (and, for a refusal, what it looks like). */
export const IdOf = (description: string) => Type.String({ pattern: IdPattern, description: `${description}: ${ID_FORM}` });

export const Money = Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'Minor units' });
export const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217' });

export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50, description: 'Most items in one page' })),
  cursor: Type.Optional(Type.String({ maxLength: 128, description: "The previous page's `next`; the newest page when absent" })),
});
