/**
 * The port to the Charging Enabler (contract §5). Two adapters implement it: `cdr` (offline:
 * a charging data record, granted at once) and `nchf` (online immediate event charging, TS 32.291).
 * The port only decides; the charge record is written by `ChargedActions` together with the
 * effect it paid for, so a record exists exactly when the action was applied (or refused).
 */
import type { Identity } from '../domain/identity.js';
import type { ActivityKind, Channel } from '../domain/types.js';

export interface ChargeRequest {
  /** Who pays. */
  subscriber: Identity;
  kind: ActivityKind;
  /** Minor units; 0 for free activities (still recorded as an offline event). */
  amount: number;
  currency: string;
  resourceIds: string[];
  channel: Channel;
  /** Calling and called party, for copies made in a call. */
  calling?: Identity;
  called?: Identity;
  /** SIP Call-ID of that call, when there is one. */
  callId?: string;
}

/** One charging invocation; a retry reuses it with `retransmission: true`. */
export interface Invocation {
  /** Stable id of this charge (also the charge record id). */
  chargeId: string;
  sequenceNumber: number;
  timestamp: string;
  retransmission: boolean;
}

export type ChargeOutcome =
  | { status: 'granted'; chargeId: string; amount: number; currency: string; reference?: string }
  | { status: 'denied'; chargeId: string; reason: string }
  /**
   * No grant or refusal. `unanswered`: no answer came at all (timeout, connection lost), so the
   * Charging Enabler may have charged; asking again as a retransmission of the same invocation tells.
   */
  | { status: 'unavailable'; chargeId: string; reason: string; retryAfterSec: number; unanswered?: boolean };

export interface ChargingPort {
  readonly mode: 'cdr' | 'nchf';
  charge(request: ChargeRequest, invocation: Invocation): Promise<ChargeOutcome>;
  /** Releases connections; the port is not used afterwards. */
  close?(): Promise<void>;
}
