/**
 * Requests inside an answered call that are not the server's business: the B2BUA passes them to
 * the other leg and the other party's answer back, so the two parties talk as if through a
 * proxy. re-INVITE and UPDATE (hold, resume, codec change, session refresh), OPTIONS, MESSAGE,
 * REFER and NOTIFY, and any INFO the copy service did not take.
 *
 * What belongs to one leg (Via, tags, Call-ID, CSeq, Contact, Route) stays on that leg; every
 * other header and the body travel unchanged, asserted identities only from trusted peers.
 */
import { sipWarning } from '../../src/calls/sip-warning.js';
import type { Cidr } from '../../src/config/cidr.js';
import { isTrusted } from '../../src/config/cidr.js';
import type { Logger } from '../../src/observability/logger.js';
import type { CalledPartyEarlyDialog } from './early-dialog.js';
import { withDeadline } from '../common/deadline.js';
import { relayedHeaders } from './sip-headers.js';
import {
  isDialogGone,
  sendableStatus,
  type AckSender,
  type DialogRequestMethod,
  type DialogRequestOptions,
  type NewRequestOptions,
  type SipHeaders,
  type SrfDialog,
  type SrfOutgoingResponse,
  type SrfRequest,
  type SrfResponse,
} from './srf.js';

/**
 * Longest wait for the other party's final response: past a transaction's own timeout (64×T1,
 * 32 s), which drachtio-server reports as a 408. Only a lost connection to drachtio-server, whose
 * pending requests drachtio-srf forgets, runs into it.
 */
const RELAY_WAIT_MS = 40_000;
/** How long the ACK carrying the answer to an offerless re-INVITE's 2xx is waited for (64×T1). */
const ACK_WAIT_MS = 32_000;

/** The other party gave no final response in time (or the connection to drachtio-server went). */
class RelayTimeout extends Error {
  constructor() {
    super('no final response from the other party');
  }
}

/** Request-URI of a request sent in a dialog drachtio-server keeps: it is replaced by the dialog's remote target. */
const IN_DIALOG_URI = 'sip:placeholder';

/** Methods a leg's dialog hands to the application (drachtio-srf names its events after them). */
export const RELAYED_METHODS = ['UPDATE', 'OPTIONS', 'MESSAGE', 'REFER', 'NOTIFY'] as const;
export type RelayedMethod = (typeof RELAYED_METHODS)[number];

export interface DialogRelayOptions {
  /** Host named in the Warning of the answers the server gives itself. */
  warnHost: string;
  trusted: readonly Cidr[];
  /** Sends a request outside any dialog drachtio-server knows; resolves with the final response. */
  sendRequest(uri: string, options: NewRequestOptions): Promise<SrfResponse>;
}

export class DialogRelay {
  constructor(private readonly options: DialogRelayOptions) {}

  /** Passes a request (not an INVITE) on `dialog` to the `other` leg and its final response back. */
  async request(dialog: SrfDialog, other: SrfDialog | undefined, req: SrfRequest, res: SrfOutgoingResponse, log: Logger): Promise<void> {
    if (!this.isUp(other, res)) return;
    const method = req.method as DialogRequestMethod;
    let response: SrfResponse;
    try {
      ({ response } = await withRelayDeadline(sendInDialog(other, { method, headers: this.headersOf(req, other, method), ...(req.body ? { body: req.body } : {}) })));
    } catch (err) {
      this.failed(dialog.type, req, res, err, log);
      return;
    }
    log.info({ event: 'relay', method, leg: dialog.type, status: response.status }, `relayed ${method}`);
    this.answer(res, response, refreshesTarget(method) ? dialog.local?.contact : undefined);
  }

  /**
   * Passes a request the caller sent in its early dialog (while the call rings: an INFO, an
   * UPDATE) into the called party's early dialog, and the called party's final response back.
   * An UPDATE refreshes the target: it names the front's Contact on each leg (`contacts`).
   */
  async earlyRequest(
    calledParty: CalledPartyEarlyDialog,
    req: SrfRequest,
    res: SrfOutgoingResponse,
    log: Logger,
    contacts: { theirContact: string; ourContact: string | undefined } | null = null,
  ): Promise<void> {
    const method = req.method as DialogRequestMethod;
    const headers = relayedHeaders(req.headers, this.isTrusted(req.source_address));
    let response: SrfResponse;
    try {
      // drachtio-server puts the dialog's remote target in place of this Request-URI.
      response = await withRelayDeadline(
        this.options.sendRequest(IN_DIALOG_URI, {
          method,
          headers: contacts ? { ...headers, Contact: contacts.theirContact } : headers,
          ...(req.body ? { body: req.body } : {}),
          stackDialogId: calledParty.stackDialogId,
          _socket: req.socket,
        }),
      );
    } catch (err) {
      this.failed('uas', req, res, err, log);
      return;
    }
    log.info({ event: 'relay', method, early: true, status: response.status }, `relayed ${method} in the early dialog`);
    this.answer(res, response, contacts?.ourContact);
  }

  /**
   * Passes a re-INVITE to the other leg. With an offer, the other leg's stack ACKs its 2xx and
   * the answer goes back in ours. Without one (an offerless re-INVITE) the 2xx of the other leg
   * carries the offer: it goes back to the sender, whose ACK carries the answer the other leg's
   * ACK must wait for.
   */
  async reInvite(dialog: SrfDialog, other: SrfDialog | undefined, req: SrfRequest, res: SrfOutgoingResponse, log: Logger): Promise<void> {
    if (!this.isUp(other, res)) return;
    const offer = req.body ? req.body : undefined;
    let relayed: { response: SrfResponse; ack: AckSender | undefined };
    try {
      // Without an offer, drachtio-srf leaves the ACK of the other leg's 2xx to us (noAck).
      relayed = await withRelayDeadline(
        sendInDialog(other, { method: 'INVITE', headers: this.headersOf(req, other, 'INVITE'), noAck: true, ...(offer ? { body: offer } : {}) }),
      );
    } catch (err) {
      this.failed(dialog.type, req, res, err, log);
      return;
    }
    const { response, ack } = relayed;
    log.info({ event: 'relay', method: 'INVITE', leg: dialog.type, status: response.status, offerless: !offer }, 'relayed re-INVITE');
    if (ack) this.passAckOn(dialog, ack, log);
    this.answer(res, response, dialog.local?.contact);
  }

  /**
   * The sender's ACK carries the answer to the offer in the other leg's 2xx: it goes on in that
   * leg's ACK once it comes. One that never comes leaves no listener behind to catch the ACK of a
   * later re-INVITE.
   */
  private passAckOn(dialog: SrfDialog, ack: AckSender, log: Logger): void {
    const passOn = (ackReq: SrfRequest) => {
      clearTimeout(timer);
      try {
        ack({ body: ackReq.body ?? '' });
      } catch (err) {
        log.warn({ event: 'relay', method: 'ACK', leg: dialog.type, err: (err as Error).message }, 'passing the ACK on failed');
      }
    };
    const timer = setTimeout(() => {
      dialog.removeListener('ack', passOn);
      log.warn({ event: 'relay', method: 'ACK', leg: dialog.type }, 'no ACK with the answer to an offerless re-INVITE came');
    }, ACK_WAIT_MS);
    timer.unref();
    dialog.once('ack', passOn);
  }

  /** The other leg is there to pass the request on to; else the request is answered 481. */
  private isUp(other: SrfDialog | undefined, res: SrfOutgoingResponse): other is SrfDialog {
    if (other?.connected) return true;
    res.send(481, undefined, { headers: { Warning: sipWarning(this.options.warnHost, 'the other party has left the call') } });
    return false;
  }

  /** The headers of the request on the other leg; a target refresh names that leg's own Contact. */
  private headersOf(req: SrfRequest, other: SrfDialog, method: DialogRequestMethod): SipHeaders {
    const headers = relayedHeaders(req.headers, this.isTrusted(req.source_address));
    return refreshesTarget(method) && other.local?.contact ? { ...headers, Contact: other.local.contact } : headers;
  }

  /** The other party's final response, as this leg's response; a 2xx to a target refresh names this leg's `contact`. */
  private answer(res: SrfOutgoingResponse, response: SrfResponse, contact: string | undefined): void {
    const headers = relayedHeaders(response.headers, this.isTrusted(response.source_address));
    if (response.status >= 300) contact = undefined;
    if (response.status === 401 || response.status === 407) {
      // A challenge for credentials of the other leg, which the sender cannot answer on its own leg.
      res.send(403, undefined, { headers: { Warning: sipWarning(this.options.warnHost, 'the other party asks for credentials') } });
      return;
    }
    const status = sendableStatus(response.status);
    res.send(status, status === response.status ? response.reason : undefined, {
      headers: contact ? { ...headers, Contact: contact } : headers,
      ...(response.body ? { body: response.body } : {}),
    });
  }

  private failed(leg: SrfDialog['type'], req: SrfRequest, res: SrfOutgoingResponse, err: unknown, log: Logger): void {
    log.warn({ event: 'relay', method: req.method, leg, err: (err as Error).message }, `relaying ${req.method} failed`);
    if (res.finalResponseSent) return;
    res.send(err instanceof RelayTimeout ? 408 : isDialogGone(err) ? 481 : 500, undefined, {
      headers: { Warning: sipWarning(this.options.warnHost, `${req.method} could not be passed to the other party`) },
    });
  }

  private isTrusted(address: string | undefined): boolean {
    return isTrusted(address, this.options.trusted);
  }
}

/** re-INVITE and UPDATE may change the remote target (RFC 3261 §12.2, RFC 3311 §5.2). */
function refreshesTarget(method: DialogRequestMethod): boolean {
  return method === 'INVITE' || method === 'UPDATE';
}

/** The final response, or a `RelayTimeout` once `RELAY_WAIT_MS` has passed without it. */
function withRelayDeadline<T>(sent: Promise<T>): Promise<T> {
  return withDeadline(sent, RELAY_WAIT_MS, () => new RelayTimeout());
}

/**
 * Sends a request inside a leg's dialog and resolves with its final response. The callback form
 * of drachtio-srf's `Dialog#request` is used because it also reports provisional responses (which
 * are skipped here) and is the only one that hands over the ACK of an offerless re-INVITE's 2xx.
 */
function sendInDialog(leg: SrfDialog, options: DialogRequestOptions): Promise<{ response: SrfResponse; ack: AckSender | undefined }> {
  return new Promise((resolve, reject) => {
    leg.request(options, (err, response, ack) => {
      if (err) reject(err);
      else if (response && response.status >= 200) resolve({ response, ack });
    });
  });
}
