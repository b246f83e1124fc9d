/**
 * Reading and shaping SIP header values for the drachtio front. Pure functions over header
 * strings, so the rules (which identity counts, what a B2BUA may copy across) are testable alone.
 */
import { normaliseIdentity, type Identity } from '../../src/domain/identity.js';
import type { SipHeaders } from './srf.js';

/**
 * Splits a header value into its comma-separated entries, ignoring commas inside `<…>` and
 * quoted strings (RFC 3261 §7.3.1: a list header may come as one line or several).
 */
export function headerEntries(value: string | undefined): string[] {
  if (!value) return [];
  const entries: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && c === ',') {
      entries.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  entries.push(value.slice(start).trim());
  return entries.filter((e) => e.length > 0);
}

/** The URI of a name-addr (`"Bob" <sip:bob@x>;tag=1`) or addr-spec (`sip:bob@x;tag=1`) entry. */
export function uriOf(entry: string): string {
  const open = entry.indexOf('<');
  if (open >= 0) {
    const close = entry.indexOf('>', open);
    return entry.slice(open + 1, close < 0 ? undefined : close).trim();
  }
  // addr-spec form: everything after the first ';' are header parameters (RFC 3261 §20).
  return entry.split(';')[0]!.trim();
}

/** The first entry of an identity header (P-Asserted-Identity, P-Served-User, From) that names a valid identity. */
export function identityIn(value: string | undefined): Identity | null {
  for (const entry of headerEntries(value)) {
    const identity = normaliseIdentity(uriOf(entry));
    if (identity) return identity;
  }
  return null;
}

/** `Content-Type`/`Info-Package` value, lower-cased, parameters dropped; null when absent or empty. */
export function bareToken(value: string | undefined): string | null {
  const token = value?.split(';')[0]?.trim().toLowerCase();
  return token ? token : null;
}

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
export const ASSERTED_IDENTITY_HEADERS = ['P-Asserted-Identity', 'P-Served-User'];
const ASSERTED = new Set(ASSERTED_IDENTITY_HEADERS.map((h) => h.toLowerCase()));

/** The headers of a received message that travel on to the other leg. */
export function relayedHeaders(headers: SipHeaders, fromTrustedPeer: boolean): SipHeaders {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => {
      const lower = name.toLowerCase();
      return !LEG_HEADERS.has(lower) && (fromTrustedPeer || !ASSERTED.has(lower));
    }),
  );
}

/** `Warning: 399 <host> "<text>"` (RFC 3261 §20.43): the reason a request was refused. */
export function warning(host: string, text: string): string {
  return `399 ${host} "${text.replace(/["\\]/g, '')}"`;
}
