/** SIP text for raw-socket tests: requests from a peer, and responses that echo a request. */
import type { RawPeer, SipText } from './raw-peer.js';

export interface RequestOptions {
  callId: string;
  cseq?: number;
  fromTag?: string;
  toTag?: string;
  from?: string;
  to?: string;
  maxForwards?: number | null;
  routes?: string[];
  headers?: string[];
  body?: string;
}

export function request(method: string, uri: string, from: RawPeer, o: RequestOptions): string {
  const body = o.body ?? '';
  const lines = [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/${from.transport.toUpperCase()} ${from.ip}:${from.port};branch=z9hG4bK-${o.callId.replace(/[^\w.-]/g, '')}-${method}-${o.cseq ?? 1}`,
    ...(o.maxForwards === null ? [] : [`Max-Forwards: ${o.maxForwards ?? 70}`]),
    ...(o.routes && o.routes.length > 0 ? [`Route: ${o.routes.join(', ')}`] : []),
    `From: ${o.from ?? '<sip:+15551230001@example.net;user=phone>'};tag=${o.fromTag ?? 'caller-tag'}`,
    `To: ${o.to ?? '<sip:+15551230002@example.net;user=phone>'}${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId}`,
    `CSeq: ${o.cseq ?? 1} ${method}`,
    `Contact: <sip:peer@${from.uriHostPort}>`,
    ...(o.headers ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** A response to `to` that echoes its Via, From, To (adding a tag), Call-ID, CSeq and Record-Route. */
export function responseTo(to: SipText, status: number, reason: string, o: { toTag?: string; contact?: RawPeer; headers?: string[] } = {}): string {
  const toHeader = to.header('to')[0]!;
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...to.header('via').map((v) => `Via: ${v}`),
    `From: ${to.header('from')[0]}`,
    `To: ${o.toTag && !/;tag=/.test(toHeader) ? `${toHeader};tag=${o.toTag}` : toHeader}`,
    `Call-ID: ${to.header('call-id')[0]}`,
    `CSeq: ${to.header('cseq')[0]}`,
    ...to.header('record-route').map((rr) => `Record-Route: ${rr}`),
    ...(o.contact ? [`Contact: <sip:peer@${o.contact.uriHostPort}>`] : []),
    ...(o.headers ?? []),
    'Content-Length: 0',
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The Record-Route entries of a message, topmost first. */
export function recordRouteSet(message: SipText): string[] {
  return message.header('record-route').flatMap((line) => line.split(/,\s*(?=<)/)).map((entry) => entry.trim());
}
