/**
 * Proxy routing decisions (RFC 3261 §16), as pure functions: which Route entries are this
 * server's, where a request goes next, what this server records in Record-Route, and how a
 * looping request is recognised.
 */
import { createHash } from 'node:crypto';
import { headerValue, tagOf, uriText } from '../sip-stack/message.js';
import { sipPackage, type NameAddr, type RawUri, type SipRequest } from '../sip-stack/sip-package.js';
import type { Peer, Protocol } from '../sip-stack/stack.js';

/** What routing needs to know about this server. */
export interface OwnAddress {
  readonly publicHost: string;
  isOwnUri(uri: RawUri): boolean;
  portFor(protocol: Protocol): number;
}

export type NextHop =
  | { kind: 'uri'; uri: RawUri }
  /** A handset's connection, named by this server's Record-Route. */
  | { kind: 'flow'; flowId: string }
  /** A registered handset: its flow, and its Contact as the Request-URI (RFC 3261 §16.5). */
  | { kind: 'binding'; peer: Peer; contact: string }
  | { kind: 'unroutable'; status: number; reason: string };

export interface Routing {
  /** Route entries left after this server's own were removed (and the outbound proxy added). */
  routes: NameAddr[];
  hop: NextHop;
}

const FLOW_USER = /^flow-([A-Za-z0-9_-]{12})$/;
/** Via parameter carrying the loop-detection key of a request this server forwarded. */
export const LOOP_PARAM = 'cmr-loop';
export const DEFAULT_MAX_FORWARDS = 70;

/**
 * Removes this server's entries from the top of Route; the next hop is the next Route entry,
 * else the flow the last removed entry names, else the Request-URI. An initial request is sent
 * through the outbound proxy when one is configured.
 */
export function routeRequest(request: SipRequest, own: OwnAddress, outboundProxy: string | null): Routing {
  const routes = [...(request.headers.route ?? [])];
  let flowId: string | undefined;
  while (routes.length > 0 && isOwn(routes[0]!, own)) {
    const popped = routes.shift()!;
    flowId = FLOW_USER.exec((popped.uri as RawUri).user ?? '')?.[1];
  }
  if (outboundProxy !== null && tagOf(request.headers.to) === null) {
    routes.unshift({ uri: looseRoute(outboundProxy), params: {} });
  }
  if (routes.length > 0) {
    const uri = routes[0]!.uri;
    return typeof uri === 'object' && uri !== null
      ? { routes, hop: { kind: 'uri', uri } }
      : { routes, hop: { kind: 'unroutable', status: 400, reason: 'Bad Route' } };
  }
  if (flowId !== undefined) return { routes, hop: { kind: 'flow', flowId } };
  const target = sipPackage.parseUri(request.uri);
  return target
    ? { routes, hop: { kind: 'uri', uri: target } }
    : { routes, hop: { kind: 'unroutable', status: 416, reason: 'Unsupported URI Scheme' } };
}

/**
 * Record-Route entries for a dialog-creating request, topmost first: this server as the next
 * hop sees it and, when the previous hop came in differently (another transport, or a
 * connection a request must find again), as the previous hop sees it (RFC 5658 double
 * Record-Route, RFC 5626 flow token). The next hop's entry names its flow when it is one (a
 * registered handset), so requests from the caller find that connection again.
 */
export function recordRoutes(own: OwnAddress, from: Peer, to: Peer): NameAddr[] {
  const outward = ownUri(own, to.protocol, to.protocol === 'UDP' ? undefined : to.flowId);
  const inward = ownUri(own, from.protocol, from.protocol === 'UDP' ? undefined : from.flowId);
  return (outward === inward ? [outward] : [outward, inward]).map((uri) => ({ uri, params: {} }));
}

/** Key of the request's routing inputs: a request that comes back with the same key has looped. */
export function loopKey(request: SipRequest, routes: readonly NameAddr[]): string {
  const h = request.headers;
  const inputs = [request.uri, tagOf(h.from), tagOf(h.to), h['call-id'], h.cseq.seq, ...routes.map((r) => uriText(r.uri))];
  return createHash('sha1').update(inputs.join('\n')).digest('hex').slice(0, 16);
}

export function hasLooped(request: SipRequest, own: OwnAddress, key: string): boolean {
  const host = own.publicHost.toLowerCase();
  return request.headers.via.some((via) => via.host.toLowerCase() === host && via.params[LOOP_PARAM] === key);
}

/** Max-Forwards of a request (70 when absent; the stack has already refused a malformed one). */
export function maxForwardsOf(request: SipRequest): number {
  const value = headerValue(request, 'max-forwards');
  return value === undefined ? DEFAULT_MAX_FORWARDS : Number(value.trim());
}

export function isOwn(route: NameAddr, own: OwnAddress): boolean {
  return typeof route.uri === 'object' && route.uri !== null && own.isOwnUri(route.uri);
}

function ownUri(own: OwnAddress, protocol: Protocol, flowId: string | undefined): string {
  const user = flowId === undefined ? '' : `flow-${flowId}@`;
  return `sip:${user}${own.publicHost}:${own.portFor(protocol)};transport=${protocol.toLowerCase()};lr`;
}

/** The outbound proxy as a loose-routing Route entry. */
function looseRoute(uri: string): RawUri | string {
  const parsed = sipPackage.parseUri(uri);
  if (!parsed) return uri;
  if (!('lr' in parsed.params)) parsed.params['lr'] = null;
  return parsed;
}
