/** Copy requests and results (contract §4 copy, §3.2 result body). */
import { Type, type Static } from 'typebox';
import { MAX_RESOURCE_IDS } from '../../copy/copy-request.js';
import { Currency, Id, IdentityString, Money } from './common.js';
import * as E from './examples.js';

const ResourceIds = Type.Array(Id, { minItems: 1, maxItems: MAX_RESOURCE_IDS, uniqueItems: true });

export const OnlineCopyBody = Type.Object(
  {
    mode: Type.Literal('online'),
    peer: { ...IdentityString, description: 'The other party of the live or grace-period call whose presented resources are copied' },
    resourceIds: Type.Optional({ ...ResourceIds, description: 'Subset of what the call presents to the user; everything presented when absent' }),
    client: Type.Object(
      { id: Id, version: Type.String({ minLength: 1, maxLength: 64, description: 'Semantic version, at least the client’s registered minimum' }) },
      { additionalProperties: false, description: 'The registered CMR client asking' },
    ),
  },
  { additionalProperties: false, title: 'Online copy' },
);

export const OfflineCopyBody = Type.Object(
  {
    mode: Type.Literal('offline'),
    from: { ...IdentityString, description: "The user from whose active library entries the resources are copied" },
    resourceIds: ResourceIds,
  },
  { additionalProperties: false, title: 'Offline copy' },
);

export const CopyBody = Type.Union([OnlineCopyBody, OfflineCopyBody], { examples: [E.COPY_ONLINE, E.COPY_OFFLINE] });
export type CopyBody = Static<typeof CopyBody>;

export const CopyResult = Type.Object(
  {
    result: Type.Union([Type.Literal('copied'), Type.Literal('already-owned')]),
    entries: Type.Array(
      Type.Object({ resourceId: Type.String(), libraryEntryId: Type.String(), expiresAt: Type.String({ format: 'date-time' }) }),
      { description: 'Entries created (copied), or the entries already held (already-owned)' },
    ),
    charge: Type.Union([Type.Object({ id: Type.String(), amount: Money, currency: Currency }), Type.Null()]),
  },
  { $id: 'CopyResult', examples: [E.COPY_RESULT] },
);
