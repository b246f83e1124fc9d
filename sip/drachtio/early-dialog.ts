/**
 * The called party's early dialog, as the B2BUA knows it from the B-leg INVITE and the first
 * tagged 18x: what it takes to send a request inside that dialog before the call is answered.
 *
 * drachtio-srf has no early-dialog object and drachtio-server keeps no dialog for an early
 * UAC leg an application could name, so a request meant for the ringing called party (an INFO
 * the caller sends while it hears the ringback) is sent as a request of its own that carries
 * the dialog's identifiers (drachtio-server honours a Call-ID, From and To with their tags and a
 * CSeq given by the application). The directory keeps those identifiers in Redis while the call
 * rings, because drachtio-server hands such an INFO to any instance that routes INFO.
 */
import type { Logger } from '../../src/observability/logger.js';
import type { Keys } from '../../src/store/keys.js';
import type { RedisClient } from '../../src/store/redis.js';
import { headerEntries, uriOf } from '../common/header-values.js';
import type { SipHeaders, SrfResponse, SrfSentRequest } from './srf.js';

export interface CalledPartyEarlyDialog {
  /** Call-ID of the B leg. */
  callId: string;
  /** From of the B-leg INVITE, with the B2BUA's tag. */
  from: string;
  /** To of the called party's 18x, with its tag. */
  to: string;
  /** The called party's Contact: the Request-URI of requests in the dialog. */
  target: string;
  /** First hop of the route set (the last Record-Route of the 18x), if any. */
  firstHop: string | null;
  /** CSeq number of the B-leg INVITE. */
  inviteCSeq: number;
}

/** The early dialog a provisional response of the called party opens, or null when it opens none (no To tag or no Contact). */
export function calledPartyEarlyDialog(invite: SrfSentRequest, response: SrfResponse): CalledPartyEarlyDialog | null {
  const to = response.get('To');
  const contact = headerEntries(response.get('Contact'))[0];
  const callId = invite.get('Call-ID');
  const from = invite.get('From');
  const inviteCSeq = Number.parseInt(invite.get('CSeq') ?? '', 10);
  if (!to || !/;\s*tag\s*=/i.test(to) || !contact || !callId || !from || !Number.isFinite(inviteCSeq)) return null;
  // A UAC's route set is the Record-Route of the response in reverse order (RFC 3261 §12.1.2).
  const lastRecordRoute = headerEntries(response.get('Record-Route')).at(-1);
  return { callId, from, to, target: uriOf(contact), firstHop: lastRecordRoute ? uriOf(lastRecordRoute) : null, inviteCSeq };
}

/** The dialog's identity: the same called party answering with another tag (forking) opens another dialog. */
export function sameEarlyDialog(a: CalledPartyEarlyDialog | null, b: CalledPartyEarlyDialog): boolean {
  return a !== null && a.callId === b.callId && a.to === b.to && a.target === b.target;
}

/**
 * The headers that place a request inside the early dialog. Its CSeq is one past the INVITE's:
 * never lower than any request the called party has seen in this dialog, nor than those
 * drachtio-server itself sends in it later (a BYE after the answer is one past the INVITE too),
 * so the called party never refuses one of them as out of order (RFC 3261 §12.2.2).
 */
export function earlyDialogHeaders(dialog: CalledPartyEarlyDialog, method: string): SipHeaders {
  return { 'Call-ID': dialog.callId, From: dialog.from, To: dialog.to, CSeq: `${dialog.inviteCSeq + 1} ${method}` };
}

/** How long a ringing call's early dialog is kept for other instances: longer than any call rings. */
const EARLY_DIALOG_TTL_SEC = 600;

/** Early dialogs by the Call-ID of the caller's leg, shared by every instance on the same Redis. */
export class EarlyDialogDirectory {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly log: Logger,
  ) {}

  /** Records the dialog; a failure is logged and forgotten (the call never waits for it). */
  save(callerCallId: string, dialog: CalledPartyEarlyDialog): void {
    this.redis.set(this.keys.calledPartyEarlyDialog(callerCallId), JSON.stringify(dialog), 'EX', EARLY_DIALOG_TTL_SEC).catch((err: unknown) => {
      this.log.warn({ event: 'early-dialog', callId: callerCallId, err: (err as Error).message }, 'could not record the called party early dialog');
    });
  }

  /** The dialog, or null when none is recorded or the store does not answer. */
  async find(callerCallId: string): Promise<CalledPartyEarlyDialog | null> {
    try {
      const stored = await this.redis.get(this.keys.calledPartyEarlyDialog(callerCallId));
      return stored ? (JSON.parse(stored) as CalledPartyEarlyDialog) : null;
    } catch (err) {
      this.log.warn({ event: 'early-dialog', callId: callerCallId, err: (err as Error).message }, 'could not read the called party early dialog');
      return null;
    }
  }

  /** The call was answered or is over: its early dialog is of no use any more. */
  forget(callerCallId: string): void {
    this.redis.del(this.keys.calledPartyEarlyDialog(callerCallId)).catch((err: unknown) => {
      this.log.warn({ event: 'early-dialog', callId: callerCallId, err: (err as Error).message }, 'could not remove the called party early dialog');
    });
  }
}
