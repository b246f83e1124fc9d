/**
 * A small typed SIP stack: this project's transports (transports.ts) under the `sip` package's
 * parser and RFC 3261 transaction layer.
 *
 * The package's own transports and `start`/`send` glue are replaced because, run as a server,
 * they crash the process on a bind error (no 'error' handlers), bind the WebSocket server to
 * every interface, cannot size the UDP receive buffer or report when they listen, accept
 * unbounded TCP bodies, and take any destination on the server's host for one of its own flows.
 * Its resolver is replaced too: it holds on to the resolver the process had when it loaded.
 *
 * What the stack guarantees its user: every request reaches `onRequest` once (retransmissions
 * are absorbed by its server transaction), an ACK to a 2xx reaches `onAck`, a malformed message
 * is answered 400 when it can be answered and dropped otherwise, and no handler error escapes.
 */
import { createHash } from 'node:crypto';
import dns from 'node:dns/promises';
import net from 'node:net';
import type { Logger } from 'pino';
import { sipWarning } from '../../src/calls/sip-warning.js';
import { randomHex } from '../../src/domain/ids.js';
import { keepBearerToken } from './bearer-token.js';
import { serialize } from './message.js';
import { readMessage, type Refusal, type WireHeader } from './reading.js';
import {
  isRequest,
  sipPackage,
  type RawUri,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type TransactionConnection,
  type TransactionLayer,
  type Via,
} from './sip-package.js';
import { openTransports, type Peer, type Protocol, type Transports } from './transports.js';

/** Reason phrases of the responses the transaction layer makes up itself (a timeout, a transport failure), which it leaves empty. */
const STACK_REASONS: Partial<Record<number, string>> = { 408: 'Request Timeout', 503: 'Service Unavailable' };

export type { Peer, Protocol } from './transports.js';

export interface StackOptions {
  host: string;
  port: number;
  wsPort: number | null;
  /** Name or address written in Via and Record-Route. */
  publicHost: string;
  logger: Logger;
  /** Counts each message in or out (`kind`: method, status class or `malformed`). */
  traffic?: (direction: 'in' | 'out', kind: string) => void;
}

export interface StackHandler {
  /** A new request other than ACK; its server transaction is open. Errors become a 500. */
  onRequest(request: SipRequest, source: Peer): Promise<void> | void;
  /** An ACK that matches no server transaction: the end-to-end ACK of a 2xx. */
  onAck(request: SipRequest, source: Peer): Promise<void> | void;
}

/**
 * 64 KiB: the most a UDP datagram carries. Larger TCP or WebSocket messages are answered 413
 * by the stack; smaller ones reach the core, which applies its own (lower) body limits.
 */
const MAX_MESSAGE_BYTES = 64 * 1024;
const UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
const IDLE_CONNECTION_MS = 5 * 60_000;
const KNOWN_METHODS = new Set(['INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'INFO', 'UPDATE', 'PRACK', 'REGISTER', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'MESSAGE', 'PUBLISH']);
/** The header lines a refusal echoes (RFC 3261 §8.2.6.2). */
const ECHOED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);
/** The RFC 3261 magic cookie every branch this stack writes starts with. */
const BRANCH_COOKIE = 'z9hG4bK';
/** Separates the package's branch from the random tail this stack adds. */
const BRANCH_TAIL = '.';

export class SipStack {
  private running = true;

  private constructor(
    private readonly options: StackOptions,
    private readonly transports: Transports,
    private readonly transactions: TransactionLayer,
  ) {}

  /** Listens; `createHandler` gets the stack so the handler can answer and forward through it. */
  static async start(options: StackOptions, createHandler: (stack: SipStack) => StackHandler): Promise<SipStack> {
    let stack: SipStack | undefined;
    let handler: StackHandler | undefined;
    const transports = await openTransports(
      {
        host: options.host,
        port: options.port,
        wsPort: options.wsPort,
        maxMessageBytes: MAX_MESSAGE_BYTES,
        udpReceiveBufferBytes: UDP_RECEIVE_BUFFER_BYTES,
        idleTimeoutMs: IDLE_CONNECTION_MS,
        logger: options.logger,
      },
      {
        message: (bytes, from) => handler && stack?.receive(bytes, from, handler),
        oversized: (head, from) => stack?.refuseOversized(head, from),
      },
    );
    stack = new SipStack(options, transports, sipPackage.makeTransactionLayer({}, null));
    handler = createHandler(stack);
    return stack;
  }

  get ports(): { sip: number; ws: number | null } {
    return this.transports.ports;
  }

  /** What the kernel granted for the UDP receive buffer (it may cap the 4 MiB asked for). */
  get udpReceiveBufferBytes(): number {
    return this.transports.udpReceiveBufferBytes;
  }

  get listening(): boolean {
    return this.running;
  }

  get publicHost(): string {
    return this.options.publicHost;
  }

  /** True when the URI names this server (its public host on one of its ports). */
  isOwnUri(uri: RawUri): boolean {
    if (uri.host.toLowerCase() !== this.options.publicHost.toLowerCase()) return false;
    const port = Number.isNaN(uri.port) ? 5060 : uri.port;
    return port === this.ports.sip || port === this.ports.ws;
  }

  /**
   * Where to send for a URI (RFC 3263, for the transport the URI asks for): IP literals as they
   * are; a name with a port through its A/AAAA records; a name without one through its SRV
   * records, then A/AAAA on 5060. Null when nothing is found, or for WebSocket and TLS, which
   * this server reaches only on a live flow. The process's resolver is asked at each call, so
   * it follows `dns.setServers`.
   */
  async resolve(uri: RawUri): Promise<Peer | null> {
    const protocol = protocolOf(uri);
    if (protocol === null) return null;
    const port = Number.isNaN(uri.port) ? null : uri.port;
    if (net.isIP(uri.host) !== 0) return { protocol, address: uri.host, port: port ?? 5060 };
    if (port !== null) {
      const address = await addressOf(uri.host);
      return address ? { protocol, address, port } : null;
    }
    const services = await dns.resolveSrv(`_sip._${protocol.toLowerCase()}.${uri.host}`).catch(() => []);
    for (const service of services.sort((a, b) => a.priority - b.priority)) {
      const address = await addressOf(service.name);
      if (address) return { protocol, address, port: service.port };
    }
    const address = await addressOf(uri.host);
    return address ? { protocol, address, port: 5060 } : null;
  }

  /** The live connection a flow id names, if any. */
  flow(flowId: string): Peer | undefined {
    return this.transports.flow(flowId);
  }

  /** Via sent-by port for a protocol. */
  portFor(protocol: Protocol): number {
    return protocol === 'WS' ? (this.ports.ws ?? this.ports.sip) : this.ports.sip;
  }

  /** Sends a response through the server transaction of `request` (no-op once it is gone). */
  respond(request: SipRequest, response: SipResponse): void {
    this.transactions.getServer(request)?.send(response);
  }

  /**
   * Builds and sends a response to `request`; `headers` keys are header names in any case. A
   * final answer to a request outside a dialog gets a To tag of this server (RFC 3261 §8.2.6.2).
   */
  reply(request: SipRequest, status: number, reason: string, extra: { headers?: Record<string, string | string[]>; content?: string } = {}): void {
    const response = sipPackage.makeResponse(request, status, reason, { headers: lowerCaseKeys(extra.headers), content: extra.content ?? '' });
    const to = request.headers.to;
    if (status > 100 && !to.params['tag']) {
      const tag = createHash('sha1').update(`${request.headers['call-id']}/${request.headers.via[0]!.params['branch']}`).digest('hex').slice(0, 10);
      response.headers.to = { ...to, params: { ...to.params, tag } };
    }
    this.respond(request, response);
  }

  /**
   * Forwards a request statefully to `to`: pushes this server's Via (with `viaParams`), runs
   * a client transaction and hands each response, with this server's Via removed, to
   * `onResponse` (a timeout or transport failure arrives as a 408 or 503).
   */
  forward(request: SipRequest, to: Peer, viaParams: Record<string, string | null>, onResponse: (response: SipResponse) => void): SipRequest {
    const outgoing: SipRequest = { ...request, headers: { ...request.headers, via: [this.via(to.protocol, viaParams), ...request.headers.via] } };
    this.startClientTransaction(outgoing, to, onResponse);
    return outgoing;
  }

  /** Sends CANCEL for a request this stack forwarded (same Via branch, RFC 3261 §9.1). */
  cancel(forwarded: SipRequest, to: Peer): void {
    const cancel: SipRequest = {
      method: 'CANCEL',
      uri: forwarded.uri,
      headers: {
        via: [{ ...forwarded.headers.via[0]!, params: { ...forwarded.headers.via[0]!.params } }],
        to: { ...forwarded.headers.to, params: { ...forwarded.headers.to.params } },
        from: forwarded.headers.from,
        'call-id': forwarded.headers['call-id'],
        cseq: { seq: forwarded.headers.cseq.seq, method: 'CANCEL' },
        'max-forwards': '70',
        ...(forwarded.headers.route ? { route: forwarded.headers.route } : {}),
      },
      content: '',
    };
    delete cancel.headers.to.params['tag'];
    this.startClientTransaction(cancel, to, () => {});
  }

  /** Sends a request without a transaction (the ACK of a 2xx), with a Via whose branch is stable across retransmissions. */
  sendStateless(request: SipRequest, to: Peer): void {
    if (!this.running) return;
    const seed = request.headers.via[0]?.params['branch'] ?? `${request.headers['call-id']}/${request.headers.cseq.seq}`;
    const branch = `${BRANCH_COOKIE}${createHash('sha1').update(`${seed}`).digest('hex').slice(0, 16)}`;
    const outgoing: SipRequest = { ...request, headers: { ...request.headers, via: [this.via(to.protocol, { branch }), ...request.headers.via] } };
    this.write(outgoing, to, (err) => this.options.logger.debug({ event: 'sip-send-failed', callId: request.headers['call-id'], err: err.message }, 'stateless send failed'));
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.transactions.destroy();
    await this.transports.close();
  }

  private via(protocol: Protocol, params: Record<string, string | null>): Via {
    return {
      version: '2.0',
      protocol,
      host: this.options.publicHost,
      port: this.portFor(protocol),
      // The branch first, as peers expect; the transaction layer fills it in for client transactions.
      params: { branch: '', ...params, ...(protocol === 'UDP' ? { rport: null } : {}) },
    };
  }

  private startClientTransaction(request: SipRequest, to: Peer, onResponse: (response: SipResponse) => void): void {
    if (!this.running) return;
    let failed: (() => void) | undefined;
    const connection = this.connectionTo(to, () => failed?.());
    const transaction = this.transactions.createClientTransaction(connection, request, (response) => {
      try {
        const reason = response.reason || STACK_REASONS[response.status] || '';
        onResponse({ ...response, reason, headers: { ...response.headers, via: response.headers.via.slice(1) } });
      } catch (err) {
        this.options.logger.error({ event: 'sip-handler-error', callId: request.headers['call-id'], err }, 'response handler failed');
      }
    });
    failed = () => transaction.message(sipPackage.makeResponse(request, 503, 'Service Unavailable'));
    // The package's branches are six random digits: two calls in flight at once share one often
    // enough to confuse the next hop. A random tail makes the branch on the wire unique; the
    // transaction stays filed under the package's part (see receiveResponse). The request is
    // first sent on the next tick, so it leaves with the full branch.
    if (request.method !== 'CANCEL') request.headers.via[0]!.params['branch'] += `${BRANCH_TAIL}${randomHex(6)}`;
  }

  private connectionTo(peer: Peer, onError: () => void): TransactionConnection {
    return {
      protocol: peer.protocol,
      release: () => {},
      send: (message) => this.write(message, peer, (err) => {
        this.options.logger.debug({ event: 'sip-send-failed', to: `${peer.protocol} ${peer.address}:${peer.port}`, err: err.message }, 'send failed');
        onError();
      }),
    };
  }

  private write(message: SipMessage, to: Peer, onError: (err: Error) => void): void {
    let bytes: Buffer;
    try {
      bytes = Buffer.from(serialize(message), 'latin1');
    } catch (err) {
      onError(err as Error);
      return;
    }
    this.options.traffic?.('out', kindOf(message));
    this.transports.send(to, bytes, onError);
  }

  private receive(bytes: Buffer, from: Peer, handler: StackHandler): void {
    const log = this.options.logger;
    const reading = readMessage(bytes, from.protocol);
    if (reading.kind !== 'message') {
      this.options.traffic?.('in', 'malformed');
      const fault = reading.kind === 'refused' ? reading.refusal.fault : reading.fault;
      log.debug({ event: 'sip-malformed', from: `${from.protocol} ${from.address}:${from.port}`, bytes: bytes.length, fault }, reading.kind === 'refused' ? 'refused malformed request' : 'dropped unreadable message');
      if (reading.kind === 'refused') this.refuse(reading.headers, reading.refusal, from);
      return;
    }
    const message = reading.message;
    this.options.traffic?.('in', kindOf(message));
    if (isRequest(message)) keepBearerToken(message, bytes);
    try {
      if (isRequest(message)) this.receiveRequest(message, from, handler);
      else this.receiveResponse(message);
    } catch (err) {
      log.error({ event: 'sip-handler-error', callId: message.headers['call-id'], err }, 'message handling failed');
    }
  }

  /**
   * Answers a request that did not read as SIP from its own header lines, as they came: its
   * Via, From, To (with a tag of this server), Call-ID and CSeq (RFC 3261 §8.2.6.2), without a
   * transaction (a retransmission gets the same answer again).
   */
  private refuse(headers: WireHeader[], refusal: Refusal, to: Peer): void {
    const echoed = headers.filter((h) => ECHOED.has(h.key)).map((h) => {
      if (h.key !== 'to' || /;\s*tag\s*=/i.test(h.value)) return `${h.name}: ${h.value}`;
      const tag = createHash('sha1').update(headers.map((x) => x.value).join('\n')).digest('hex').slice(0, 10);
      return `${h.name}: ${h.value};tag=${tag}`;
    });
    const lines = [`SIP/2.0 ${refusal.status} ${refusal.reason}`, ...echoed, `Warning: ${sipWarning(this.options.publicHost, refusal.fault)}`, 'Content-Length: 0'];
    this.options.traffic?.('out', `${Math.floor(refusal.status / 100)}xx`);
    this.transports.send(to, Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), () => {});
  }

  private receiveRequest(request: SipRequest, from: Peer, handler: StackHandler): void {
    const top = request.headers.via[0]!;
    top.params['received'] = from.address;
    if ('rport' in top.params) top.params['rport'] = String(from.port);

    const existing = this.transactions.getServer(request);
    if (existing) {
      existing.message(request);
      return;
    }
    if (request.method === 'ACK') {
      this.guard(request, () => handler.onAck(request, from));
      return;
    }
    this.transactions.createServerTransaction(request, this.connectionTo(from, () => {}));
    this.guard(request, () => handler.onRequest(request, from));
  }

  private receiveResponse(response: SipResponse): void {
    const transaction = this.transactions.getClient(response) ?? this.transactions.getClient(withoutBranchTail(response));
    if (transaction) transaction.message(response);
    else this.options.logger.debug({ event: 'sip-stray-response', callId: response.headers['call-id'], status: response.status }, 'dropped response without transaction');
  }

  /** Runs a handler; a throw or rejection is logged and, while the request is unanswered, answered 500. */
  private guard(request: SipRequest, run: () => Promise<void> | void): void {
    const fail = (err: unknown) => {
      this.options.logger.error({ event: 'sip-handler-error', callId: request.headers['call-id'], method: request.method, err }, 'request handler failed');
      if (request.method !== 'ACK') this.reply(request, 500, 'Server Internal Error');
    };
    try {
      const pending = run();
      if (pending) pending.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  /** A message over the size cap: a request whose header section reads gets 413; anything else is dropped. */
  private refuseOversized(head: Buffer, from: Peer): void {
    const reading = readMessage(head, 'TCP');
    this.options.traffic?.('in', 'oversized');
    this.options.logger.debug({ event: 'sip-oversized', from: `${from.protocol} ${from.address}:${from.port}` }, 'message over the size cap');
    if (reading.kind === 'unreadable' || head.subarray(0, 4).toString('latin1') === 'ACK ') return;
    if (reading.kind === 'message' && !isRequest(reading.message)) return;
    this.refuse(reading.headers, { status: 413, reason: 'Request Entity Too Large', fault: `message larger than ${MAX_MESSAGE_BYTES} bytes` }, from);
  }
}

/** The response as filed by the transaction layer: the top Via branch without this stack's tail. */
function withoutBranchTail(response: SipResponse): SipResponse {
  const top = response.headers.via[0]!;
  const branch = top.params['branch'] ?? '';
  const tail = branch.lastIndexOf(BRANCH_TAIL);
  if (tail < 0) return response;
  const via = [{ ...top, params: { ...top.params, branch: branch.slice(0, tail) } }, ...response.headers.via.slice(1)];
  return { ...response, headers: { ...response.headers, via } };
}

/** An IPv4 address of a name, else an IPv6 one; null when it has neither. */
async function addressOf(name: string): Promise<string | null> {
  const [v4] = await dns.resolve4(name).catch(() => []);
  if (v4) return v4;
  const [v6] = await dns.resolve6(name).catch(() => []);
  return v6 ?? null;
}

/** UDP unless the URI asks for TCP; null for what is only reachable on a flow (WS) or unsupported (TLS). */
function protocolOf(uri: RawUri): Protocol | null {
  if (uri.schema.toLowerCase() !== 'sip') return null;
  const transport = (uri.params['transport'] ?? 'udp').toLowerCase();
  if (transport === 'udp') return 'UDP';
  if (transport === 'tcp') return 'TCP';
  return null;
}

function kindOf(message: SipMessage): string {
  if (isRequest(message)) return KNOWN_METHODS.has(message.method) ? message.method : 'other';
  return `${Math.floor(message.status / 100)}xx`;
}

function lowerCaseKeys(headers: Record<string, string | string[]> | undefined): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
}
