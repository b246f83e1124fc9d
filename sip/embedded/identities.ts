/**
 * Who is calling whom, and who sends an INFO (contract §3): P-Asserted-Identity and
 * P-Served-User count only from trusted peers; otherwise From and the Request-URI do.
 */
import { normaliseIdentity, type Identity } from '../../src/domain/identity.js';
import { firstUriIn, headerValue, uriText } from '../sip-stack/message.js';
import type { SipRequest } from '../sip-stack/sip-package.js';

/** The asserted identity of a request's sender: the caller of an INVITE, the requestor of an INFO. */
export function senderIdentity(request: SipRequest, trusted: boolean): Identity | null {
  const asserted = trusted ? normaliseIdentity(firstUriIn(headerValue(request, 'p-asserted-identity'))) : null;
  return asserted ?? normaliseIdentity(uriText(request.headers.from.uri));
}

/** The called party of an initial INVITE: P-Served-User from a trusted peer, else the Request-URI. */
export function calledIdentity(request: SipRequest, trusted: boolean): Identity | null {
  const served = trusted ? normaliseIdentity(firstUriIn(headerValue(request, 'p-served-user'))) : null;
  return served ?? normaliseIdentity(request.uri);
}
