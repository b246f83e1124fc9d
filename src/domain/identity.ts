/**
 * Public user identities in canonical form (contract §1):
 * - `tel:+<E.164 digits>`, also for `sip:+<digits>@host;user=phone`;
 * - `sip:<user>@<host>` otherwise, host lower-cased, port, parameters and headers dropped.
 * Everything else is refused. Pure: no I/O.
 */

export type Identity = string & { readonly __identity: unique symbol };

export type IdentityResult = { ok: true; identity: Identity } | { ok: false; reason: string };

const MAX_LENGTH = 256;
/** RFC 3966 visual separators, allowed in input, dropped from the canonical form. */
const VISUAL_SEPARATORS = /[-.()]/g;
/** E.164: at most 15 digits, country code does not start with 0. */
const E164 = /^[1-9]\d{2,14}$/;
/** RFC 3261 user part: unreserved, escaped and user-unreserved characters. */
const SIP_USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
const HOSTNAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV6_REFERENCE = /^\[[0-9A-Fa-f:.]+\]$/;

export function parseIdentity(input: unknown): IdentityResult {
  if (typeof input !== 'string') return bad('identity must be a string');
  if (input.length === 0) return bad('identity is empty');
  if (input.length > MAX_LENGTH) return bad(`identity is longer than ${MAX_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(input)) return bad('identity contains spaces or control characters');

  const colon = input.indexOf(':');
  if (colon <= 0) return bad('identity has no scheme (tel: or sip:)');
  const scheme = input.slice(0, colon).toLowerCase();
  const rest = input.slice(colon + 1);
  if (scheme === 'tel') return parseTel(rest);
  if (scheme === 'sip' || scheme === 'sips') return parseSip(rest);
  return bad(`unsupported scheme "${scheme}" (tel: or sip:)`);
}

/** Canonical identity or `null`, for callers that only need yes/no. */
export function normaliseIdentity(input: unknown): Identity | null {
  const result = parseIdentity(input);
  return result.ok ? result.identity : null;
}

function parseTel(rest: string): IdentityResult {
  const number = rest.split(';')[0]!;
  if (!number.startsWith('+')) return bad('tel: identity must be a global number (+ and E.164 digits)');
  const digits = number.slice(1).replace(VISUAL_SEPARATORS, '');
  if (!E164.test(digits)) return bad('tel: identity must have 3 to 15 E.164 digits');
  return good(`tel:+${digits}`);
}

function parseSip(rest: string): IdentityResult {
  const headersAt = rest.indexOf('?');
  const withoutHeaders = headersAt >= 0 ? rest.slice(0, headersAt) : rest;
  const at = withoutHeaders.lastIndexOf('@');
  if (at <= 0) return bad('sip: identity needs user@host');
  const user = withoutHeaders.slice(0, at);
  const [hostPort, ...params] = withoutHeaders.slice(at + 1).split(';');
  if (!SIP_USER.test(user)) return bad('sip: identity has a bad user part');

  const host = hostOf(hostPort ?? '');
  if (host === null) return bad('sip: identity has a bad host');

  const userIsPhone = params.some((p) => p.toLowerCase() === 'user=phone');
  if (userIsPhone && user.startsWith('+')) {
    const digits = user.slice(1).split(';')[0]!.replace(VISUAL_SEPARATORS, '');
    if (!E164.test(digits)) return bad('sip: identity with user=phone must carry a global E.164 number');
    return good(`tel:+${digits}`);
  }
  if (/[{}]/.test(user)) return bad('sip: identity has a bad user part');
  return good(`sip:${user}@${host}`);
}

function hostOf(hostPort: string): string | null {
  let host: string;
  let port: string | undefined;
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    if (end < 0) return null;
    host = hostPort.slice(0, end + 1);
    const after = hostPort.slice(end + 1);
    if (after && !after.startsWith(':')) return null;
    port = after ? after.slice(1) : undefined;
    if (!IPV6_REFERENCE.test(host)) return null;
  } else {
    const parts = hostPort.split(':');
    if (parts.length > 2) return null;
    host = parts[0]!;
    port = parts[1];
    if (!HOSTNAME.test(host)) return null;
  }
  if (port !== undefined && !/^\d{1,5}$/.test(port)) return null;
  return host.toLowerCase().replace(/\.$/, '');
}

function good(identity: string): IdentityResult {
  return { ok: true, identity: identity as Identity };
}

function bad(reason: string): IdentityResult {
  return { ok: false, reason };
}
