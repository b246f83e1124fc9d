/** Presenting sessions and the presentation preview (contract §2, §4). */
import { Type, type Static } from 'typebox';
import { IdentityString } from './common.js';
import * as E from './examples.js';

export const PresentedResource = Type.Object(
  { resourceId: Type.String(), contentUri: Type.String() },
  { $id: 'PresentedResource', description: 'One resource as announced in Alert-Info', examples: [E.PRESENTED_RESOURCE] },
);

export const PresentingSession = Type.Object(
  {
    callId: Type.String(),
    fromTag: Type.String({ description: "From tag of the caller's INVITE" }),
    caller: Type.String(),
    called: Type.String(),
    toCaller: Type.Array(Type.Ref('PresentedResource'), { description: 'Presented to the caller, owned by the called party' }),
    toCalled: Type.Array(Type.Ref('PresentedResource'), { description: 'Presented to the called party, owned by the caller' }),
    state: Type.Union([Type.Literal('early'), Type.Literal('confirmed'), Type.Literal('ended')]),
    startedAt: Type.String({ format: 'date-time' }),
    answeredAt: Type.Optional(Type.String({ format: 'date-time' })),
    endedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { $id: 'PresentingSession', examples: [E.PRESENTING_SESSION] },
);

export const PresentationPreview = Type.Object(
  {
    owner: Type.String(),
    caller: Type.String(),
    at: Type.String({ format: 'date-time' }),
    timezone: Type.String({ description: "The owner's time zone, in which the rules were read" }),
    presented: Type.Array(Type.Ref('PresentedResource')),
    source: Type.Object(
      {
        kind: Type.Union([Type.Literal('rule'), Type.Literal('default'), Type.Literal('none')]),
        ruleId: Type.Optional(Type.String()),
        boxId: Type.Optional(Type.String()),
        reason: Type.Optional(
          Type.Union([Type.Literal('blocked'), Type.Literal('no-candidate'), Type.Literal('nothing-usable')], {
            description: 'Why nothing is presented: the caller is blocked, no rule or default applies, or nothing it names can be presented',
          }),
        ),
      },
      { description: 'The rule or default that gave the presentation, and the box it came from' },
    ),
  },
  { $id: 'PresentationPreview', examples: [E.PRESENTATION_PREVIEW] },
);

export const PreviewQuery = Type.Object({
  caller: IdentityString,
  at: Type.Optional(Type.String({ format: 'date-time', description: 'Instant of the call (ISO 8601 with offset); now when absent' })),
});
export type PreviewQuery = Static<typeof PreviewQuery>;

export const CallIdParams = Type.Object({ callId: Type.String({ minLength: 1, maxLength: 256, description: 'SIP Call-ID, percent-encoded' }) });

export const CallsSummary = Type.Object(
  { presenting: Type.Integer({ minimum: 0, description: 'Live calls (ringing or answered) presenting at least one resource to a party, on every instance' }) },
  { $id: 'CallsSummary', examples: [{ presenting: 42 }] },
);
