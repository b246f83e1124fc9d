/**
 * One call through the B2BUA: its two legs, how it ends, and the guarantee that when one leg
 * goes the other is hung up too (so no leg is ever left up on drachtio-server).
 */
import type { Socket } from 'node:net';
import type { CallEndReason } from '../../src/calls/call-events.js';
import type { Logger } from '../../src/observability/logger.js';
import { AwaitedCondition } from './awaited-condition.js';
import { RELAYED_METHODS } from './dialog-relay.js';
import { calledPartyEarlyDialog, sameEarlyDialog, type CalledPartyEarlyDialog } from './early-dialog.js';
import type { DialogRequestEvent, SrfDialog, SrfOutgoingResponse, SrfRequest, SrfResponse, SrfSentRequest } from './srf.js';

/** A request received on one leg of an answered call (`other`: the call's other leg, if it exists), with the response to give it. */
export type LegRequestHook = (call: B2bCall, dialog: SrfDialog, other: SrfDialog | undefined, req: SrfRequest, res: SrfOutgoingResponse) => void;

export interface CallHooks {
  /** An INFO (possibly a copy request). */
  info: LegRequestHook;
  /** A re-INVITE. */
  reInvite: LegRequestHook;
  /** Any other request the dialog hands over (UPDATE, OPTIONS, MESSAGE, REFER, NOTIFY). */
  request: LegRequestHook;
  /** The call is over; called exactly once. */
  ended(call: B2bCall, reason: CallEndReason): void;
}

export class B2bCall {
  private bLegRequest: SrfSentRequest | null = null;
  private readonly dialogs: SrfDialog[] = [];
  private cancelled = false;
  private over = false;
  private markOver!: () => void;
  private readonly overSignal = new Promise<void>((resolve) => (this.markOver = resolve));
  /** BYEs sent and not answered yet. */
  private readonly byes = new Set<Promise<void>>();
  /** Whether the core was told this call started (calls whose parties cannot be identified are not). */
  reportedToCore = false;
  private answered = false;
  /** Reliable 18x sent to the caller, and PRACKs of them received. */
  private reliableSent = 0;
  private reliableAcknowledged = 0;
  private readonly allAcknowledged = new AwaitedCondition(() => this.reliableAcknowledged === this.reliableSent);
  /** Settles once the core has been told the call was answered (at once for a call never answered). */
  answerRecorded: Promise<void> = Promise.resolve();
  /** The called party's early dialog while the call rings (null before a reliable 18x and once answered). */
  earlyDialog: CalledPartyEarlyDialog | null = null;

  constructor(
    /** Call-ID of the caller's leg: the presenting session's key. */
    readonly callId: string,
    /** From tag of the caller's INVITE. */
    readonly fromTag: string | null,
    /** The drachtio-server connection the call came on; both legs live on it. */
    readonly connection: Socket,
    readonly log: Logger,
    private readonly hooks: CallHooks,
  ) {}

  get bLegCallId(): string | null {
    return this.bLegRequest?.get('Call-ID') ?? null;
  }

  /** The front's Contact on the called party's leg, as drachtio-server wrote it on the B-leg INVITE. */
  get bLegContact(): string | null {
    return this.bLegRequest?.get('Contact') ?? null;
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }

  get isOver(): boolean {
    return this.over;
  }

  /** A provisional response of the called party; true when it opened an early dialog other than the one known. */
  calledPartyRang(response: SrfResponse): boolean {
    if (this.over) return false;
    const dialog = calledPartyEarlyDialog(response);
    if (!dialog || sameEarlyDialog(this.earlyDialog, dialog)) return false;
    this.earlyDialog = dialog;
    return true;
  }

  /** The 200 went to the caller; true the first time only. */
  markAnswered(): boolean {
    if (this.answered) return false;
    this.answered = true;
    return true;
  }

  /** A provisional response went to the caller reliably. */
  reliableProvisionalSent(): void {
    this.reliableSent++;
  }

  /** The caller PRACKed one. */
  reliableProvisionalAcknowledged(): void {
    this.reliableAcknowledged = Math.min(this.reliableSent, this.reliableAcknowledged + 1);
    this.allAcknowledged.changed();
  }

  /** Some reliable 18x sent to the caller is not PRACKed yet. */
  get awaitingPrack(): boolean {
    return this.reliableAcknowledged < this.reliableSent;
  }

  /** Resolves true once every reliable 18x sent to the caller is PRACKed, false when `limitMs` passes first. */
  reliableProvisionalsAcknowledged(limitMs: number): Promise<boolean> {
    return this.allAcknowledged.wait(limitMs);
  }

  /** The caller sent CANCEL (drachtio-srf relays it to the B leg itself). */
  callerCancelled(): void {
    this.cancelled = true;
  }

  /** The INVITE toward the called party is on its way. */
  bLegSent(request: SrfSentRequest): void {
    this.bLegRequest = request;
  }

  /**
   * Takes charge of a leg as soon as it exists. A leg that is already gone (a BYE that arrived
   * before this call could listen) is handled here, so its partner is never left up.
   */
  adopt(dialog: SrfDialog): void {
    if (this.dialogs.includes(dialog)) return;
    this.dialogs.push(dialog);
    if (this.over) {
      this.bye(dialog); // the call ended while this leg was being set up
      return;
    }
    dialog.on('destroy', () => this.legEnded(dialog));
    dialog.on('info', (req, res) => this.hooks.info(this, dialog, this.otherLeg(dialog), req, res));
    dialog.on('modify', (req, res) => this.hooks.reInvite(this, dialog, this.otherLeg(dialog), req, res));
    for (const method of RELAYED_METHODS) {
      dialog.on(method.toLowerCase() as DialogRequestEvent, (req, res) => this.hooks.request(this, dialog, this.otherLeg(dialog), req, res));
    }
    if (!dialog.connected) this.legEnded(dialog);
  }

  /**
   * The call's leg on the other side of `dialog`. drachtio-srf links the two (`dialog.other`) only
   * once the call is set up; a request may come in before that, so the call knows them itself.
   */
  otherLeg(dialog: SrfDialog): SrfDialog | undefined {
    return this.dialogs.find((d) => d !== dialog && d.type !== dialog.type);
  }

  /** The call did not get answered. */
  failed(): void {
    this.end(this.cancelled ? 'cancel' : 'failure');
  }

  /** Ends the call from this side: BYE on every leg that is up, or CANCEL toward a called party not yet answered. */
  hangUp(): void {
    if (this.dialogs.length > 0) {
      for (const dialog of this.dialogs) if (dialog.connected) this.bye(dialog);
      this.end('bye');
      return;
    }
    try {
      this.bLegRequest?.cancel(); // drachtio-srf relays the called party's 487 to the caller
    } catch (err) {
      this.log.warn({ event: 'call', err: (err as Error).message }, 'could not cancel the called party');
    }
    this.end('cancel');
  }

  /**
   * The connection to drachtio-server is gone: its dialogs stay on drachtio-server, bound to the
   * old connection, so this instance can neither hear of nor act on this call any more.
   */
  connectionLost(): void {
    this.end('failure');
  }

  private legEnded(dialog: SrfDialog): void {
    for (const other of this.dialogs) if (other !== dialog && other.connected) this.bye(other);
    this.end('bye');
  }

  /** Resolves once the call is over and every BYE it sent has had its answer (or failed). */
  async settled(): Promise<void> {
    await this.overSignal;
    while (this.byes.size > 0) await Promise.allSettled([...this.byes]);
  }

  private bye(dialog: SrfDialog): void {
    const sent: Promise<void> = dialog
      .destroy()
      .then(
        () => undefined,
        (err: unknown) => {
          this.log.warn({ event: 'call', leg: dialog.type, err: (err as Error).message }, 'BYE failed');
        },
      )
      .finally(() => this.byes.delete(sent));
    this.byes.add(sent);
  }

  private end(reason: CallEndReason): void {
    if (this.over) return;
    this.over = true;
    this.markOver();
    this.hooks.ended(this, reason);
  }
}
