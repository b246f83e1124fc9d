/**
 * How the handset writes and reads SIP addresses: its identity as its SIP URI, what the user
 * dials as a target, identities as the server compares them (contract §1), and the resources an
 * `Alert-Info` announces.
 */

/** What the server tells the handset about SIP (`/handset/sip.json`). */
export interface SipSettings {
  /** The embedded front's WebSocket port (`CMR_SIP_WS_PORT`); null when it takes no WebSocket. */
  webSocketPort: number | null;
  /** `host:port` of the embedded front: the domain of handsets' SIP URIs. */
  domain: string;
}

const GLOBAL_NUMBER = /^\+[0-9]{3,15}$/;

/** The SIP URI of an identity: `tel:+1555…` is `sip:+1555…@<domain>;user=phone`. */
export function sipUriOf(identity: string, domain: string): string {
  if (identity.startsWith('tel:')) return `sip:${identity.slice(4)}@${domain};user=phone`;
  return identity;
}

/** The SIP URI to call for what the user typed, or the reason it cannot be called. */
export function dialled(input: string, domain: string): { uri: string; identity: string } | { error: string } {
  const text = input.trim();
  const number = (text.startsWith('tel:') ? text.slice(4) : text).replace(/[\s().-]/g, '');
  if (GLOBAL_NUMBER.test(number)) return { uri: sipUriOf(`tel:${number}`, domain), identity: `tel:${number}` };
  const identity = /^sips?:\S+@\S+$/i.test(text) ? identityOf(text) : null;
  if (identity) return { uri: text, identity };
  return { error: 'enter a global number (+ and digits), or a tel: or sip: URI' };
}

/** The canonical identity of a SIP or tel URI (contract §1), or null. */
export function identityOf(uri: string): string | null {
  const plain = uri.trim().replace(/^<|>$/g, '');
  const tel = /^tel:(\+[0-9]+)/i.exec(plain);
  if (tel) return `tel:${tel[1]}`;
  const sip = /^sips?:([^@;?]+)@([^;?>:]+)(?::\d+)?([^?>]*)/i.exec(plain);
  if (!sip) return null;
  const [, user, host, params] = sip;
  if (/;user=phone/i.test(params ?? '') && GLOBAL_NUMBER.test(user!)) return `tel:${user}`;
  return `sip:${user}@${host!.toLowerCase()}`;
}

/** A resource announced in `Alert-Info: <contentUri>;resource=<id>`. */
export interface Announced {
  resourceId: string;
  contentUri: string;
}

export function announcedIn(alertInfo: readonly string[]): Announced[] {
  const found: Announced[] = [];
  for (const [, contentUri, resourceId] of alertInfo.join(', ').matchAll(/<([^>]+)>[^,<]*?;\s*resource=([^;,\s]+)/g)) {
    if (!found.some((a) => a.resourceId === resourceId)) found.push({ contentUri: contentUri!, resourceId: resourceId! });
  }
  return found;
}
