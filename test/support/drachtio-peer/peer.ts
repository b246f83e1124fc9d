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
 *                 + CRLF + a SIP message received from the network; a request outside any dialog
 *                 also names the address it arrived on (`…|<transaction id>||<address>|<port>|`).
 *
 * What the stack adds to the app's messages, and what it answers itself, follows the recorded
 * transcripts of drachtio-server 0.9.10 (see `sofia.ts`): no Contact on an unreliable 18x of the
 * app, its own on a reliable one and on a 2xx; RSeq and reliability for an 18x with
 * `Require: 100rel`; the caller's PRACK handed to the app; header names canonical; a request
 * body over 8 KiB answered `400` without reaching the app.
 *
 * Two ways to meet the app, as drachtio-server has: inbound, the app connects to this peer,
 * authenticates and sends `route|<verb>`; outbound (`connectToApp`), this peer connects to the
 * app's listening port for a call, the app sends `authenticate` at once, and once that is
 * answered the call's INVITE is delivered on the connection (client.cpp `outboundReady`).
 *
 * Two ways to play the network: in-process UAs the test drives (`call`, `nextCallee`), or real
 * SIP over UDP and TCP (`start({ sip: true })`): sipp calls the peer's SIP port, and the app's
 * B-leg INVITEs go to their Request-URI.
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { buildSip, parseSip, type HeaderList, type SipMessage } from '../raw-sip.js';
import {
  CalleeLeg,
  CallerLeg,
  NetworkLeg,
  withTimeout,
  type AppConnection,
  type CallOptions,
  type LegStack,
  type UaSocket,
} from './legs.js';
import { SipSockets, type SipEndpoint, type Transport } from './sip-sockets.js';
import {
  acceptsReliable,
  appHeaders,
  asksReliable,
  badRequest,
  MAX_REQUEST_BODY,
  responseHeaders,
  sofiaMessage,
  stackAck,
  withContentType,
} from './sofia.js';

const IN_PROCESS_SIP_HOST = '127.0.0.1';
const IN_PROCESS_SIP_PORT = 5060;
const SERVER_VERSION = 'v0.9.10';
/** Waiting for an app to connect: it starts a whole server first, which takes a while on a busy machine. */
const CONNECTION_WAIT_MS = 15_000;
/** Requests drachtio-server passes to an app outside any dialog while the INVITE is in progress (sip-dialog-controller.cpp). */
const EARLY_OUT_OF_DIALOG = new Set(['NOTIFY', 'OPTIONS', 'INFO', 'MESSAGE', 'PUBLISH', 'SUBSCRIBE']);

interface Connection extends AppConnection {
  socket: net.Socket;
  routes: Set<string>;
  authenticated: boolean;
  /** Settles with the outcome of the app's `authenticate`. */
  authentication: Promise<boolean>;
  settleAuthentication: (accepted: boolean) => void;
}

/** A request from the network waiting for the app's answer. */
interface ServerTransaction {
  leg: NetworkLeg;
  request: SipMessage;
  /** Where the request came from: its responses go back there (a real UA only). */
  from: SipEndpoint | null;
  /** The last response sent, for a retransmitted request. */
  lastResponse: string | null;
  final: boolean;
  /** Answered by the stack and destroyed while the app still holds the request: the app's answer is refused. */
  abandoned?: boolean;
}

/** A request the app sent toward the network, waiting for the UA's answer. */
interface ClientTransaction {
  leg: NetworkLeg;
  request: SipMessage;
  dialogId: string;
  /** The app connection that sent the request: its responses go back there. */
  connection: AppConnection;
}

export class DrachtioPeer implements LegStack {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly connections: Connection[] = [];
  private readonly connectionWaiters: Array<(c: Connection) => void> = [];
  private readonly serverTxns = new Map<string, ServerTransaction>();
  /** Server transactions by top Via branch and method, for retransmissions and CANCEL. */
  private readonly serverTxnKeys = new Map<string, string>();
  private readonly clientTxns = new Map<string, ClientTransaction>();
  private readonly clientTxnKeys = new Map<string, string>();
  /** Dialogs drachtio-server keeps for the app: confirmed ones, and early ones of a reliable 18x of the called party. */
  private readonly dialogs = new Map<string, NetworkLeg>();
  /** Legs by Call-ID: requests of real UAs, and requests the app sends outside any dialog. */
  private readonly legsByCallId = new Map<string, NetworkLeg>();
  private readonly nextHops = new WeakMap<SipMessage, string | null>();
  private readonly calleeLegs: CalleeLeg[] = [];
  private readonly calleeWaiters: Array<(leg: CalleeLeg) => void> = [];
  private nextConnectionId = 1;
  /** Authentications refused for a wrong secret. */
  refusedAuthentications = 0;
  /** Connections reset while refusing. */
  resetConnections = 0;
  /** What made this drachtio-server crash, as the real one would have (see `crash`). */
  readonly crashes: string[] = [];
  private refusing = false;
  private portNumber = 0;
  private sockets: SipSockets | null = null;

  private constructor(private readonly secret: string) {}

  /** `sip`: real SIP sockets on a free loopback port, for real UAs (sipp) on both sides. */
  static async start(options: { secret: string; sip?: boolean }): Promise<DrachtioPeer> {
    const peer = new DrachtioPeer(options.secret);
    await peer.listen();
    if (options.sip) peer.sockets = await SipSockets.open(IN_PROCESS_SIP_HOST, (raw, from) => peer.fromNetwork(raw, from));
    return peer;
  }

  /** The admin port apps connect to. */
  get port(): number {
    return this.portNumber;
  }

  get sipHost(): string {
    return this.sockets?.host ?? IN_PROCESS_SIP_HOST;
  }

  /** The SIP port (UDP and TCP): the real one with `sip`, else the pretend 5060. */
  get sipPort(): number {
    return this.sockets?.port ?? IN_PROCESS_SIP_PORT;
  }

  contact(transport: Transport): string {
    return `<sip:${this.sipHost}:${this.sipPort}${transport === 'udp' ? '' : `;transport=${transport}`}>`;
  }

  /** What drachtio-server announces on authenticating: its SIP endpoints, version, local endpoints. */
  private get hostports(): string {
    return `udp/${this.sipHost}:${this.sipPort},tcp/${this.sipHost}:${this.sipPort}`;
  }

  /** The next app connection that authenticates and routes INVITE and INFO (drachtio-srf routes right after authenticating). */
  nextConnection(): Promise<AppConnection> {
    return withTimeout(new Promise<Connection>((resolve) => this.connectionWaiters.push(resolve)), 'an app connection', CONNECTION_WAIT_MS);
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

  /**
   * What drachtio-server 0.9.10 does when the app sends a final response to an INVITE while a
   * reliable 18x of it is not PRACKed yet: it crashes (segfault in EncodeStackMessage, seen with
   * the real server for 486 and 200). Every app connection goes, and no new one is taken.
   */
  private crash(cause: string): void {
    this.crashes.push(cause);
    this.dropConnections({ refuse: true });
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    await Promise.all([new Promise<void>((resolve) => this.server.close(() => resolve())), this.sockets?.close()]);
  }

  /** A call arriving from the network: the INVITE is delivered to an app connection. */
  call(options: CallOptions): CallerLeg {
    const leg = this.ua(options);
    leg.sendInvite(options);
    return leg;
  }

  /** A network UA that has not sent an INVITE (its requests belong to no call). */
  ua(options: CallOptions): CallerLeg {
    const leg = new CallerLeg(this, this.pick(options.connection), options);
    this.legsByCallId.set(leg.callId, leg);
    return leg;
  }

  /** The next B-leg INVITE an app sends toward the network. */
  nextCallee(): Promise<CalleeLeg> {
    const ready = this.calleeLegs.shift();
    if (ready) return Promise.resolve(ready);
    return withTimeout(new Promise<CalleeLeg>((resolve) => this.calleeWaiters.push(resolve)), 'a B-leg INVITE');
  }

  /** The next hop the app named (drachtio's route url) for a request it sent outside any dialog. */
  nextHopOf(request: SipMessage): string | null | undefined {
    return this.nextHops.get(request);
  }

  // ── network → app ────────────────────────────────────────────────────────

  /** A message from a real UA on the SIP sockets. */
  private fromNetwork(raw: string, from: SipEndpoint): void {
    if (!raw) return; // keep-alive
    let message: SipMessage;
    try {
      message = parseSip(raw);
    } catch {
      return; // sofia drops what it cannot parse
    }
    if (message.isResponse) {
      const txn = this.clientTxns.get(this.clientTxnKeys.get(transactionKey(message)) ?? '');
      if (txn) this.fromUa(txn.leg, raw);
      return;
    }
    const retransmitted = this.serverTxns.get(this.serverTxnKeys.get(transactionKey(message)) ?? '');
    if (retransmitted && message.method !== 'ACK') {
      if (retransmitted.lastResponse) this.sockets!.send(retransmitted.lastResponse, from);
      return;
    }
    const socket: UaSocket = { transport: from.transport, ...(from.connection ? { connection: from.connection } : {}) };
    let leg = this.legsByCallId.get(message.callId);
    if (!leg) {
      leg = CallerLeg.fromNetwork(this, this.pick(undefined, message.method), message, from, socket);
      this.legsByCallId.set(leg.callId, leg);
    }
    this.fromUa(leg, raw, {}, from);
  }

  /**
   * A message a UA sent to the stack: a request is routed to the app as drachtio-server routes it
   * (in a dialog, in the INVITE's transaction, or outside any dialog), a response goes to the app
   * that sent the request. `from` is where a real UA sent it from.
   */
  fromUa(leg: NetworkLeg, raw: string, options: { connection?: AppConnection } = {}, from: SipEndpoint | null = null): void {
    const received = withReceivedVia(raw, from ?? { address: leg.address, port: leg.port });
    const message = parseSip(received);
    if (message.isResponse) {
      this.uaResponds(leg, message);
      return;
    }
    if (Buffer.byteLength(message.body, 'utf8') > MAX_REQUEST_BODY) {
      this.toUa(leg, parseSip(badRequest(message)), from);
      // Over TCP drachtio-server then closes the connection (seen with the real server).
      from?.connection?.end();
      return;
    }
    if (message.method === 'ACK') {
      this.uaAcks(leg, message);
      return;
    }
    const txnId = this.openServerTransaction(leg, message, from);
    if (message.method === 'INVITE') this.respondAsStack(txnId, 100, 'Trying');
    if (message.method === 'CANCEL') {
      this.uaCancels(leg as CallerLeg, txnId, message);
      return;
    }
    if (message.method === 'INVITE' && !message.tag('to') && leg instanceof CallerLeg) {
      leg.inviteTransactionId = txnId;
      this.deliver(leg.connection, message, leg, { transactionId: txnId, dialogId: '', receivedOn: true });
      return;
    }
    if (message.method === 'PRACK') {
      this.uaPracks(leg, txnId, message);
      return;
    }
    const dialog = this.dialogs.get(leg.dialogId) === leg ? leg.dialogId : '';
    if (dialog) {
      if (message.method === 'BYE') this.dialogs.delete(dialog);
      this.deliver(leg.connection, message, leg, { transactionId: txnId, dialogId: dialog });
      return;
    }
    if (leg instanceof CallerLeg && leg.appTag && leg.inviteStatus > 100 && leg.inviteStatus < 200 && message.tag('to') === leg.appTag) {
      this.uaRequestsInEarlyDialog(leg, txnId, message, options.connection);
      return;
    }
    // No dialog drachtio-server knows (none yet, the called party's before the answer, one ended):
    // sofia hands it over statelessly, to any app that routes the method.
    this.deliver(options.connection ?? leg.connection, message, leg, { transactionId: txnId, dialogId: '', receivedOn: true });
  }

  /**
   * A request of the caller in the early dialog of the app's 18x. Once the caller has PRACKed a
   * reliable 18x, drachtio-server knows whose dialog it is and routes requests inside it to that
   * app. Before that, an UPDATE goes to the app in the INVITE's transaction (the answer comes back
   * on it); an INFO, OPTIONS, MESSAGE … is handed to any app routing the method outside any dialog,
   * and answered `500` by the stack at once: drachtio-server 0.9.10 destroys that transaction as it
   * passes the request on (`processRequestInsideDialog`), so the app's answer is refused (seen with
   * the real server: the caller gets the 500, the app's 200 fails with "transport for response has
   * been shutdown or closed"). Anything else there is the stack's 481.
   */
  private uaRequestsInEarlyDialog(leg: CallerLeg, txnId: string, request: SipMessage, connection: AppConnection | undefined): void {
    if (leg.earlyDialogRouted) {
      this.deliver(leg.connection, request, leg, { transactionId: txnId, dialogId: leg.stackDialogId });
      return;
    }
    if (request.method === 'UPDATE') {
      if (leg.earlyUpdate) {
        this.respondAsStack(txnId, 500, 'Internal Server Error'); // RFC 3311 §5.2: one UPDATE at a time
        return;
      }
      leg.earlyUpdate = request;
      this.serverTxns.get(txnId)!.leg = leg;
      this.earlyUpdateTxns.set(leg.inviteTransactionId, txnId);
      this.deliver(leg.connection, request, leg, { transactionId: leg.inviteTransactionId, dialogId: leg.stackDialogId });
      return;
    }
    if (!EARLY_OUT_OF_DIALOG.has(request.method)) {
      this.respondAsStack(txnId, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    this.respondAsStack(txnId, 500, 'Internal Server Error');
    this.serverTxns.get(txnId)!.abandoned = true;
    this.deliver(connection ?? leg.connection, request, leg, { transactionId: txnId, dialogId: '', receivedOn: true });
  }

  /** Early UPDATE transactions by the INVITE transaction the app answers them on. */
  private readonly earlyUpdateTxns = new Map<string, string>();

  /** PRACK of a reliable 18x of the app: handed to the app in the early dialog; one for no such 18x is the stack's 481. */
  private uaPracks(leg: NetworkLeg, txnId: string, prack: SipMessage): void {
    const rseq = Number((prack.header('rack') ?? '').trim().split(/\s+/)[0]);
    const index = leg instanceof CallerLeg ? leg.unacknowledged.findIndex((r) => r.rseq === rseq && r.held === null) : -1;
    if (!(leg instanceof CallerLeg) || index < 0) {
      if (this.dialogs.get(leg.dialogId) === leg) this.deliver(leg.connection, prack, leg, { transactionId: txnId, dialogId: leg.dialogId });
      else this.respondAsStack(txnId, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    leg.unacknowledged.splice(index, 1);
    leg.earlyDialogRouted = true;
    this.deliver(leg.connection, prack, leg, { transactionId: txnId, dialogId: leg.stackDialogId });
    // sofia sends a reliable 18x held back behind this one now.
    const next = leg.unacknowledged.find((r) => r.held !== null);
    if (next) {
      const held = next.held!;
      next.held = null;
      this.toUa(leg, held, this.serverTxns.get(leg.inviteTransactionId)?.from ?? null);
    }
  }

  /** CANCEL: the stack answers it 200 and hands it to the app with the INVITE's transaction, while that is pending. */
  private uaCancels(leg: CallerLeg, txnId: string, cancel: SipMessage): void {
    this.respondAsStack(txnId, 200, 'OK');
    const invite = this.serverTxns.get(leg.inviteTransactionId);
    if (invite && !invite.final) this.deliver(leg.connection, cancel, leg, { transactionId: leg.inviteTransactionId, dialogId: '' });
  }

  /** ACK: of a 2xx, handed to the app in the dialog; of a failure, taken by the stack. */
  private uaAcks(leg: NetworkLeg, ack: SipMessage): void {
    if (leg instanceof CallerLeg && leg.inviteStatus >= 300 && ack.cseq.seq === leg.invite?.cseq.seq) return;
    if (this.dialogs.get(leg.dialogId) !== leg) return;
    this.deliver(leg.connection, ack, leg, { transactionId: randomUUID(), dialogId: leg.dialogId, protocol: '' });
  }

  /** A UA's response to a request of the app. */
  private uaResponds(leg: NetworkLeg, response: SipMessage): void {
    const txnId = this.clientTxnKeys.get(transactionKey(response));
    const txn = txnId ? this.clientTxns.get(txnId) : undefined;
    if (!txnId || !txn) return; // a retransmission of a final response already passed on
    const { request } = txn;
    const final = response.status >= 200;
    const initialInvite = leg instanceof CalleeLeg && request === leg.invite;
    if (initialInvite && response.status === 100) return; // sofia keeps 100 Trying to itself
    if (request.method === 'INVITE' && response.status >= 300) this.toUa(leg, parseSip(stackAck(request, response)), null);
    if (request.method === 'INVITE' && final) leg.appInviteFailed = response.status >= 300;
    let dialogId = txn.dialogId;
    if (initialInvite) {
      leg.uaAnswered(response);
      dialogId = leg.dialogId;
      // drachtio-server keeps the dialog from a 2xx, or from a reliable 18x (RFC 3262) on: the app may send in it.
      const reliable = !final && response.header('rseq') !== undefined;
      if ((response.status >= 200 && response.status < 300) || reliable) this.dialogs.set(dialogId, leg);
      if (final) leg.finalStatus = response.status;
    }
    if (final) {
      this.clientTxns.delete(txnId);
      if (request.method === 'BYE') this.dialogs.delete(txn.dialogId);
    }
    this.deliver(txn.connection, response, leg, { transactionId: txnId, dialogId });
  }

  /** Delivers a SIP message from the network to the app, as drachtio-server does. */
  private deliver(
    connection: AppConnection,
    message: SipMessage,
    leg: NetworkLeg,
    ids: { transactionId: string; dialogId: string; receivedOn?: boolean; protocol?: string },
  ): void {
    const meta = ['network', Buffer.byteLength(message.raw, 'utf8'), ids.protocol ?? leg.transport, leg.address, leg.port, stackTime()].join('|');
    const receivedOn = ids.receivedOn ? `${this.sipHost}|${this.sipPort}|` : '';
    this.send(this.connection(connection), `sip|${meta}|${ids.transactionId}|${ids.dialogId}|${receivedOn}\r\n${message.raw}`);
  }

  private openServerTransaction(leg: NetworkLeg, request: SipMessage, from: SipEndpoint | null): string {
    const transactionId = randomUUID();
    this.serverTxns.set(transactionId, { leg, request, from, lastResponse: null, final: false });
    this.serverTxnKeys.set(transactionKey(request), transactionId);
    return transactionId;
  }

  /** A response the stack gives itself (100 Trying, 200 to CANCEL, 481 to a stray PRACK …). */
  private respondAsStack(txnId: string, status: number, reason: string): void {
    const txn = this.serverTxns.get(txnId)!;
    const to = status > 100 && !txn.request.tag('to') ? `${txn.request.header('to')!};tag=${txn.leg.appTagFor()}` : txn.request.header('to')!;
    const wire = parseSip(buildSip(`SIP/2.0 ${status} ${reason}`, responseHeaders(txn.request, to), ''));
    this.sendResponse(txn, wire);
  }

  private sendResponse(txn: ServerTransaction, wire: SipMessage): void {
    txn.lastResponse = wire.raw;
    if (wire.status >= 200) txn.final = true;
    this.toUa(txn.leg, wire, txn.from);
  }

  /** Sends a message toward the UA of `leg`: onto the socket of a real UA, else into the test UA's inbox. */
  private toUa(leg: NetworkLeg, message: SipMessage, from: SipEndpoint | null): void {
    if (!this.sockets || !leg.socket) {
      leg.receive(message);
      return;
    }
    const target = message.isResponse && from ? from : this.uaEndpoint(leg);
    this.sockets.send(message.raw, target);
  }

  /** Where requests for a real UA go: its target's host and port, on the dialog's connection for TCP. */
  private uaEndpoint(leg: NetworkLeg): SipEndpoint {
    const { address, port } = hostPortIn(leg.uaTarget);
    return { transport: leg.transport, address, port, ...(leg.socket?.connection ? { connection: leg.socket.connection } : {}) };
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
    // drachtio-server sets TCP_NODELAY on every app connection, accepted or made (client.cpp
    // `setTcpKeepAlive`): its frames go out at once, never held back by Nagle's algorithm.
    socket.setNoDelay(true);
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
        this.reply(connection, id, `OK|${this.hostports}|${SERVER_VERSION}|${this.hostports}`);
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
      this.reply(connection, id, `NOK|${(err as Error).message}`);
    }
  }

  /** A response to a request from the network: completed by the stack and sent to the UA. */
  private appResponds(connection: Connection, id: string, transactionId: string, app: SipMessage): void {
    // The answer to an early UPDATE comes on the INVITE's transaction, with the UPDATE's CSeq.
    const updateTxn = app.cseq.method === 'UPDATE' ? this.earlyUpdateTxns.get(transactionId) : undefined;
    if (updateTxn) this.earlyUpdateTxns.delete(transactionId);
    const txnId = updateTxn ?? transactionId;
    const txn = this.serverTxns.get(txnId);
    if (txn?.abandoned) throw new Error('transport for response has been shutdown or closed');
    if (!txn || txn.final) throw new Error('Response not sent due to unknown transaction');
    const { leg, request } = txn;
    if (updateTxn && leg instanceof CallerLeg) leg.earlyUpdate = null;
    const status = app.status;
    const initialInvite = request.method === 'INVITE' && !request.tag('to') && leg instanceof CallerLeg;
    if (initialInvite && status >= 200 && leg.unacknowledged.length > 0) {
      this.crash(`${status} to an INVITE whose reliable 18x is not PRACKed yet`);
      return;
    }
    const reliable = initialInvite && asksReliable(app);
    if (reliable && !acceptsReliable(request)) throw new Error('Remote endpoint does not support 100rel');
    let to = request.header('to')!;
    if (initialInvite && status > 100) to += `;tag=${leg.appTagFor()}`;
    const headers: HeaderList = responseHeaders(request, to);
    // drachtio-server's own Contact goes on a 2xx to an INVITE and on a reliable 18x, never on an unreliable 18x.
    const stackContact = request.method === 'INVITE' && ((status >= 200 && status < 300) || reliable) && !app.header('contact');
    if (stackContact) headers.push(['Contact', this.contact(leg.transport)]);
    const rseq = reliable ? ++(leg).lastRseq : 0;
    if (reliable) headers.push(['RSeq', String(rseq)]);
    headers.push(...appHeaders(app));
    const wire = parseSip(sofiaMessage(app.startLine, withContentType(headers, app.body), app.body));
    let dialogId = '';
    if (initialInvite && status > 100) {
      leg.inviteStatus = status;
      dialogId = status >= 200 && status < 300 ? leg.confirmed(wire) : leg.stackDialogId;
      if (status >= 200 && status < 300) this.dialogs.set(dialogId, leg);
    }
    // sofia holds a reliable 18x back until the one before it is PRACKed (RFC 3262 §3).
    const heldBack = reliable && (leg).unacknowledged.length > 0;
    if (reliable) (leg).unacknowledged.push({ rseq, held: heldBack ? wire : null });
    if (heldBack) {
      txn.lastResponse = wire.raw;
    } else {
      this.sendResponse(txn, wire);
    }
    if (status >= 200) txn.final = true;
    this.replySent(connection, id, leg, wire, txnId, dialogId || (this.dialogs.get(leg.dialogId) === leg ? leg.dialogId : ''), true);
  }

  /** A request inside a dialog (ACK, BYE, INFO, PRACK …): the stack fills in the dialog state. */
  private appRequestsInDialog(connection: Connection, id: string, dialogId: string, app: SipMessage): void {
    const leg = this.dialogs.get(dialogId);
    if (!leg) {
      if (app.method === 'ACK') throw new Error('ACK for non-success responses is automatically generated by the stack');
      throw new Error('unable to find dialog for dialog id provided');
    }
    if (app.method === 'ACK' && leg.appInviteFailed) throw new Error('ACK for non-success responses is automatically generated by the stack');
    const wire = parseSip(leg.appRequest(app));
    const transactionId = randomUUID();
    if (wire.method !== 'ACK') this.openClientTransaction(transactionId, { request: wire, dialogId, connection, leg });
    this.toUa(leg, wire, null);
    this.replySent(connection, id, leg, wire, transactionId, '', false);
  }

  /** CANCEL of the app's INVITE, named by its transaction id. */
  private appCancels(connection: Connection, id: string, transactionId: string, app: SipMessage): void {
    const txn = this.clientTxns.get(transactionId);
    const leg = txn?.leg;
    if (app.method !== 'CANCEL' || !(leg instanceof CalleeLeg) || txn?.request !== leg.invite) throw new Error(`unable to cancel unknown transaction id: ${transactionId}`);
    const wire = parseSip(leg.cancelRequest(app));
    const cancelTxn = randomUUID();
    this.openClientTransaction(cancelTxn, { request: wire, dialogId: '', connection, leg });
    this.toUa(leg, wire, null);
    this.replySent(connection, id, leg, wire, cancelTxn, '', false);
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
      ['Via', `SIP/2.0/${leg.transport.toUpperCase()} ${this.sipHost}:${this.sipPort};rport;branch=z9hG4bK${randomUUID().slice(0, 12)}`],
      ['Max-Forwards', app.header('max-forwards') ?? '70'],
      ['From', app.header('from') ?? this.contact('udp')],
      ['To', app.header('to') ?? `<${app.uri}>`],
      ['Call-ID', app.callId],
      ['CSeq', app.header('cseq') ?? `1 ${app.method}`],
      ...appHeaders(app),
    ];
    const wire = parseSip(sofiaMessage(`${app.method} ${app.uri} SIP/2.0`, withContentType(headers, app.body), app.body));
    const transactionId = randomUUID();
    this.openClientTransaction(transactionId, { request: wire, dialogId: '', connection, leg });
    this.nextHops.set(wire, routeUrl || null);
    this.toUa(leg, wire, null);
    this.replySent(connection, id, leg, wire, transactionId, '', false);
  }

  /** A new INVITE (the B leg): the stack makes the Call-ID, tags, Via and Contact. */
  private appInvites(connection: Connection, id: string, routeUrl: string, app: SipMessage): void {
    const transactionId = randomUUID();
    const target = this.sockets ? { ...hostPortIn(routeUrl || app.uri), socket: { transport: transportIn(routeUrl || app.uri) } } : { address: '127.0.0.3', port: 5080, socket: null };
    const leg = new CalleeLeg(this, connection, app, routeUrl || null, target);
    this.legsByCallId.set(leg.callId, leg);
    leg.inviteTransactionId = transactionId;
    this.openClientTransaction(transactionId, { request: leg.invite, dialogId: '', connection, leg });
    this.replySent(connection, id, leg, leg.invite, transactionId, '', false);
    if (this.sockets) {
      this.toUa(leg, leg.invite, null);
      return;
    }
    const waiter = this.calleeWaiters.shift();
    if (waiter) waiter(leg);
    else this.calleeLegs.push(leg);
  }

  private openClientTransaction(transactionId: string, txn: ClientTransaction): void {
    this.clientTxns.set(transactionId, txn);
    this.clientTxnKeys.set(transactionKey(txn.request), transactionId);
  }

  private replySent(connection: Connection, id: string, leg: NetworkLeg, wire: SipMessage, transactionId: string, dialogId: string, response: boolean): void {
    const meta = ['application', Buffer.byteLength(wire.raw, 'utf8'), leg.transport, leg.address, leg.port, stackTime()].join('|');
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

  /** The connection a new request goes to: the one asked for, else the first app routing its method. */
  private pick(wanted: AppConnection | undefined, method = 'INVITE'): Connection {
    const verb = method.toLowerCase();
    const connection = wanted
      ? this.connection(wanted)
      : (this.connections.find((c) => c.authenticated && c.routes.has(verb)) ?? this.connections.find((c) => c.authenticated && c.routes.has('invite')));
    if (!connection) throw new Error('no app is connected');
    return connection;
  }

  private connection(wanted: AppConnection): Connection {
    const connection = this.connections.find((c) => c.id === wanted.id);
    if (!connection) throw new Error(`app connection ${wanted.id} is gone`);
    return connection;
  }
}

/** A transaction's key: the top Via branch and the method (a CANCEL shares its INVITE's branch, RFC 3261 §9.1). */
function transactionKey(message: SipMessage): string {
  const branch = /;\s*branch=([^;,\s]+)/i.exec(message.header('via') ?? '')?.[1] ?? '';
  return `${branch}|${message.cseq.method}`;
}

/**
 * The top Via as the stack records a request from `from` (sofia with NTATAG_SERVER_RPORT(2)):
 * `rport` filled in, or added, with the source port; `received` when the source address differs.
 */
function withReceivedVia(raw: string, from: { address: string; port: number }): string {
  return raw.replace(/^(Via|v)[ \t]*:[ \t]*([^\r\n]*)/im, (line, name: string, value: string) => {
    if (/^SIP\/2\.0\/\S+\s+[^;]*/i.exec(value) === null || raw.startsWith('SIP/2.0')) return line;
    const host = /^SIP\/2\.0\/\S+\s+([^;:]+|\[[^\]]+\])/i.exec(value)?.[1];
    let via = /;\s*rport(?=[;,\s]|$)/i.test(value) ? value.replace(/;\s*rport(?=[;,\s]|$)/i, `;rport=${from.port}`) : /;\s*rport=/i.test(value) ? value : `${value};rport=${from.port}`;
    if (host && host !== from.address && !/;\s*received=/i.test(via)) via += `;received=${from.address}`;
    return `${name}: ${via}`;
  });
}

function hostPortIn(uri: string): { address: string; port: number } {
  const match = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/i.exec(uri.replace(/^<|>$/g, ''));
  if (!match) throw new Error(`not a SIP URI: ${uri}`);
  return { address: match[1]!, port: match[2] ? Number(match[2]) : 5060 };
}

function transportIn(uri: string): Transport {
  return /;\s*transport=tcp/i.test(uri) ? 'tcp' : 'udp';
}

function stackTime(): string {
  return new Date().toISOString().slice(11, 23);
}
