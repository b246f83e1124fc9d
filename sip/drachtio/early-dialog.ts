/**
 * The called party's early dialog, when there is one the B2BUA can send in: what it takes to pass
 * a request of the ringing caller (an ordinary INFO, an UPDATE) to the called party.
 *
 * drachtio-srf has no early-dialog object, and drachtio-server keeps an early UAC dialog only for
 * a reliable 18x (RFC 3262, `RSeq`): then it names it in the response, and a request sent with
 * that dialog id goes inside it with the dialog's route set and the next CSeq, as any request in a
 * confirmed dialog. After an unreliable 18x there is no such dialog, and a request built by hand
 * could not carry the route set (drachtio-server drops a Route from the app) nor a CSeq that stays
 * below those drachtio-server sends in the dialog later (a BYE one past the INVITE's), so nothing
 * is sent then. The directory keeps the dialog id in Redis while the call rings, for an instance
 * that gets such an INFO without holding the call (drachtio-server 0.9.10 routes the caller's early
 * requests to the instance holding the call once the caller has PRACKed, and answers them itself
 * before that, but another drachtio-server or version may hand them to any instance).
 */
import type { Logger } from '../../src/observability/logger.js';
import type { Keys } from '../../src/store/keys.js';
import type { RedisClient } from '../../src/store/redis.js';
import type { SrfResponse } from './srf.js';

export interface CalledPartyEarlyDialog {
  /** drachtio-server's id of the early dialog. */
  stackDialogId: string;
}

/** The early dialog a provisional response of the called party opens for the B2BUA, or null (not reliable). */
export function calledPartyEarlyDialog(response: SrfResponse): CalledPartyEarlyDialog | null {
  if (response.status <= 100 || response.status >= 200 || !response.has('RSeq') || !response.stackDialogId) return null;
  return { stackDialogId: response.stackDialogId };
}

/** The same early dialog (a forked branch answering reliably opens another one). */
export function sameEarlyDialog(a: CalledPartyEarlyDialog | null, b: CalledPartyEarlyDialog): boolean {
  return a !== null && a.stackDialogId === b.stackDialogId;
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
