/** Charge and activity record schemas (contract §2, §4 charging and activity). */
import { Type } from 'typebox';
import * as E from './examples.js';

const ActivityKind = Type.String({ description: 'subscribe, renew, cancel, expire, copy-online, copy-offline, gift, box-subscribe, preferences, …' });

export const ChargeRecord = Type.Object(
  {
    id: Type.String({ description: 'Charge id (ULID-based, sorts by time)' }),
    at: Type.String({ format: 'date-time' }),
    subscriber: Type.String(),
    kind: ActivityKind,
    amount: Type.Integer({ description: 'Minor units' }),
    currency: Type.String(),
    outcome: Type.Union([Type.Literal('granted'), Type.Literal('denied')]),
    mode: Type.Union([Type.Literal('cdr'), Type.Literal('nchf')], { description: 'cdr: offline record; nchf: granted online by the CHF' }),
    resourceIds: Type.Array(Type.String()),
    calling: Type.Optional(Type.String()),
    called: Type.Optional(Type.String()),
    reference: Type.Optional(Type.String({ description: 'Charging data reference given by the CHF' })),
    reason: Type.Optional(Type.String({ description: 'Result code of a refusal' })),
    activityId: Type.Optional(Type.String()),
  },
  { $id: 'ChargeRecord', examples: [E.CHARGE_RECORD] },
);

export const ActivityRecord = Type.Object(
  {
    id: Type.String({ description: 'Event id: stable across re-deliveries, use it to drop duplicates' }),
    at: Type.String({ format: 'date-time' }),
    actor: Type.String({ description: 'Who acted: the user\'s identity, `sp:<sub>` for the SP (the subject of its token), or `system`' }),
    subject: Type.Union([Type.String(), Type.Null()]),
    kind: ActivityKind,
    channel: Type.Union([Type.Literal('sip'), Type.Literal('rest'), Type.Literal('portal'), Type.Literal('system')]),
    result: Type.Union([Type.Literal('success'), Type.Literal('denied'), Type.Literal('failed')]),
    chargeId: Type.Union([Type.String(), Type.Null()]),
    detail: Type.Object({}, { additionalProperties: true }),
  },
  { $id: 'ActivityRecord', examples: [E.ACTIVITY_RECORD] },
);

export const ChargePage = Type.Object(
  {
    items: Type.Array(Type.Ref('ChargeRecord')),
    next: Type.Union([Type.String(), Type.Null()], { description: 'Cursor of the next (older) page; null on the last' }),
  },
  { examples: [{ items: [E.CHARGE_RECORD], next: null }] },
);

export const ActivityItem = Type.Object({
  cursor: Type.String({ description: 'Position in the stream (also the SSE event id)' }),
  record: Type.Ref('ActivityRecord'),
});

export const ActivityPage = Type.Object(
  {
    items: Type.Array(ActivityItem),
    next: Type.Union([Type.String(), Type.Null()], { description: 'Cursor to continue from' }),
  },
  { examples: [{ items: [{ cursor: E.CURSOR, record: E.ACTIVITY_RECORD }], next: E.CURSOR }] },
);

export const FeedQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 40, description: 'Cursor of the last record already read' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'Most records in one page' })),
});

export const StreamQuery = Type.Object({
  after: Type.Optional(Type.String({ maxLength: 40, description: 'Resume after this cursor (as Last-Event-ID)' })),
});
