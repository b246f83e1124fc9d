/**
 * The SIP user agents on the network side of the scripted drachtio-server, one per leg of a
 * call: a `CallerLeg` sent an INVITE to the app, a `CalleeLeg` is where the app's B-leg INVITE
 * went. A leg holds what the stack keeps of that dialog (tags, CSeq, remote target, transport),
 * and either plays the UA itself (in-process: tests build its requests and read its inbox) or
 * stands for a real UA on a socket (sipp), whose messages the peer passes through as they are.
 */
import { randomUUID } from 'node:crypto';
import type net from 'node:net';
import { withDeadline } from '../../../sip/common/deadline.js';
import { buildSip, parseSip, randomToken, sdp, type HeaderList, type SipMessage } from '../raw-sip.js';
import { appHeaders, cancelOf, REASONS, sofiaMessage, withContentType } from './sofia.js';
import type { Transport } from './sip-sockets.js';

const WAIT_MS = 5000;

export interface AppConnection {
  readonly id: number;
  readonly routes: ReadonlySet<string>;
  readonly closed: Promise<void>;
}

export interface SendOptions {
  headers?: HeaderList;
  body?: string;
}

/** What a leg needs of the stack it belongs to. */
export interface LegStack {
  readonly sipHost: string;
  readonly sipPort: number;
  /** The stack's own Contact on a transport (drachtio-server's SIP address; `;transport=` except for UDP). */
  contact(transport: Transport): string;
  /** A message the UA of `leg` sent (in-process UAs only; real ones arrive on the sockets). */
  fromUa(leg: NetworkLeg, raw: string, options?: { connection?: AppConnection }): void;
}

/** Where a real UA is: its address for requests in the dialog, and the TCP connection the dialog runs on. */
export interface UaSocket {
  transport: Transport;
  connection?: net.Socket;
}

export abstract class NetworkLeg {
  address: string;
  port: number;
  dialogId = '';
  /** The B2BUA's tag on this leg, made by the stack on its first response or request. */
  appTag: string | null = null;
  protected appSeq = 100;
  protected partySeq = 1;
  /** CSeq number of the last INVITE the app sent on this leg (null: only the initial one, if any). */
  private appInviteSeq: number | null = null;
  /** The app's last INVITE on this leg got a failure, which the stack has ACKed already. */
  appInviteFailed = false;
  /** Where the UA sends requests inside the dialog (the other side's Contact). */
  protected remoteTarget: string;
  /** Where the stack sends requests inside the dialog (the UA's Contact). */
  uaTarget: string;
  /** A real UA behind a socket (null: the test plays the UA). */
  socket: UaSocket | null = null;
  private readonly inbox: SipMessage[] = [];
  private readonly waiters: Array<{ match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];

  protected constructor(
    protected readonly stack: LegStack,
    readonly connection: AppConnection,
    readonly callId: string,
    protected readonly partyUri: string,
    protected partyTag: string | null,
    protected readonly appUri: string,
    source: { address: string; port: number },
    remoteTarget: string,
  ) {
    this.address = source.address;
    this.port = source.port;
    this.remoteTarget = remoteTarget;
    this.uaTarget = uriIn(this.contact);
  }

  /** The UA's own tag in the dialog (null before it has one). */
  get ownTag(): string | null {
    return this.partyTag;
  }

  /** The UA's own Contact. */
  get contact(): string {
    return `<sip:ua@${this.address}:${this.port}>`;
  }

  /** The transport the UA uses (an in-process UA only pretends: drachtio-server names it to the app). */
  get transport(): Transport {
    return this.socket?.transport ?? this.pretendedTransport;
  }

  pretendedTransport: Transport = 'udp';

  /** Everything sent toward this UA and not yet taken, for diagnostics. */
  get pending(): string[] {
    return this.inbox.map((m) => m.startLine);
  }

  /** The next message sent toward this UA that matches; waits for it. */
  next(match: (m: SipMessage) => boolean, what: string): Promise<SipMessage> {
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    return withTimeout(new Promise<SipMessage>((resolve) => this.waiters.push({ match, resolve })), `${what} on ${this.callId} (pending: ${this.pending.join(' | ') || 'none'})`);
  }

  /** The next request of this method sent toward the UA. */
  nextRequest(method: string): Promise<SipMessage> {
    return this.next((m) => !m.isResponse && m.method === method, `a ${method}`);
  }

  /** A request the UA sends inside the dialog (or its early dialog); the stack routes it as drachtio-server would. */
  request(method: string, options: SendOptions & { connection?: AppConnection } = {}): ClientRequest {
    const seq = ++this.partySeq;
    const raw = buildSip(
      `${method} ${this.remoteTarget} SIP/2.0`,
      [
        ['Via', `SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK${randomToken()};rport`],
        ['Max-Forwards', '70'],
        ['From', `<${this.partyUri}>${this.partyTag ? `;tag=${this.partyTag}` : ''}`],
        ['To', `<${this.appUri}>${this.appTag ? `;tag=${this.appTag}` : ''}`],
        ['Call-ID', this.callId],
        ['CSeq', `${seq} ${method}`],
        ...(options.headers ?? []),
      ],
      options.body ?? '',
    );
    this.stack.fromUa(this, raw, options.connection ? { connection: options.connection } : {});
    return new ClientRequest(this, parseSip(raw));
  }

  /**
   * The UA's ACK of a 2xx to its INVITE: the initial one by default, or the re-INVITE with this
   * CSeq number (with the answer in `body` when the 2xx carried the offer).
   */
  ack(options: { seq?: number; body?: string } = {}): void {
    const raw = buildSip(
      `ACK ${this.remoteTarget} SIP/2.0`,
      [
        ['Via', `SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK${randomToken()};rport`],
        ['Max-Forwards', '70'],
        ['From', `<${this.partyUri}>;tag=${this.partyTag}`],
        ['To', `<${this.appUri}>;tag=${this.appTag}`],
        ['Call-ID', this.callId],
        ['CSeq', `${options.seq ?? this.inviteSeq} ACK`],
        ...(options.body ? [['Content-Type', 'application/sdp'] as [string, string]] : []),
      ],
      options.body ?? '',
    );
    this.stack.fromUa(this, raw);
  }

  /** Answers a request the app sent toward this UA (a failed re-INVITE is ACKed by the stack itself). */
  reply(request: SipMessage, status: number, options: SendOptions = {}): void {
    const raw = buildSip(
      `SIP/2.0 ${status} ${REASONS[status] ?? 'Status'}`,
      [
        ...request.headerAll('via').map((v): [string, string] => ['Via', v]),
        ['From', request.header('from')!],
        ['To', request.header('to')!],
        ['Call-ID', request.callId],
        ['CSeq', request.header('cseq')!],
        ...(options.headers ?? []),
      ],
      options.body ?? '',
    );
    this.stack.fromUa(this, raw);
  }

  // ── used by the stack ────────────────────────────────────────────────────

  /** How many `100 Trying` the stack sent this UA (a UA's transaction layer takes them). */
  tryingCount = 0;

  /** Something the app (or the stack for it) sent toward this UA, played by the test. */
  receive(message: SipMessage): void {
    if (message.isResponse && message.status === 100) {
      this.tryingCount++;
      return;
    }
    const index = this.waiters.findIndex((w) => w.match(message));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(message);
    else this.inbox.push(message);
  }

  appTagFor(): string {
    this.appTag ??= randomToken();
    return this.appTag;
  }

  /** The UA's side of the dialog as a response of the UA shows it: its tag and, with a Contact, its target. */
  uaAnswered(response: SipMessage): void {
    this.partyTag ??= response.tag('to') ?? null;
    if (response.header('contact')) this.uaTarget = response.uriOf('contact');
  }

  /** The wire form of a request the app sends inside this leg's dialog. */
  appRequest(app: SipMessage): string {
    const method = app.method;
    const uri = method === 'ACK' || app.uri.includes('placeholder') ? this.uaTarget : app.uri;
    const seq = method === 'ACK' ? (this.appInviteSeq ?? this.inviteSeq) : ++this.appSeq;
    if (method === 'INVITE') this.appInviteSeq = seq;
    const ownContact = ['INVITE', 'SUBSCRIBE', 'REFER'].includes(method) && !app.header('contact');
    const headers: HeaderList = [
      ['Via', this.via()],
      ['Max-Forwards', '70'],
      ['From', `<${this.appUri}>;tag=${this.appTagFor()}`],
      ['To', `<${this.partyUri}>${this.partyTag ? `;tag=${this.partyTag}` : ''}`],
      ['Call-ID', this.callId],
      ['CSeq', `${seq} ${method}`],
      ...(ownContact ? [['Contact', this.stack.contact(this.transport)] as [string, string]] : []),
      ...appHeaders(app),
    ];
    return sofiaMessage(`${method} ${uri} SIP/2.0`, withContentType(headers, app.body), app.body);
  }

  /** The stack's Via on a request it sends on this leg. */
  protected via(): string {
    return `SIP/2.0/${this.transport.toUpperCase()} ${this.stack.sipHost}:${this.stack.sipPort};rport;branch=z9hG4bK${randomToken()}`;
  }

  protected abstract get inviteSeq(): number;
}

/** A UA that called through the app (the A leg). */
export class CallerLeg extends NetworkLeg {
  invite!: SipMessage;
  /** drachtio-server's transaction of the INVITE. */
  inviteTransactionId = '';
  /** The last INVITE response the app sent (its final one once answered or refused). */
  inviteStatus = 0;
  /** RSeq numbers of the reliable 18x sent to this UA and not PRACKed yet, with those held back until then. */
  readonly unacknowledged: Array<{ rseq: number; held: SipMessage | null }> = [];
  /** sofia numbers a transaction's reliable 18x from a random start (seen with the real server: 73794450, 378606478 …). */
  lastRseq = Math.floor(Math.random() * 2 ** 30);
  /**
   * The UA PRACKed a reliable 18x: drachtio-server then files the early dialog under the app's
   * connection (`addDialogForTransaction`), and routes requests in it there, inside that dialog.
   */
  earlyDialogRouted = false;
  /** An UPDATE in the early dialog waiting for the app's answer (drachtio-server keeps one at a time). */
  earlyUpdate: SipMessage | null = null;

  constructor(stack: LegStack, connection: AppConnection, options: CallOptions, sent?: SipMessage) {
    const source = options.source ?? { address: '127.0.0.2', port: 5070 };
    const callId = sent?.callId ?? `${randomToken(10)}@${source.address}`;
    const tag = sent ? (sent.tag('from') ?? null) : randomToken();
    super(stack, connection, callId, uriIn(options.from), tag, uriIn(options.to), source, options.uri ?? uriIn(options.to));
    this.partySeq = 1;
    this.pretendedTransport = options.transport ?? 'udp';
  }

  /** A real UA's leg, from its request (an INVITE, or a stray request of no call). */
  static fromNetwork(stack: LegStack, connection: AppConnection, request: SipMessage, from: { address: string; port: number }, socket: UaSocket): CallerLeg {
    const leg = new CallerLeg(stack, connection, { from: request.header('from')!, to: request.header('to')!, uri: request.uri, source: from }, request);
    leg.socket = socket;
    if (request.header('contact')) leg.uaTarget = request.uriOf('contact');
    if (request.method === 'INVITE') leg.invite = request;
    return leg;
  }

  get fromTag(): string {
    return this.partyTag!;
  }

  /** Reliable 18x the stack holds back until the UA PRACKs the one before. */
  get heldBack(): number {
    return this.unacknowledged.filter((r) => r.held !== null).length;
  }

  /** drachtio-server's id of this leg's dialog (early or confirmed), as it names it to the app. */
  get stackDialogId(): string {
    return `${this.callId};from-tag=${this.partyTag}`;
  }

  sendInvite(options: CallOptions): void {
    const body = options.body ?? sdp(this.address, 40000);
    const raw = buildSip(
      `INVITE ${this.remoteTarget} SIP/2.0`,
      [
        ['Via', `SIP/2.0/UDP ${this.address}:${this.port};branch=z9hG4bK${randomToken()};rport`],
        ['Max-Forwards', '70'],
        ['From', `${options.from};tag=${this.partyTag}`],
        ['To', options.to],
        ['Call-ID', this.callId],
        ['CSeq', '1 INVITE'],
        ['Contact', this.contact],
        ...(options.headers ?? []),
        ['Content-Type', 'application/sdp'],
      ],
      body,
    );
    this.invite = parseSip(raw);
    this.stack.fromUa(this, raw);
  }

  override receive(message: SipMessage): void {
    // The UA's side of the early dialog: requests in it go to the Contact of the 18x (RFC 3261 §12.1.2).
    if (message.isResponse && message.cseq.method === 'INVITE' && message.status < 300 && message.header('contact')) this.remoteTarget = message.uriOf('contact');
    super.receive(message);
  }

  /** The app's next response to the INVITE with this status. */
  response(status: number): Promise<SipMessage> {
    return this.next((m) => m.isResponse && m.cseq.method === 'INVITE' && m.status === status, `a ${status} to the INVITE`);
  }

  /** PRACK of a reliable provisional response (RFC 3262 §7.2). */
  prack(reliable: SipMessage): ClientRequest {
    return this.request('PRACK', { headers: [['RAck', `${reliable.header('rseq')} ${reliable.header('cseq')}`]] });
  }

  /** CANCEL: the stack answers it with 200 and hands it to the app with the INVITE's transaction. */
  cancel(): void {
    this.stack.fromUa(this, cancelOf(this.invite));
  }

  /** The app answered this UA's INVITE with a 2xx: the dialog is confirmed. */
  confirmed(response: SipMessage): string {
    this.remoteTarget = response.uriOf('contact');
    this.dialogId = this.stackDialogId;
    return this.dialogId;
  }

  protected get inviteSeq(): number {
    return this.invite?.cseq.seq ?? 1;
  }
}

/** The UA the app's B-leg INVITE reached. */
export class CalleeLeg extends NetworkLeg {
  readonly invite: SipMessage;
  /** The next hop drachtio was asked to send the INVITE through (`opts.proxy`), if any. */
  readonly proxy: string | null;
  inviteTransactionId = '';
  /** The final status the UA gave the INVITE (0 while it has given none). */
  finalStatus = 0;

  constructor(stack: LegStack, connection: AppConnection, app: SipMessage, proxy: string | null, target: { address: string; port: number; socket: UaSocket | null }) {
    const appTag = randomToken();
    const callId = app.header('call-id') ?? `${randomUUID()}`;
    const from = (app.header('from') ?? stack.contact('udp')).replace(/@localhost\b/, `@${stack.sipHost}:${stack.sipPort}`);
    const to = app.header('to') ?? `<${app.uri}>`;
    super(stack, connection, callId, uriIn(to), null, uriIn(from), target, uriIn(stack.contact('udp')));
    this.socket = target.socket;
    this.appTag = appTag;
    this.proxy = proxy;
    this.uaTarget = app.uri;
    const headers: HeaderList = [
      ['Via', this.via()],
      ['Max-Forwards', app.header('max-forwards') ?? '70'],
      ['From', `${from};tag=${appTag}`],
      ['To', to],
      ['Call-ID', callId],
      ['CSeq', '1 INVITE'],
      ...(app.header('contact') ? [] : [['Contact', stack.contact(this.transport)] as [string, string]]),
      ...appHeaders(app),
    ];
    this.invite = parseSip(sofiaMessage(`INVITE ${app.uri} SIP/2.0`, withContentType(headers, app.body), app.body));
    this.appSeq = 1;
    this.dialogId = `${callId};from-tag=${appTag}`;
  }

  /** Answers the B-leg INVITE, as the called UA. */
  respond(status: number, options: SendOptions = {}): void {
    if (status > 100) this.partyTag ??= randomToken();
    const body = options.body ?? (status >= 200 && status < 300 ? sdp(this.address, 50000) : '');
    const headers: HeaderList = [
      ...this.invite.headerAll('via').map((v): [string, string] => ['Via', v]),
      ['From', this.invite.header('from')!],
      ['To', `${this.invite.header('to')!}${this.partyTag ? `;tag=${this.partyTag}` : ''}`],
      ['Call-ID', this.callId],
      ['CSeq', '1 INVITE'],
      ...(status > 100 && status < 300 ? [['Contact', this.contact] as [string, string]] : []),
      ...(options.headers ?? []),
      ...(body ? [['Content-Type', 'application/sdp'] as [string, string]] : []),
    ];
    this.stack.fromUa(this, buildSip(`SIP/2.0 ${status} ${REASONS[status] ?? 'Status'}`, headers, body));
  }

  /** The wire form of the app's CANCEL of the B-leg INVITE. */
  cancelRequest(app: SipMessage): string {
    return cancelOf(this.invite, appHeaders(app));
  }

  protected get inviteSeq(): number {
    return 1;
  }
}

export interface CallOptions extends SendOptions {
  from: string;
  to: string;
  /** Request-URI; defaults to the To URI. */
  uri?: string;
  /** Where the INVITE comes from (drachtio reports it as the source address). */
  source?: { address: string; port: number };
  /** The app connection that gets the INVITE; defaults to the first one. */
  connection?: AppConnection;
  /** The transport drachtio-server says the INVITE came on (default UDP). */
  transport?: Transport;
}

/** A request a network UA sent to the app; `response()` is the app's answer to it. */
export class ClientRequest {
  constructor(
    private readonly leg: NetworkLeg,
    readonly message: SipMessage,
  ) {}

  response(): Promise<SipMessage> {
    const { seq, method } = this.message.cseq;
    return this.leg.next((m) => m.isResponse && m.cseq.seq === seq && m.cseq.method === method && m.status >= 200, `the final response to ${method} ${seq}`);
  }
}

export function uriIn(nameAddr: string): string {
  const open = nameAddr.indexOf('<');
  return open >= 0 ? nameAddr.slice(open + 1, nameAddr.indexOf('>', open)) : nameAddr.split(';')[0]!.trim();
}

export function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  return withDeadline(promise, ms, () => new Error(`timed out waiting for ${what}`));
}
