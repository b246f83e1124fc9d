/**
 * The port between the SIP fronts and the copy service for in-dialog INFO (contract §3.2).
 * A front hands over every in-dialog INFO as an `InfoMessage`; the core answers with the SIP
 * response to send, or `null` when the INFO is not a copy request and must pass through to the
 * other party unchanged. Both fronts share this, so they can never answer differently.
 */
import type { Identity } from '../domain/identity.js';

export interface InfoMessage {
  callId: string;
  /** From tag of the dialog's initial INVITE (the caller's tag), when the front knows it. */
  dialogFromTag: string | null;
  /** From tag of this INFO (names the sender side). */
  fromTag: string | null;
  cseq: number;
  /** Asserted identity of the INFO's sender (P-Asserted-Identity from a trusted peer, else From). */
  requestor: Identity | null;
  /** `Info-Package` header value, lower-cased, parameters dropped; null when absent. */
  infoPackage: string | null;
  /** `Content-Type` media type, lower-cased, parameters dropped; null when absent. */
  contentType: string | null;
  body: string;
  /** Source address of the INFO, for logs. */
  source?: string;
}

export interface SipAnswer {
  status: number;
  reason: string;
  headers: Record<string, string>;
  contentType?: string;
  body?: string;
}

export interface SipCopyPort {
  /** The answer to a copy INFO, or null when the INFO must pass through unchanged. Never throws. */
  handleInfo(info: InfoMessage): Promise<SipAnswer | null>;
}
