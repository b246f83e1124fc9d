/**
 * A scripted drachtio-server for tests: it speaks drachtio's real wire protocol over TCP to the
 * unmodified drachtio-srf inside the app, and plays the SIP network on the other side.
 *
 * Wire protocol (as drachtio-server 0.9 implements it, see its client.cpp and
 * sip-dialog-controller.cpp): frames are `<byte length>#<message>`; a message is
 * `<uuid>|<type>|<tokens…>`, optionally followed by CRLF and a raw SIP message.
 *   app → server  `authenticate|<secret>|<tags>` · `route|<verb>` · `ping`
 *                 `sip|<transaction id>|<dialog id>[|<route url>]` + SIP: a response (needs the
 *                 transaction id), a request in a dialog (dialog id), a CANCEL (transaction id of
 *                 the INVITE), or a new request (neither).
 *   server → app  `response|<request uuid>|OK|<data…>` or `…|NOK|<reason>`; for a sent SIP
 *                 message the data is `application|<bytes>|<transport>|<address>|<port>|<time>|
 *                 <transaction id>|<dialog id>|…|Msg sent:|` + CRLF + the message as put on the wire.
 *                 `sip|network|<bytes>|<transport>|<address>|<port>|<time>|<transaction id>|<dialog id>|`
 *                 + CRLF + a SIP message received from the network.
 * Like drachtio-server it completes what the app leaves to the stack (Via, tags, Call-ID, CSeq,
 * Contact, Content-Length) and keeps the transactions and dialogs that tie the two together.
 *
 * Two ways to meet the app, as drachtio-server has: inbound, the app connects to this peer,
 * authenticates and sends `route|<verb>`; outbound (`connectToApp`), this peer connects to the
 * app's listening port for a call, the app sends `authenticate` at once, and once that is
 * answered the call's INVITE is delivered on the connection (client.cpp `outboundReady`).
 * Either way everything else of the call then flows on that connection.
 *
 * The test plays the network through legs: a `CallerLeg` is a UA that sent an INVITE to the
 * app, a `CalleeLeg` the UA the app's B-leg INVITE reached. Everything the app (or the stack on
 * its behalf) sends toward a UA lands in that leg's inbox, parsed from the raw wire text.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { withDeadline } from '../../sip/common/deadline.js';
import { buildSip, parseSip, randomToken, sdp, type HeaderList, type SipMessage } from './raw-sip.js';

/** The SIP address this pretend drachtio-server announces and writes into Via/Contact. */
const SERVER_SIP_HOST = '127.0.0.1';
const SERVER_SIP_PORT = 5060;
const SERVER_CONTACT = `<sip:${SERVER_SIP_HOST}:${SERVER_SIP_PORT}>`;
const SERVER_VERSION = 'v0.9.3';
const WAIT_MS = 5000;
/** Headers the stack writes itself; the app's values for them are not copied onto the wire. */
const STACK_HEADERS = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'max-forwards']);

export interface AppConnection {
  readonly id: number;
  readonly routes: ReadonlySet<string>;
  readonly closed: Promise<void>;
}

interface Connection extends AppConnection {
  socket: net.Socket;
  routes: Set<string>;
  authenticated: boolean;
  /** Settles with the outcome of the app's `authenticate`. */
  authentication: Promise<boolean>;
  settleAuthentication: (accepted: boolean) => void;
}

interface ServerTransaction {
  leg: NetworkLeg;
  request: SipMessage;
}

interface ClientTransaction {
  request: SipMessage;
  dialogId: string;
  /** The app connection that sent the request: its responses go back there. */
  connection: AppConnection;
}

export interface SendOptions {
  headers?: HeaderList;
  body?: string;
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
}

export class DrachtioPeer {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly connections: Connection[] = [];
  private readonly connectionWaiters: Array<(c: Connection) => void> = [];
  private readonly serverTxns = new Map<string, ServerTransaction>();
  private readonly clientTxns = new Map<string, ClientTransaction>();
  /** B-leg INVITEs by transaction id (for the app's CANCEL). */
  private readonly outgoingInvites = new Map<string, CalleeLeg>();
  private readonly dialogs = new Map<string, NetworkLeg>();
  /** B legs by Call-ID, for requests the app sends outside any dialog. */
  private readonly legsByCallId = new Map<string, CalleeLeg>();
  private readonly nextHops = new WeakMap<SipMessage, string | null>();
  private readonly calleeLegs: CalleeLeg[] = [];
  private readonly calleeWaiters: Array<(leg: CalleeLeg) => void> = [];
  private nextConnectionId = 1;
  /** Authentications refused for a wrong secret. */
  refusedAuthentications = 0;
  /** Connections reset while refusing. */
  resetConnections = 0;
  private refusing = false;
  private portNumber = 0;

  private constructor(private readonly secret: string) {}

  static async start(options: { secret: string }): Promise<DrachtioPeer> {
    const peer = new DrachtioPeer(options.secret);
    await peer.listen();
    return peer;
  }

  get port(): number {
    return this.portNumber;
  }

  /** The next app connection that authenticates and routes INVITE and INFO (drachtio-srf routes right after authenticating). */
  nextConnection(): Promise<AppConnection> {
    return withTimeout(new Promise<Connection>((resolve) => this.connectionWaiters.push(resolve)), 'an app connection');
  }

  /**
   * Outbound mode: connects to an app listening for drachtio-server on `port`, as drachtio-server
   * does for a call its request handlers send there. Resolves with the connection once the app
   * has authenticated (deliver the call on it), or null when its secret was refused (this peer
   * then answers `NO` and closes the connection, as drachtio-server does).
   */
  async connectToApp(port: number): Promise<AppConnection | null> {
    const socket = net.connect(port, '127.0.0.1');
    // Listening before the connection is up: the app's `authenticate` comes right away.
    const connection = this.attach(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve();
      });
      socket.once('error', reject);
    });
    return (await withTimeout(connection.authentication, 'the app to authenticate')) ? connection : null;
  }

  /**
   * Drops every app connection, as a failing drachtio-server would. With `refuse`, new
   * connections are reset as soon as they are made (the app sees ECONNRESET) until `acceptAgain()`.
   */
  dropConnections(options: { refuse: boolean }): void {
    this.refusing = options.refuse;
    for (const c of this.connections) c.socket.destroy();
  }

  acceptAgain(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A call arriving from the network: the INVITE is delivered to an app connection. */
  call(options: CallOptions): CallerLeg {
    const leg = this.ua(options);
    leg.sendInvite(options);
    return leg;
  }

  /** A network UA that has not sent an INVITE (its requests belong to no call). */
  ua(options: CallOptions): CallerLeg {
    return new CallerLeg(this, this.pick(options.connection), options);
  }

  /** The next B-leg INVITE an app sends toward the network. */
  nextCallee(): Promise<CalleeLeg> {
    const ready = this.calleeLegs.shift();
    if (ready) return Promise.resolve(ready);
    return withTimeout(new Promise<CalleeLeg>((resolve) => this.calleeWaiters.push(resolve)), 'a B-leg INVITE');
  }

  // ── network → app ────────────────────────────────────────────────────────

  /** Delivers a SIP message from the network to the app, as drachtio-server does. */
  deliver(connection: AppConnection, raw: string, leg: NetworkLeg, ids: { transactionId: string; dialogId: string }): void {
    const meta = ['network', Buffer.byteLength(raw, 'utf8'), 'udp', leg.address, leg.port, stackTime()].join('|');
    this.send(this.connection(connection), `sip|${meta}|${ids.transactionId}|${ids.dialogId}|\r\n${raw}`);
  }

  /** Registers a request a network UA sends to the app, awaiting the app's response. */
  openServerTransaction(leg: NetworkLeg, request: SipMessage): string {
    const transactionId = randomUUID();
    this.serverTxns.set(transactionId, { leg, request });
    return transactionId;
  }

  /** The ids of the app's request a network UA is answering; a final answer closes the transaction. */
  answerClientTransaction(request: SipMessage, final: boolean): { transactionId: string; dialogId: string; connection: AppConnection } {
    const entry = [...this.clientTxns].find(([, txn]) => txn.request === request);
    if (!entry) throw new Error(`no open transaction for ${request.startLine}`);
    const [transactionId, { dialogId, connection }] = entry;
    if (final) {
      this.clientTxns.delete(transactionId);
      if (request.method === 'BYE') this.dialogs.delete(dialogId);
    }
    return { transactionId, dialogId, connection };
  }

  addDialog(dialogId: string, leg: NetworkLeg): void {
    this.dialogs.set(dialogId, leg);
  }

  removeDialog(dialogId: string): void {
    this.dialogs.delete(dialogId);
  }

  forgetInvite(transactionId: string): void {
    this.outgoingInvites.delete(transactionId);
  }

  // ── app → server ─────────────────────────────────────────────────────────

  private async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.portNumber = (this.server.address() as net.AddressInfo).port;
  }

  private accept(socket: net.Socket): void {
    if (this.refusing) {
      this.resetConnections++;
      socket.resetAndDestroy();
      return;
    }
    this.attach(socket);
  }

  /** Speaks the wire protocol on a connection, whichever side opened it. */
  private attach(socket: net.Socket): Connection {
    let markClosed!: () => void;
    let settleAuthentication!: (accepted: boolean) => void;
    const authentication = new Promise<boolean>((resolve) => (settleAuthentication = resolve));
    const connection: Connection = {
      id: this.nextConnectionId++,
      socket,
      routes: new Set(),
      authenticated: false,
      authentication,
      settleAuthentication,
      closed: new Promise<void>((resolve) => (markClosed = resolve)),
    };
    this.connections.push(connection);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const hash = buffer.indexOf('#');
        if (hash <= 0) return;
        const length = Number(buffer.subarray(0, hash).toString('utf8'));
        if (!Number.isInteger(length) || length <= 0) throw new Error(`bad frame from the app: ${buffer.toString('utf8')}`);
        if (buffer.length < hash + 1 + length) return;
        const message = buffer.subarray(hash + 1, hash + 1 + length).toString('utf8');
        buffer = buffer.subarray(hash + 1 + length);
        this.onMessage(connection, message);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      const index = this.connections.indexOf(connection);
      if (index >= 0) this.connections.splice(index, 1);
      connection.settleAuthentication(false);
      markClosed();
    });
    return connection;
  }

  private onMessage(connection: Connection, message: string): void {
    const crlf = message.indexOf('\r\n');
    const leader = crlf < 0 ? message : message.slice(0, crlf);
    const sipText = crlf < 0 ? '' : message.slice(crlf + 2);
    const [id, type, ...tokens] = leader.split('|');
    if (!id || !type) throw new Error(`bad message from the app: ${message}`);
    switch (type) {
      case 'authenticate':
        if (tokens[0] !== this.secret) {
          this.refusedAuthentications++;
          this.reply(connection, id, 'NO|incorrect secret');
          connection.socket.end();
          connection.settleAuthentication(false);
          return;
        }
        connection.authenticated = true;
        this.reply(connection, id, `OK|udp/${SERVER_SIP_HOST}:${SERVER_SIP_PORT},tcp/${SERVER_SIP_HOST}:${SERVER_SIP_PORT}|${SERVER_VERSION}`);
        connection.settleAuthentication(true);
        return;
      case 'route':
        connection.routes.add(tokens[0]!);
        this.reply(connection, id, 'OK');
        if (connection.routes.has('invite') && connection.routes.has('info')) this.connectionWaiters.shift()?.(connection);
        return;
      case 'ping':
        this.reply(connection, id, 'OK|pong');
        return;
      case 'sip':
        this.onSip(connection, id, tokens[0] ?? '', tokens[1] ?? '', tokens[2] ?? '', parseSip(sipText));
        return;
      default:
        this.reply(connection, id, 'NO|Unknown message type');
    }
  }

  private onSip(connection: Connection, id: string, transactionId: string, dialogId: string, routeUrl: string, message: SipMessage): void {
    try {
      if (message.isResponse) this.appResponds(connection, id, transactionId, message);
      else if (dialogId) this.appRequestsInDialog(connection, id, dialogId, message);
      else if (transactionId) this.appCancels(connection, id, transactionId, message);
      else if (message.method === 'INVITE') this.appInvites(connection, id, routeUrl, message);
      else this.appRequestsOutsideDialog(connection, id, routeUrl, message);
    } catch (err) {
      this.reply(connection, id, `NOK|Server error: ${(err as Error).message}`);
    }
  }

  /** A response to a request from the network: completed by the stack and sent to the UA. */
  private appResponds(connection: Connection, id: string, transactionId: string, app: SipMessage): void {
    const txn = this.serverTxns.get(transactionId);
    if (!txn) throw new Error('Response not sent due to unknown transaction');
    const { leg, request } = txn;
    const invite = request.method === 'INVITE';
    const status = app.status;
    let to = request.header('to')!;
    const initialInvite = invite && !request.tag('to');
    if (initialInvite && status > 100) to += `;tag=${leg.appTagFor()}`;
    const headers: HeaderList = [
      ...request.headerAll('via').map((v): [string, string] => ['Via', v]),
      ['From', request.header('from')!],
      ['To', to],
      ['Call-ID', request.callId],
      ['CSeq', request.header('cseq')!],
    ];
    if (invite && status >= 200 && status < 300 && !app.header('contact')) headers.push(['Contact', SERVER_CONTACT]);
    headers.push(...appHeaders(app));
    const wire = parseSip(buildSip(app.startLine, withContentType(headers, app.body), app.body));
    let answeredDialog = '';
    if (initialInvite && status >= 200 && status < 300) answeredDialog = leg.answered(wire);
    if (status >= 200) this.serverTxns.delete(transactionId);
    leg.receive(wire);
    this.replySent(connection, id, leg, wire, transactionId, answeredDialog || leg.dialogId, true);
  }

  /** A request inside a dialog (ACK, BYE, INFO …): the stack fills in the dialog state. */
  private appRequestsInDialog(connection: Connection, id: string, dialogId: string, app: SipMessage): void {
    const leg = this.dialogs.get(dialogId);
    if (!leg) {
      if (app.method === 'ACK') throw new Error('ACK for non-success responses is automatically generated by the stack');
      throw new Error('unable to find dialog for dialog id provided');
    }
    if (app.method === 'ACK' && leg.appInviteFailed) throw new Error('ACK for non-success responses is automatically generated by the stack');
    const wire = parseSip(leg.appRequest(app));
    const transactionId = randomUUID();
    if (wire.method !== 'ACK') this.clientTxns.set(transactionId, { request: wire, dialogId, connection });
    leg.receive(wire);
    this.replySent(connection, id, leg, wire, transactionId, '', false);
  }

  /** CANCEL of the app's INVITE, named by its transaction id. */
  private appCancels(connection: Connection, id: string, transactionId: string, app: SipMessage): void {
    const leg = this.outgoingInvites.get(transactionId);
    if (app.method !== 'CANCEL' || !leg) throw new Error(`unable to cancel unknown transaction id: ${transactionId}`);
    const wire = parseSip(leg.cancelRequest(app));
    leg.receive(wire);
    this.replySent(connection, id, leg, wire, randomUUID(), '', false);
  }

  /**
   * A request outside any dialog the stack knows. Like drachtio-server, the stack takes the
   * Call-ID, From, To (tags included) and CSeq the app gives; it reaches the UA whose call has
   * that Call-ID (this pretend network has no other UAs), through `routeUrl` when given.
   */
  private appRequestsOutsideDialog(connection: Connection, id: string, routeUrl: string, app: SipMessage): void {
    const leg = this.legsByCallId.get(app.callId);
    if (!leg) throw new Error(`no UA for Call-ID ${app.callId}`);
    const headers: HeaderList = [
      ['Via', `SIP/2.0/UDP ${SERVER_SIP_HOST}:${SERVER_SIP_PORT};branch=z9hG4bK${randomToken()};rport`],
      ['Max-Forwards', app.header('max-forwards') ?? '70'],
      ['From', app.header('from') ?? SERVER_CONTACT],
      ['To', app.header('to') ?? `<${app.uri}>`],
      ['Call-ID', app.callId],
      ['CSeq', app.header('cseq') ?? `1 ${app.method}`],
      ...appHeaders(app),
    ];
    const wire = parseSip(buildSip(`${app.method} ${app.uri} SIP/2.0`, withContentType(headers, app.body), app.body));
    const transactionId = randomUUID();
    this.clientTxns.set(transactionId, { request: wire, dialogId: '', connection });
    this.nextHops.set(wire, routeUrl || null);
    leg.receive(wire);
    this.replySent(connection, id, leg, wire, transactionId, '', false);
  }

  /** The next hop the app named (drachtio's route url) for a request it sent outside any dialog. */
  nextHopOf(request: SipMessage): string | null | undefined {
    return this.nextHops.get(request);
  }

  /** A new INVITE (the B leg): the stack makes the Call-ID, tags, Via and Contact. */
  private appInvites(connection: Connection, id: string, routeUrl: string, app: SipMessage): void {
    const transactionId = randomUUID();
    const leg = new CalleeLeg(this, connection, app, routeUrl || null);
    this.legsByCallId.set(leg.callId, leg);
    this.outgoingInvites.set(transactionId, leg);
    leg.inviteTransactionId = transactionId;
    this.replySent(connection, id, leg, leg.invite, transactionId, '', false);
    const waiter = this.calleeWaiters.shift();
    if (waiter) waiter(leg);
    else this.calleeLegs.push(leg);
  }

  private replySent(connection: Connection, id: string, leg: NetworkLeg, wire: SipMessage, transactionId: string, dialogId: string, response: boolean): void {
    const meta = ['application', Buffer.byteLength(wire.raw, 'utf8'), 'udp', leg.address, leg.port, stackTime()].join('|');
    const tail = response ? `${transactionId}|${dialogId}||Msg sent:|` : `${transactionId}|Msg sent:|`;
    this.send(connection, `response|${id}|OK|${meta}|${tail}\r\n${wire.raw}`);
  }

  private reply(connection: Connection, id: string, text: string): void {
    this.send(connection, `response|${id}|${text}`);
  }

  private send(connection: Connection, message: string): void {
    const framed = `${randomUUID()}|${message}`;
    connection.socket.write(`${Buffer.byteLength(framed, 'utf8')}#${framed}`);
  }

  private pick(wanted: AppConnection | undefined): Connection {
    const connection = wanted ? this.connection(wanted) : this.connections.find((c) => c.authenticated && c.routes.has('invite'));
    if (!connection) throw new Error('no app is connected');
    return connection;
  }

  private connection(wanted: AppConnection): Connection {
    const connection = this.connections.find((c) => c.id === wanted.id);
    if (!connection) throw new Error(`app connection ${wanted.id} is gone`);
    return connection;
  }
}

/**
 * A UA on the network side of one leg. `partyUri`/`partyTag` are the UA's own identity in the
 * dialog, `appUri`/`appTag` the B2BUA's side as the UA sees it.
 */
export abstract class NetworkLeg {
  readonly address: string;
  readonly port: number;
  dialogId = '';
  protected appTag: string | null = null;
  protected appSeq = 100;
  protected partySeq = 1;
  /** CSeq number of the last INVITE the app sent on this leg (null: only the initial one, if any). */
  private appInviteSeq: number | null = null;
  /** The app's last INVITE on this leg got a failure, which the stack has ACKed already. */
  appInviteFailed = false;
  /** Where the UA sends requests inside the dialog (the other side's Contact). */
  protected remoteTarget: string;
  private readonly inbox: SipMessage[] = [];
  private readonly waiters: Array<{ match: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }> = [];

  protected constructor(
    protected readonly peer: DrachtioPeer,
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
  }

  /** The UA's own tag in the dialog (null before it has one). */
  get ownTag(): string | null {
    return this.partyTag;
  }

  /** The UA's own Contact. */
  get contact(): string {
    return `<sip:ua@${this.address}:${this.port}>`;
  }

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

  /** A request the UA sends inside the dialog (or its early dialog). */
  request(method: string, options: SendOptions & { early?: boolean; connection?: AppConnection } = {}): ClientRequest {
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
    const message = parseSip(raw);
    const connection = options.connection ?? this.connection;
    const transactionId = this.peer.openServerTransaction(this, message);
    // In the early dialog drachtio-server has no dialog for the app yet and passes the request
    // on as if it were outside any dialog: to any app routing that method.
    this.peer.deliver(connection, raw, this, { transactionId, dialogId: options.early ? '' : this.dialogId });
    if (method === 'BYE') this.peer.removeDialog(this.dialogId);
    return new ClientRequest(this, message);
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
    this.peer.deliver(this.connection, raw, this, { transactionId: randomUUID(), dialogId: this.dialogId });
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
    if (request.method === 'INVITE' && status >= 200) this.appInviteFailed = status >= 300;
    if (request.method === 'INVITE' && status >= 300) this.receive(this.stackAck(request, parseSip(raw)));
    const transaction = this.peer.answerClientTransaction(request, status >= 200);
    this.peer.deliver(transaction.connection, raw, this, transaction);
  }

  // ── used by the peer ─────────────────────────────────────────────────────

  /** Something the app (or the stack for it) sent toward this UA. */
  receive(message: SipMessage): void {
    const index = this.waiters.findIndex((w) => w.match(message));
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(message);
    else this.inbox.push(message);
  }

  /** The B2BUA's tag on this leg, made by the stack on its first response or request. */
  appTagFor(): string {
    this.appTag ??= randomToken();
    return this.appTag;
  }

  /** The app answered this UA's INVITE with a 2xx; returns the dialog id. */
  answered(_response: SipMessage): string {
    throw new Error('only a caller leg is answered by the app');
  }

  /** The wire form of a request the app sends inside this leg's dialog. */
  appRequest(app: SipMessage): string {
    const method = app.method;
    const uri = method === 'ACK' || app.uri.includes('placeholder') ? uriIn(this.contact) : app.uri;
    const seq = method === 'ACK' ? (this.appInviteSeq ?? this.inviteSeq) : ++this.appSeq;
    if (method === 'INVITE') this.appInviteSeq = seq;
    const headers: HeaderList = [
      ['Via', `SIP/2.0/UDP ${SERVER_SIP_HOST}:${SERVER_SIP_PORT};branch=z9hG4bK${randomToken()};rport`],
      ['Max-Forwards', '70'],
      ['From', `<${this.appUri}>;tag=${this.appTagFor()}`],
      ['To', `<${this.partyUri}>${this.partyTag ? `;tag=${this.partyTag}` : ''}`],
      ['Call-ID', this.callId],
      ['CSeq', `${seq} ${method}`],
      ...appHeaders(app),
    ];
    return buildSip(`${method} ${uri} SIP/2.0`, withContentType(headers, app.body), app.body);
  }

  protected abstract get inviteSeq(): number;

  /** The ACK a SIP stack sends by itself for a non-2xx final response (RFC 3261 §17.1.1.3). */
  protected stackAck(invite: SipMessage, response: SipMessage): SipMessage {
    return parseSip(
      buildSip(
        `ACK ${invite.uri} SIP/2.0`,
        [
          ['Via', invite.header('via')!],
          ['Max-Forwards', '70'],
          ['From', invite.header('from')!],
          ['To', response.header('to')!],
          ['Call-ID', this.callId],
          ['CSeq', `${invite.cseq.seq} ACK`],
        ],
        '',
      ),
    );
  }
}

/** A UA that called through the app (the A leg). */
export class CallerLeg extends NetworkLeg {
  invite!: SipMessage;
  private inviteTransactionId = '';

  constructor(peer: DrachtioPeer, connection: AppConnection, options: CallOptions) {
    const source = options.source ?? { address: '127.0.0.2', port: 5070 };
    super(peer, connection, `${randomToken(10)}@${source.address}`, uriIn(options.from), randomToken(), uriIn(options.to), source, options.uri ?? uriIn(options.to));
    this.partySeq = 1;
  }

  get fromTag(): string {
    return this.partyTag!;
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
    this.inviteTransactionId = this.peer.openServerTransaction(this, this.invite);
    this.peer.deliver(this.connection, raw, this, { transactionId: this.inviteTransactionId, dialogId: '' });
  }

  /** The app's next response to the INVITE with this status. */
  response(status: number): Promise<SipMessage> {
    return this.next((m) => m.isResponse && m.cseq.method === 'INVITE' && m.status === status, `a ${status} to the INVITE`);
  }

  /** CANCEL: the stack answers it with 200 and hands it to the app with the INVITE's transaction. */
  cancel(): void {
    const raw = cancelOf(this.invite);
    const cancel = parseSip(raw);
    this.receive(parseSip(buildSip('SIP/2.0 200 OK', cancel.headerLines.filter(([n]) => n !== 'max-forwards').map(([n, v]) => [n, v]), '')));
    this.peer.deliver(this.connection, raw, this, { transactionId: this.inviteTransactionId, dialogId: this.dialogId });
  }

  override answered(response: SipMessage): string {
    this.remoteTarget = response.uriOf('contact');
    this.dialogId = `${this.callId};from-tag=${this.partyTag}`;
    this.peer.addDialog(this.dialogId, this);
    return this.dialogId;
  }

  protected get inviteSeq(): number {
    return 1;
  }
}

/** The UA the app's B-leg INVITE reached. */
export class CalleeLeg extends NetworkLeg {
  readonly invite: SipMessage;
  /** The next hop drachtio was asked to send the INVITE through (`opts.proxy`), if any. */
  readonly proxy: string | null;
  inviteTransactionId = '';

  constructor(peer: DrachtioPeer, connection: AppConnection, app: SipMessage, proxy: string | null) {
    const appTag = randomToken();
    const callId = app.header('call-id') ?? `${randomToken(10)}@${SERVER_SIP_HOST}`;
    const from = (app.header('from') ?? SERVER_CONTACT).replace(/@localhost\b/, `@${SERVER_SIP_HOST}:${SERVER_SIP_PORT}`);
    const to = app.header('to') ?? `<${app.uri}>`;
    super(peer, connection, callId, uriIn(to), null, uriIn(from), { address: '127.0.0.3', port: 5080 }, uriIn(SERVER_CONTACT));
    this.appTag = appTag;
    this.proxy = proxy;
    const headers: HeaderList = [
      ['Via', `SIP/2.0/UDP ${SERVER_SIP_HOST}:${SERVER_SIP_PORT};branch=z9hG4bK${randomToken()};rport`],
      ['Max-Forwards', app.header('max-forwards') ?? '70'],
      ['From', `${from};tag=${appTag}`],
      ['To', to],
      ['Call-ID', callId],
      ['CSeq', '1 INVITE'],
      ...(app.header('contact') ? [] : [['Contact', SERVER_CONTACT] as [string, string]]),
      ...appHeaders(app),
    ];
    this.invite = parseSip(buildSip(`INVITE ${app.uri} SIP/2.0`, withContentType(headers, app.body), app.body));
    this.appSeq = 1;
  }

  /** Answers the B-leg INVITE. A 2xx opens the dialog; a failure is ACKed by the stack itself. */
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
    const raw = buildSip(`SIP/2.0 ${status} ${REASONS[status] ?? 'Status'}`, headers, body);
    this.dialogId = `${this.callId};from-tag=${this.appTag}`;
    // drachtio-server keeps the dialog from a 2xx, or from a reliable 18x (RFC 3262) on: the app may send in it.
    const reliable = status > 100 && status < 200 && headers.some(([name]) => name.toLowerCase() === 'rseq');
    if ((status >= 200 && status < 300) || reliable) this.peer.addDialog(this.dialogId, this);
    if (status >= 200) this.peer.forgetInvite(this.inviteTransactionId);
    if (status >= 300) this.receive(this.stackAck(this.invite, parseSip(raw)));
    this.peer.deliver(this.connection, raw, this, { transactionId: this.inviteTransactionId, dialogId: this.dialogId });
  }

  /** The wire form of the app's CANCEL of the B-leg INVITE. */
  cancelRequest(app: SipMessage): string {
    return cancelOf(this.invite, appHeaders(app));
  }

  protected get inviteSeq(): number {
    return 1;
  }

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

/** The CANCEL of an INVITE: its Request-URI, top Via, From, To and Call-ID, CSeq number and `CANCEL` (RFC 3261 §9.1). */
function cancelOf(invite: SipMessage, extra: HeaderList = []): string {
  return buildSip(
    `CANCEL ${invite.uri} SIP/2.0`,
    [
      ['Via', invite.header('via')!],
      ['Max-Forwards', '70'],
      ['From', invite.header('from')!],
      ['To', invite.header('to')!],
      ['Call-ID', invite.callId],
      ['CSeq', `${invite.cseq.seq} CANCEL`],
      ...extra,
    ],
    '',
  );
}

function appHeaders(app: SipMessage): HeaderList {
  return app.headerLines.filter(([name]) => !STACK_HEADERS.has(name)).map(([name, value]) => [name, value]);
}

/** drachtio-server refuses a body without Content-Type unless it is SDP, which it labels. */
function withContentType(headers: HeaderList, body: string): HeaderList {
  if (!body || headers.some(([n]) => n.toLowerCase() === 'content-type')) return headers;
  if (!body.startsWith('v=0')) throw new Error('missing content-type');
  return [...headers, ['Content-Type', 'application/sdp']];
}

function uriIn(nameAddr: string): string {
  const open = nameAddr.indexOf('<');
  return open >= 0 ? nameAddr.slice(open + 1, nameAddr.indexOf('>', open)) : nameAddr.split(';')[0]!.trim();
}

function stackTime(): string {
  return new Date().toISOString().slice(11, 23);
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return withDeadline(promise, WAIT_MS, () => new Error(`timed out waiting for ${what}`));
}

const REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  183: 'Session Progress',
  200: 'OK',
  415: 'Unsupported Media Type',
  481: 'Call/Transaction Does Not Exist',
  486: 'Busy Here',
  487: 'Request Terminated',
  500: 'Server Internal Error',
};
