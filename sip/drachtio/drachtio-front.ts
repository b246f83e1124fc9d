/**
 * The production SIP front: a B2BUA on drachtio-srf controlling a drachtio-server (contract §3).
 *
 * Each initial INVITE becomes a `B2bCall`: the core is told the call started (and answers with
 * what to announce, within its budget), the B-leg INVITE carries `Alert-Info` for what is
 * presented to the called party, and every 18x/200 relayed to the caller carries what is
 * presented to the caller. Every INFO goes to the copy port first; what is not a copy request is
 * relayed to the other leg. A B2BUA (not a proxy) is what lets in-dialog requests reach us.
 */
import type { Socket } from 'node:net';
import { alertInfoValue, type CallAnnotation, type CallEndReason, type CallEvents } from '../../src/calls/call-events.js';
import { sipWarning } from '../../src/calls/sip-warning.js';
import { isTrusted } from '../../src/config/cidr.js';
import type { Config } from '../../src/config/config.js';
import { COPY_PACKAGE } from '../../src/copy/info-classifier.js';
import type { SipAnswer } from '../../src/copy/sip-copy-port.js';
import type { Identity } from '../../src/domain/identity.js';
import type { Logger } from '../../src/observability/logger.js';
import type { CorePorts, SignallingFront } from '../../src/signalling.js';
import type { Services } from '../../src/wiring.js';
import { GuardedCallEvents, NOTHING_PRESENTED } from '../common/guarded-call-events.js';
import { ASSERTED_IDENTITY_HEADERS, calledIdentity } from '../common/identities.js';
import { B2bCall } from './b2b-call.js';
import { CallRegistry } from './call-registry.js';
import { DialogRelay } from './dialog-relay.js';
import { EarlyDialogDirectory } from './early-dialog.js';
import { fromTagOf, requestorOf, toInfoMessage } from './info-message.js';
import { nextHop, ownAddresses } from './next-hop.js';
import { OutboundConnections } from './outbound-connections.js';
import { withoutTag } from './sip-headers.js';
import {
  closeConnection,
  createSrf,
  sendRequest,
  sipErrorStatus,
  type SipHeaders,
  type Srf,
  type SrfDialog,
  type SrfOutgoingResponse,
  type SrfRequest,
  type SrfResponse,
} from './srf.js';

/** What the front needs of the server's services. */
export type DrachtioFrontDeps = Pick<Services, 'config' | 'logger' | 'metrics' | 'readiness' | 'redis' | 'keys'>;

/** Seconds an upstream proxy should wait before retrying an INVITE this draining instance refused. */
const DRAIN_RETRY_AFTER_SEC = '5';
/** Longest pause between reconnection attempts to drachtio-server. */
const RECONNECT_MAX_DELAY_MS = 2000;
/** Outbound mode, end of a drain: how long the last BYEs get for their answers before the connections are cut. */
const CONNECTION_CLOSE_GRACE_MS = 2000;
/** Caller-side headers the B-leg INVITE keeps (From/To are copied without their tags; asserted identities only from trusted peers). */
const PROXIED_INVITE_HEADERS = [
  'P-Preferred-Identity',
  'Privacy',
  'P-Charging-Vector',
  'P-Charging-Function-Addresses',
  'P-Access-Network-Info',
  'Supported',
  'Allow',
  'Accept',
  'Recv-Info',
  'Content-Type',
  'User-Agent',
];

export class DrachtioFront implements SignallingFront {
  readonly name = 'drachtio';
  private readonly srf: Srf = createSrf();
  private readonly calls = new CallRegistry();
  private readonly log: Logger;
  private readonly callEvents: CallEvents;
  private readonly warnHost: string;
  private readonly relay: DialogRelay;
  private readonly earlyDialogs: EarlyDialogDirectory;
  private ownAddresses: ReadonlySet<string> = new Set();
  /** Inbound mode: connected and authenticated. */
  private connected = false;
  /** Outbound mode: the listener and the connections drachtio-server opened. */
  private outbound: OutboundConnections | null = null;
  /** Outbound mode: the connection each call arrived on. */
  private readonly callConnections = new WeakMap<B2bCall, Socket>();
  private refusalLogged = false;
  private draining = false;
  private stopping: Promise<void> | null = null;

  constructor(
    private readonly deps: DrachtioFrontDeps,
    private readonly ports: CorePorts,
  ) {
    this.log = deps.logger.child({ front: 'drachtio' });
    this.callEvents = new GuardedCallEvents(ports.calls, { budgetMs: deps.config.sip.selectBudgetMs, logger: this.log });
    this.warnHost = deps.config.sip.publicHost;
    this.relay = new DialogRelay({
      warnHost: this.warnHost,
      trusted: deps.config.sip.trusted,
      sendRequest: (uri, options) => sendRequest(this.srf, uri, options),
    });
    this.earlyDialogs = new EarlyDialogDirectory(deps.redis, deps.keys, this.log);
  }

  /**
   * Not draining, and connected and authenticated to drachtio-server (inbound mode) or listening
   * for it (outbound mode, where no connection at all is the normal idle state).
   */
  get ready(): boolean {
    return (this.outbound ? this.outbound.listening : this.connected) && !this.draining;
  }

  /** Outbound mode: the port drachtio-server connects to; null in inbound mode. */
  get listeningPort(): number | null {
    return this.outbound?.port ?? null;
  }

  get liveCalls(): number {
    return this.calls.size;
  }

  /**
   * Registers the handlers, then starts the (self-reconnecting) inbound connection, or listens
   * for drachtio-server in outbound mode; rejects when it cannot listen there.
   */
  async start(): Promise<void> {
    const { mode, host, port, secret } = this.connection;
    this.srf.on('connect', (err, hostports) => this.onConnect(err, hostports));
    // Without an 'error' listener drachtio-srf's connection errors would crash the process.
    this.srf.on('error', (err) => this.onConnectionLost(err.message));
    this.srf.on('close', (socket) => (this.outbound ? this.onOutboundConnectionClosed(socket) : this.onConnectionLost('closed')));
    this.srf.invite((req, res) => this.guard(req, res, () => this.onInvite(req, res)));
    // INFO outside a known dialog: an early dialog (before 200), possibly a call of another instance.
    this.srf.use('info', (req, res) => this.guard(req, res, () => this.onEarlyInfo(req, res)));
    if (mode === 'outbound') {
      this.outbound = await OutboundConnections.listen(this.srf, { host, port, secret }, this.log);
      this.log.info({ event: 'drachtio', mode, host, port: this.outbound.port }, 'listening for drachtio-server');
      return;
    }
    this.srf.connect({ host, port, secret, enablePing: true, reconnect: { retryMaxDelay: RECONNECT_MAX_DELAY_MS } });
    this.log.info({ event: 'drachtio', mode, host, port }, 'connecting to drachtio-server');
  }

  /**
   * Drains: new INVITEs get 503 with Retry-After, live calls may end on their own until the
   * drain limit, then the rest are hung up and the connection is closed (outbound mode: the
   * listener, then every connection once its last BYE is answered).
   */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private get connection(): NonNullable<Config['drachtio']> {
    const connection = this.deps.config.drachtio;
    if (!connection) throw new Error('the drachtio front needs CMR_DRACHTIO_HOST');
    return connection;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    const limitMs = this.connection.drainTimeoutMs;
    this.log.info({ event: 'drain', liveCalls: this.calls.size, limitMs }, 'draining SIP calls');
    if (!(await this.calls.whenEmpty(limitMs))) {
      this.log.warn({ event: 'drain', liveCalls: this.calls.size }, 'drain limit reached: hanging up the remaining calls');
      for (const call of this.calls.all()) call.hangUp();
    }
    if (this.outbound) {
      await this.outbound.close(CONNECTION_CLOSE_GRACE_MS);
      this.log.info({ event: 'drain' }, 'stopped listening for drachtio-server');
      return;
    }
    closeConnection(this.srf);
    this.connected = false;
    this.log.info({ event: 'drain' }, 'disconnected from drachtio-server');
  }

  private onConnect(err: Error | null, hostports: string): void {
    if (this.outbound) {
      // One connection per call: a refused secret costs that call, so every refusal is logged.
      if (err) this.log.error({ event: 'drachtio', err: err.message }, 'drachtio-server refused a connection for a call (check CMR_DRACHTIO_SECRET)');
      else this.log.debug({ event: 'drachtio', hostports, connections: this.outbound.size }, 'drachtio-server connected for a call');
      return;
    }
    if (err) {
      this.connected = false;
      // Logged once per outage: drachtio-srf keeps retrying every few seconds.
      if (!this.refusalLogged) this.log.error({ event: 'drachtio', err: err.message }, 'drachtio-server refused the connection (check CMR_DRACHTIO_SECRET)');
      this.refusalLogged = true;
      return;
    }
    this.ownAddresses = ownAddresses(hostports, this.deps.config.sip.publicHost);
    this.connected = true;
    this.refusalLogged = false;
    this.log.info({ event: 'drachtio', hostports }, 'connected to drachtio-server');
  }

  /** Outbound mode: a connection closed under a call still up (drachtio-server went away): the call is lost. */
  private onOutboundConnectionClosed(socket: Socket): void {
    for (const call of this.calls.all()) {
      if (this.callConnections.get(call) !== socket || call.isOver) continue;
      call.log.warn({ event: 'drachtio' }, 'lost the drachtio-server connection of a live call');
      call.connectionLost();
    }
  }

  private onConnectionLost(reason: string): void {
    if (!this.connected) return;
    this.connected = false;
    this.log.warn({ event: 'drachtio', reason, liveCalls: this.calls.size }, 'lost the drachtio-server connection; reconnecting');
    for (const call of this.calls.all()) call.connectionLost();
  }

  private async onInvite(req: SrfRequest, res: SrfOutgoingResponse): Promise<void> {
    const callId = req.get('Call-ID') ?? '';
    const log = this.log.child({ callId });
    if (this.draining) {
      this.count('invite-refused');
      log.info({ event: 'invite', status: 503 }, 'refusing a new call while draining');
      res.send(503, undefined, {
        headers: { 'Retry-After': DRAIN_RETRY_AFTER_SEC, Warning: sipWarning(this.warnHost, 'server is shutting down') },
      });
      return;
    }
    if (!req.isNewInvite) {
      log.info({ event: 'invite', status: 481 }, 'INVITE for an unknown dialog');
      res.send(481, undefined, { headers: { Warning: sipWarning(this.warnHost, 'no such dialog') } });
      return;
    }
    this.count('invite');
    const call = new B2bCall(callId, fromTagOf(req), log, {
      info: (c, dialog, infoReq, infoRes) => this.guard(infoReq, infoRes, () => this.onDialogInfo(c, dialog, infoReq, infoRes)),
      reInvite: (c, dialog, inDialog, inDialogRes) => this.guard(inDialog, inDialogRes, () => this.relay.reInvite(dialog, inDialog, inDialogRes, c.log)),
      request: (c, dialog, inDialog, inDialogRes) => this.guard(inDialog, inDialogRes, () => this.relay.request(dialog, inDialog, inDialogRes, c.log)),
      ended: (c, reason) => this.onCallEnded(c, reason),
    });
    req.on('cancel', () => call.callerCancelled());
    this.calls.add(call);
    const releaseConnection = this.holdConnection(call, req);
    try {
      await this.connect(call, req, res);
    } catch (err) {
      call.hangUp(); // whatever failed, no leg stays up and the call leaves the registry
      throw err;
    } finally {
      // Set up (or failed): no leg is adopted from here on, so its last BYE is known once it is over.
      void call.settled().then(releaseConnection);
    }
  }

  /**
   * Outbound mode: the call's connection stays open while the call is up. It also carries the
   * B leg (drachtio-srf sends it on the connection of the caller's INVITE), and its endpoints
   * are those of the drachtio-server that chose this instance.
   */
  private holdConnection(call: B2bCall, req: SrfRequest): () => void {
    if (!this.outbound) return () => {};
    this.callConnections.set(call, req.socket);
    const hostports = req.server?.hostport;
    if (hostports) this.ownAddresses = new Set([...this.ownAddresses, ...ownAddresses(hostports, this.deps.config.sip.publicHost)]);
    return this.outbound.hold(req);
  }

  /** Sets up the B leg and, once the called party answers, the caller's leg. */
  private async connect(call: B2bCall, req: SrfRequest, res: SrfOutgoingResponse): Promise<void> {
    const log = call.log;
    const annotation = await this.callStarted(req, call);
    if (call.isCancelled) {
      if (!res.finalResponseSent) res.send(487, undefined, {});
      call.failed();
      return;
    }
    const hop = nextHop(req.get('Route'), this.ownAddresses, this.deps.config.sip.outboundProxy);
    log.info({ event: 'invite', caller: req.get('From'), to: req.uri, proxy: hop.proxy, toCalled: annotation.toCalled.length }, 'forwarding call');
    let legs: { uas: SrfDialog; uac: SrfDialog };
    try {
      legs = await this.srf.createB2BUA(
        req,
        res,
        req.uri,
        {
          ...(hop.proxy ? { proxy: hop.proxy } : {}),
          headers: {
            From: withoutTag(req.get('From') ?? ''),
            To: withoutTag(req.get('To') ?? ''),
            ...(hop.route ? { Route: hop.route } : {}),
            ...(annotation.toCalled.length > 0 ? { 'Alert-Info': annotation.toCalled.map(alertInfoValue).join(', ') } : {}),
          },
          responseHeaders: (response) => {
            // Called for every B-leg response before it is relayed (drachtio-srf's cbProvisional misses 18x with a body).
            if (response.status < 200) this.calledPartyProvisional(call, response);
            return callerResponseHeaders(annotation, response);
          },
          proxyRequestHeaders: this.isTrusted(req) ? [...ASSERTED_IDENTITY_HEADERS, ...PROXIED_INVITE_HEADERS] : PROXIED_INVITE_HEADERS,
        },
        {
          cbRequest: (err, sent) => {
            if (!err) call.bLegSent(sent);
          },
          // Adopt the called party's leg the moment it exists, so its BYE is never missed.
          cbFinalizedUac: (uac) => call.adopt(uac),
        },
      );
    } catch (err) {
      const status = sipErrorStatus(err);
      if (status === null) log.warn({ event: 'call', err: (err as Error).message }, 'call setup failed');
      else log.info({ event: 'call', status, cancelled: call.isCancelled }, 'call not answered');
      call.failed();
      return;
    }
    call.adopt(legs.uac);
    call.adopt(legs.uas);
    this.forgetEarlyDialog(call);
    if (call.isOver) return;
    log.info({ event: 'answered', bLegCallId: call.bLegCallId }, 'call answered');
    if (call.reportedToCore) await this.callEvents.callAnswered(call.callId);
  }

  /** Tells the core about the call; a call whose parties cannot be identified goes on unannotated. */
  private async callStarted(req: SrfRequest, call: B2bCall): Promise<CallAnnotation> {
    const parties = this.parties(req);
    if (!parties || !call.fromTag) {
      call.log.warn({ event: 'invite', from: req.get('From'), uri: req.uri }, 'caller or called party not identifiable: no CMR on this call');
      return NOTHING_PRESENTED;
    }
    call.reportedToCore = true;
    return this.callEvents.callStarted({ callId: call.callId, fromTag: call.fromTag, ...parties });
  }

  /** Caller = asserted identity (trusted peers only), else From; called = P-Served-User (trusted), else Request-URI. */
  private parties(req: SrfRequest): { caller: Identity; called: Identity } | null {
    const trusted = this.isTrusted(req);
    const caller = requestorOf(req, trusted);
    const called = calledIdentity(trusted, req.get('P-Served-User'), req.uri);
    return caller && called ? { caller, called } : null;
  }

  /** A reliable 18x opened (or, forking, replaced) the called party's early dialog: other instances may need it for an early INFO. */
  private calledPartyProvisional(call: B2bCall, response: SrfResponse): void {
    if (call.calledPartyRang(response) && call.reportedToCore && call.earlyDialog) this.earlyDialogs.save(call.callId, call.earlyDialog);
  }

  private forgetEarlyDialog(call: B2bCall): void {
    if (!call.earlyDialog) return;
    call.earlyDialog = null;
    if (call.reportedToCore) this.earlyDialogs.forget(call.callId);
  }

  private onCallEnded(call: B2bCall, reason: CallEndReason): void {
    this.calls.remove(call);
    this.forgetEarlyDialog(call);
    call.log.info({ event: 'ended', reason }, 'call ended');
    if (call.reportedToCore) void this.callEvents.callEnded(call.callId, reason);
  }

  /** INFO on a leg of an answered call: the copy service answers copy requests, everything else goes to the other leg. */
  private async onDialogInfo(call: B2bCall, dialog: SrfDialog, req: SrfRequest, res: SrfOutgoingResponse): Promise<void> {
    const info = toInfoMessage(req, { callId: call.callId, dialogFromTag: call.fromTag, trusted: this.isTrusted(req) });
    const answer = await this.ports.copy.handleInfo(info);
    if (answer) {
      this.count('info-copy');
      call.log.info({ event: 'info', leg: dialog.type, status: answer.status, cseq: info.cseq }, 'answered a copy request');
      sendAnswer(res, answer);
      return;
    }
    this.count('info-relayed');
    await this.relay.request(dialog, req, res, call.log);
  }

  /**
   * INFO that drachtio-server could not place in a confirmed dialog: sent in the early dialog,
   * it is routed like an out-of-dialog request and may reach an instance that does not hold the
   * call, which then finds the call's presenting session by Call-ID and From tag.
   */
  private async onEarlyInfo(req: SrfRequest, res: SrfOutgoingResponse): Promise<void> {
    const callId = req.get('Call-ID') ?? '';
    const fromTag = fromTagOf(req);
    const local = this.calls.find(callId);
    const session = local ? null : await this.callEvents.findCall(callId, fromTag ?? undefined);
    const info = toInfoMessage(req, {
      callId: local?.callId ?? callId,
      dialogFromTag: local?.fromTag ?? session?.fromTag ?? null,
      trusted: this.isTrusted(req),
    });
    const answer = await this.ports.copy.handleInfo(info);
    const log = this.log.child({ callId: info.callId });
    if (answer) {
      this.count('info-copy');
      log.info({ event: 'info', early: true, local: Boolean(local), status: answer.status, cseq: info.cseq }, 'answered a copy request');
      sendAnswer(res, answer);
      return;
    }
    if (local || session) {
      // Only the caller's INFO goes on. Toward the caller the B2BUA has sent no request yet, and a
      // CSeq of its own choosing could run ahead of those drachtio-server sends there after the answer.
      const fromCaller = !local || local.callId === callId;
      const calledParty = !fromCaller ? null : local ? local.earlyDialog : await this.earlyDialogs.find(callId);
      if (calledParty) {
        this.count('info-relayed');
        await this.relay.earlyInfo(calledParty, req, res, log);
        return;
      }
      this.count('info-refused');
      log.info({ event: 'info', early: true, fromCaller, status: 469 }, 'refused an early INFO that is not a copy request: no early dialog to pass it on in');
      res.send(469, undefined, {
        headers: { 'Recv-Info': COPY_PACKAGE, Warning: sipWarning(this.warnHost, 'only cmr-copy INFO is accepted here before the call is answered') },
      });
      return;
    }
    this.count('info-refused');
    log.info({ event: 'info', early: true, status: 481 }, 'INFO for an unknown call');
    res.send(481, undefined, { headers: { Warning: sipWarning(this.warnHost, 'no such call') } });
  }

  private isTrusted(req: SrfRequest): boolean {
    return isTrusted(req.source_address, this.deps.config.sip.trusted);
  }

  private count(kind: string): void {
    this.deps.metrics.sipMessages.inc({ front: 'drachtio', direction: 'in', kind });
  }

  /**
   * Runs a request handler; a fault still gets the request a final response, never crashes the
   * process. In outbound mode the request's connection is held until it is answered: one that
   * carries no call (a refused INVITE, an early INFO) is closed then.
   */
  private guard(req: SrfRequest, res: SrfOutgoingResponse, handle: () => Promise<void>): void {
    const release = this.outbound?.hold(req);
    handle()
      .catch((err: unknown) => {
        this.log.error({ event: 'sip', method: req.method, callId: req.get('Call-ID'), err }, 'request handling failed');
        if (!res.finalResponseSent) res.send(500, undefined, { headers: { Warning: sipWarning(this.warnHost, 'internal error') } });
      })
      .finally(() => release?.());
  }
}

/**
 * Recv-Info on every 18x and 2xx relayed to the caller, with Alert-Info (what the caller is
 * presented) on 18x; nothing on failures. Recv-Info always: whether a copy request succeeds is the
 * copy service's to answer (404 when nothing is presented), as on the embedded front.
 */
function callerResponseHeaders(annotation: CallAnnotation, response: SrfResponse): SipHeaders {
  if (response.status >= 300) return {};
  const recvInfo = { 'Recv-Info': COPY_PACKAGE };
  if (response.status >= 200 || annotation.toCaller.length === 0) return recvInfo;
  return { 'Alert-Info': annotation.toCaller.map(alertInfoValue).join(', '), ...recvInfo };
}

function sendAnswer(res: SrfOutgoingResponse, answer: SipAnswer): void {
  const headers: SipHeaders = { ...answer.headers, ...(answer.contentType ? { 'Content-Type': answer.contentType } : {}) };
  res.send(answer.status, answer.reason, { headers, ...(answer.body !== undefined ? { body: answer.body } : {}) });
}

/** Starts the drachtio front and registers its readiness check `sip`; rejects when outbound mode cannot listen. */
export async function startDrachtioFront(deps: DrachtioFrontDeps, ports: CorePorts): Promise<DrachtioFront> {
  const front = new DrachtioFront(deps, ports);
  deps.readiness.register('sip', () => front.ready);
  await front.start();
  return front;
}
