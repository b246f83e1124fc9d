/**
 * Where the B-leg INVITE goes. In IMS the S-CSCF routes the call to the AS with a Route set
 * whose first entry names the AS and the rest point back to the S-CSCF (with its `odi` state):
 * the AS sends the INVITE on along the remaining Route, Request-URI unchanged. Without a
 * remaining Route the INVITE goes to the Request-URI, through the outbound proxy if one is set.
 */
import { headerEntries, uriOf } from '../common/header-values.js';

export interface NextHop {
  /** URI the INVITE is physically sent to (drachtio's per-request outbound proxy). */
  proxy?: string;
  /** Route header for the B-leg INVITE. */
  route?: string;
}

/**
 * @param route the INVITE's Route header
 * @param ownAddresses `host:port` under which the drachtio-server receives SIP
 * @param outboundProxy `CMR_SIP_OUTBOUND_PROXY`
 */
export function nextHop(route: string | undefined, ownAddresses: ReadonlySet<string>, outboundProxy: string | null): NextHop {
  const entries = headerEntries(route);
  while (entries.length > 0 && ownAddresses.has(hostPortOf(uriOf(entries[0]!)) ?? '')) entries.shift();
  if (entries.length > 0) return { proxy: uriOf(entries[0]!), route: entries.join(', ') };
  return outboundProxy ? { proxy: outboundProxy } : {};
}

/** `host:port` of a SIP URI, host lower-cased, default port filled in; null when not a SIP URI. */
export function hostPortOf(uri: string): string | null {
  const match = /^(sips?):(?:[^@]*@)?(\[[^\]]+\]|[^:;?>]+)(?::(\d+))?/i.exec(uri.trim());
  if (!match) return null;
  const port = match[3] ?? (match[1]!.toLowerCase() === 'sips' ? '5061' : '5060');
  return `${match[2]!.toLowerCase()}:${port}`;
}
