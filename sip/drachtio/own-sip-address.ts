/**
 * drachtio-server's own SIP addresses, from the endpoints it announces to the app
 * (`udp/10.0.0.5:5060,tcp/10.0.0.5:5060`; with an `external-ip`, that address in place of the
 * local one): what names it in a Route, and the Contact that reaches it on a transport.
 */
import { hostPortOf } from './next-hop.js';

export interface SipEndpoint {
  transport: string;
  host: string;
  port: number;
}

/** The endpoints of a `hostports` string; entries that cannot be read are left out. */
export function sipEndpoints(hostports: string): SipEndpoint[] {
  const endpoints: SipEndpoint[] = [];
  for (const entry of hostports.split(',')) {
    const match = /^([a-z]+)\/(\[[^\]]+\]|.+):(\d+)$/i.exec(entry.trim());
    if (!match) continue;
    const host = match[2]!.includes(':') && !match[2]!.startsWith('[') ? `[${match[2]}]` : match[2]!;
    endpoints.push({ transport: match[1]!.toLowerCase(), host, port: Number(match[3]) });
  }
  return endpoints;
}

/** The `host:port` set of a drachtio-server, from its endpoints plus the public name it is known by. */
export function ownAddresses(hostports: string, publicHost: string): Set<string> {
  const own = new Set<string>();
  for (const { host, port } of sipEndpoints(hostports)) {
    const parsed = hostPortOf(`sip:${host}:${port}`);
    if (!parsed) continue;
    own.add(parsed);
    own.add(`${publicHost.toLowerCase()}:${port}`);
  }
  return own;
}

/**
 * The Contact that reaches drachtio-server on the transport a request came in on, written as
 * drachtio-server writes its own (`<sip:host:port>`, `;transport=` for all but UDP): the endpoint
 * of that transport the request arrived at (`receivedOn`, `host:port`; its port when the host is
 * an external address), else the first of that transport. Null when it has none on that transport.
 */
export function contactOn(hostports: string, transport: string, receivedOn?: string): string | null {
  const wanted = transport.toLowerCase();
  const candidates = sipEndpoints(hostports).filter((e) => e.transport === wanted);
  const at = receivedOn ? hostPortOf(`sip:${receivedOn}`) : null;
  const port = at ? Number(at.slice(at.lastIndexOf(':') + 1)) : null;
  const endpoint =
    candidates.find((e) => at !== null && hostPortOf(`sip:${e.host}:${e.port}`) === at) ?? candidates.find((e) => e.port === port) ?? candidates[0];
  if (!endpoint) return null;
  return `<sip:${endpoint.host}:${endpoint.port}${wanted === 'udp' ? '' : `;transport=${wanted}`}>`;
}
