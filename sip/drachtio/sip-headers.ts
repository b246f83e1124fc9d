/**
 * Shaping SIP header values for the drachtio B2BUA: what a leg's headers become on the other leg.
 * Pure functions over header strings, so these rules are testable alone.
 */
import { ASSERTED_IDENTITY_HEADERS } from '../common/identities.js';
import type { SipHeaders } from './srf.js';

/** A `From`/`To` value without its `tag` parameter (the B2BUA's other leg has its own tags). */
export function withoutTag(value: string): string {
  const close = value.lastIndexOf('>');
  const head = close >= 0 ? value.slice(0, close + 1) : '';
  const params = close >= 0 ? value.slice(close + 1) : value;
  return head + params.replace(/;\s*tag\s*=\s*[^;]*/gi, '');
}

/**
 * Headers that belong to one hop or one dialog: a B2BUA relaying a request or response to the
 * other leg leaves them to the stack of that leg, and copies everything else unchanged.
 */
const LEG_HEADERS = new Set([
  'via',
  'from',
  'to',
  'call-id',
  'cseq',
  'contact',
  'content-length',
  'max-forwards',
  'route',
  'record-route',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
]);

/** Identities a peer asserts: passed on only when that peer is trusted (RFC 3325 §5). */
const ASSERTED = new Set<string>(ASSERTED_IDENTITY_HEADERS.map((h) => h.toLowerCase()));

/** The headers of a received message that travel on to the other leg. */
export function relayedHeaders(headers: SipHeaders, fromTrustedPeer: boolean): SipHeaders {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => {
      const lower = name.toLowerCase();
      return !LEG_HEADERS.has(lower) && (fromTrustedPeer || !ASSERTED.has(lower));
    }),
  );
}
