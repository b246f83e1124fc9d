/**
 * 100rel on the caller's leg (RFC 3262). The B2BUA answers for its own leg: drachtio-srf PRACKs
 * the called party's reliable 18x itself as they arrive, and the caller's PRACKs of the 18x the
 * front sends reliably are answered on the caller's leg (drachtio-server hands them to the app,
 * drachtio-srf answers 200). What decides whether an 18x goes to the caller reliably is what the
 * caller's INVITE says it takes, not how the called party sent it.
 */
import { headerEntries } from '../common/header-values.js';

/** What the caller's INVITE says of 100rel: in Require (every 18x reliable), in Supported, or neither. */
export type CallerReliability = 'required' | 'supported' | 'none';

export function callerReliability(require: string | undefined, supported: string | undefined): CallerReliability {
  if (hasOptionTag(require, '100rel')) return 'required';
  return hasOptionTag(supported, '100rel') ? 'supported' : 'none';
}

/**
 * Whether a provisional response goes to the caller reliably: every 18x, to a caller that requires
 * or supports 100rel (RFC 3262 §3 lets a UAS send any 18x reliably to a UAC that supports it). Not
 * only those with SDP: drachtio-server 0.9 routes the caller's requests in the early dialog (a copy
 * INFO while it rings) to the application only once the caller has PRACKed a reliable 18x; before
 * that it answers them 500 itself.
 */
export function sendReliably(caller: CallerReliability, status: number): boolean {
  return status > 100 && status < 200 && caller !== 'none';
}

/** The B leg's Supported: the caller's, with 100rel added when the caller only named it in Require (this leg does not require it). */
export function calledPartySupported(caller: CallerReliability, supported: string | undefined): string | undefined {
  if (caller !== 'required' || hasOptionTag(supported, '100rel')) return supported;
  return [...headerEntries(supported), '100rel'].join(', ');
}

function hasOptionTag(value: string | undefined, tag: string): boolean {
  return headerEntries(value).some((entry) => entry.toLowerCase() === tag);
}
