/**
 * Who is calling whom, and who sends an in-dialog request (contract §3), the same for both
 * fronts: P-Asserted-Identity and P-Served-User count only from trusted peers (`CMR_SIP_TRUSTED`);
 * otherwise the From URI and the Request-URI do.
 */
import { normaliseIdentity, type Identity } from '../../src/domain/identity.js';
import { headerEntries, uriOf } from './header-values.js';

/** Headers in which a peer asserts identities: honoured, and passed on, only from trusted peers (RFC 3325 §5). */
export const ASSERTED_IDENTITY_HEADERS = ['P-Asserted-Identity', 'P-Served-User'] as const;

/**
 * The first entry of an identity header (P-Asserted-Identity, P-Served-User) that names a valid
 * identity: an asserted identity may come as a SIP URI and a tel URI (RFC 3325 §9.1).
 */
export function identityIn(value: string | undefined): Identity | null {
  for (const entry of headerEntries(value)) {
    const identity = normaliseIdentity(uriOf(entry));
    if (identity) return identity;
  }
  return null;
}

/**
 * The sender of a request: the caller of an initial INVITE, the requestor of an INFO.
 * @param assertedIdentity the request's P-Asserted-Identity header
 * @param fromUri the URI of its From header
 */
export function senderIdentity(trusted: boolean, assertedIdentity: string | undefined, fromUri: string): Identity | null {
  return (trusted ? identityIn(assertedIdentity) : null) ?? normaliseIdentity(fromUri);
}

/**
 * The called party of an initial INVITE.
 * @param servedUser the INVITE's P-Served-User header
 */
export function calledIdentity(trusted: boolean, servedUser: string | undefined, requestUri: string): Identity | null {
  return (trusted ? identityIn(servedUser) : null) ?? normaliseIdentity(requestUri);
}
