/**
 * Who may use the server (contract §3), the same on both fronts: an IMS application server
 * takes initial requests from its S-CSCFs (`CMR_SIP_TRUSTED`) and from the peers allowed to call
 * directly (`CMR_SIP_ACCESS`: lab handsets, WebRTC clients). Anyone else is a stranger: its
 * initial requests are refused with 403 and forwarded nowhere, so the server is no open relay.
 * Only trusted peers may assert identities (RFC 3325); an access peer is a handset, never a network.
 * An address in both lists is an access peer: the list of handsets is the narrower one (a lab's
 * handsets on the S-CSCFs' loopback, say).
 */
import { isTrusted, type Cidr } from '../../src/config/cidr.js';

export type Standing = 'trusted' | 'access' | 'stranger';

export interface AccessRule {
  trusted: readonly Cidr[];
  access: readonly Cidr[];
}

export function standingOf(address: string | undefined, rule: AccessRule): Standing {
  if (isTrusted(address, rule.access)) return 'access';
  if (isTrusted(address, rule.trusted)) return 'trusted';
  return 'stranger';
}

/** The Warning text of the 403 a stranger's initial request gets. */
export const STRANGER_REFUSAL = 'initial requests are taken only from the S-CSCFs and access peers of this server';
