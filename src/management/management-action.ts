/**
 * What every management action shares: who asks (the user whose data changes, the actor, the
 * channel and the idempotency key), the charge it reports, and the one way it runs — through
 * `ChargedActions`, so the change, its charging event, its activity record and its idempotency
 * answer settle together. Free changes are charged too, as zero-priced (offline) events.
 */
import type { ActionOutcome, ActionPlan, Actor, ChargedActions, ChargeSpec } from '../charging/charged-actions.js';
import type { Identity } from '../domain/identity.js';
import type { Channel } from '../domain/types.js';

export interface Requester {
  /** The user whose service data the action changes; pays for it and owns its idempotency key. */
  user: Identity;
  actor: Actor;
  channel: Channel;
  idempotency?: { key: string; fingerprint: string };
}

/** The charge an answer reports: what the action cost, or null when it produced no charging event. */
export interface ChargeView {
  id: string;
  amount: number;
  currency: string;
}

/** ISO 4217 "no currency": the currency of zero-priced events that concern no priced resource. */
export const NO_CURRENCY = 'XXX';

/** The zero-priced charging event of a free change. */
export function freeEvent(resourceIds: string[] = []): ChargeSpec {
  return { amount: 0, currency: NO_CURRENCY, resourceIds };
}

export function chargeView(chargeId: string, charge: ChargeSpec): ChargeView {
  return { id: chargeId, amount: charge.amount, currency: charge.currency };
}

/** The system itself acting on a user's data (the sweeper's renewals and expiries). */
export function systemRequester(user: Identity, idempotency?: Requester['idempotency']): Requester {
  return { user, actor: 'system', channel: 'system', ...(idempotency ? { idempotency } : {}) };
}

/** The part of an action's id that is unique: entries, boxes and rules it creates are named after it. */
export function idSuffix(chargeId: string): string {
  return chargeId.replace(/^ch-/, '');
}

export type Prepare<R> = (context: { chargeId: string; now: Date }) => Promise<ActionPlan<R>> | ActionPlan<R>;

/** Runs one management action for `requester`, holding the named locks of that user. */
export function runAction<R>(actions: ChargedActions, requester: Requester, exclusive: string[], prepare: Prepare<R>): Promise<ActionOutcome<R>> {
  return actions.run<R>({
    user: requester.user,
    actor: requester.actor,
    channel: requester.channel,
    ...(requester.idempotency ? { idempotency: requester.idempotency } : {}),
    exclusive,
    prepare,
  });
}

/** Lock names within a user: one per item a check-then-write depends on. */
export const locks = {
  resource: (resourceId: string) => `resource:${resourceId}`,
  entry: (entryId: string) => `entry:${entryId}`,
  box: (boxId: string) => `box:${boxId}`,
  gift: (to: Identity, resourceId: string) => `gift:${to}:${resourceId}`,
  preferences: 'preferences',
};
