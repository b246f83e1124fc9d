/**
 * Bearer credentials of a request (RFC 8898: `Authorization: Bearer <token>`), read from its
 * text: the `sip` package reads only digest credentials and drops a header it cannot read so.
 * Kept beside the parsed request (never in its headers, so it is never forwarded).
 */
import type { SipRequest } from './sip-package.js';

const tokens = new WeakMap<SipRequest, string>();
const BEARER = /^authorization[ \t]*:[ \t]*bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/im;

/** Notes the bearer token of a REGISTER, the one request whose credentials this server reads. */
export function keepBearerToken(request: SipRequest, bytes: Buffer): void {
  if (request.method !== 'REGISTER') return;
  const end = bytes.indexOf('\r\n\r\n');
  const head = (end < 0 ? bytes : bytes.subarray(0, end)).toString('latin1');
  const token = BEARER.exec(head)?.[1];
  if (token) tokens.set(request, token);
}

export function bearerTokenOf(request: SipRequest): string | null {
  return tokens.get(request) ?? null;
}
