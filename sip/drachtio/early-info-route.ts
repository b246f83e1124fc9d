/**
 * Where an INFO sent before the call is answered goes. drachtio-server hands it to the app
 * outside any dialog drachtio-srf knows (to any instance that routes INFO, or, once the caller
 * has PRACKed a reliable 18x, to the instance that sent it), so the front decides from what it
 * can find out: the copy service's answer, whether any instance knows the call, who sent it,
 * and whether the called party has an early dialog drachtio-server keeps (a reliable 18x).
 */

export interface EarlyInfoFacts {
  /** The copy service answered it (a copy request, or a refused one). */
  copyAnswered: boolean;
  /** This instance holds the call, or the store has its presenting session. */
  callKnown: boolean;
  /** Sent by the caller (on the caller's leg), not by the called party. */
  fromCaller: boolean;
  /** The called party's early dialog is known, to pass the INFO on in. */
  calledPartyEarlyDialog: boolean;
}

export type EarlyInfoRoute =
  /** The copy service's answer goes back. */
  | 'copy'
  /** Passed on into the called party's early dialog; its answer comes back. */
  | 'relay'
  /** 469 with Recv-Info: cmr-copy: nothing to pass it on in (no reliable 18x, or the called party sent it). */
  | 'refuse'
  /** 481: no instance knows the call. */
  | 'unknown-call';

export function earlyInfoRoute(facts: EarlyInfoFacts): EarlyInfoRoute {
  if (facts.copyAnswered) return 'copy';
  if (!facts.callKnown) return 'unknown-call';
  return facts.fromCaller && facts.calledPartyEarlyDialog ? 'relay' : 'refuse';
}
