/**
 * What the SIP front asks of a media function to play a ringback tone to the caller (3GPP CAT,
 * gateway model): nothing here knows rtpengine. Every method resolves, within the time it is
 * given; a fault means no tone, never a failed call.
 */
import type { PresentedResource } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';

export interface ToneCall {
  /** Call-ID of the caller's leg: names the media session. */
  callId: string;
  /** The caller's From tag: the tone is played toward it. */
  fromTag: string;
  /** The caller's offer. */
  callerSdp: string;
  log: Logger;
}

/** A tone playing to the caller: the two session descriptions the front puts on the wire. */
export interface TonePlaying {
  /** The media function's answer to the caller: in the 183 and again, unchanged, in the 200. */
  callerSdp: string;
  /** The media function's offer toward the called party: the B-leg INVITE's body. */
  calledOffer: string;
}

export interface MediaPort {
  /**
   * Starts playing `resource` to the caller, repeated until the answer; null when it cannot be
   * played within `waitMs` (the call goes on without a tone, nothing left behind).
   */
  startTone(call: ToneCall, resource: PresentedResource, waitMs: number): Promise<TonePlaying | null>;
  /** The called party answered with `calledSdp`: the tone stops and the parties' media flows. Resolves with the media function's answer for the caller (null on a fault). */
  answered(callId: string, calledSdp: string): Promise<string | null>;
  /** The call is over (or never got a tone): the media session goes at once. */
  end(callId: string): void;
  close(): Promise<void>;
}
