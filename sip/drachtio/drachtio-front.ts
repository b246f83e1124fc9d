/**
 * The production SIP front: a B2BUA on drachtio-srf controlling a drachtio-server (contract §3).
 *
 * Each initial INVITE becomes a `B2bCall`: the core is told the call started (and answers with
 * what to announce, within its budget), the B-leg INVITE carries `Alert-Info` for what is
 * presented to the called party, and every 18x/200 relayed to the caller carries what is
 * presented to the caller, the front's Contact (so the caller can send in the early dialog) and,
 * for a caller that takes them, goes reliably (RFC 3262). Every INFO goes to the copy port first;
 * what is not a copy request is relayed to the other leg. A B2BUA (not a proxy) is what lets
 * in-dialog requests reach us.
 *
 * With a media port (rtpengine), a caller presented an audio resource hears it (3GPP CAT, gateway
 * model; RFC 3960): the front answers the caller first with a 183 carrying the media function's
 * SDP while the tone plays, offers the called party the media function's SDP, and on the 200
 * stops the tone and hands the caller the same SDP again (RFC 3261 §13.2.1).
 */
import type { Socket } from 'node:net';
import { alertInfoValue, type CallAnnotation, type CallEndReason, type CallEvents } from '../../src/calls/call-events.js';
import { sipWarning } from '../../src/calls/sip-warning.js';
import { isTrusted } from '../../src/config/cidr.js';
import type { Config } from '../../src/config/config.js';
import { classifyInfo, COPY_PACKAGE } from '../../src/copy/info-classifier.js';
import type { SipAnswer, SipCopyPort } from '../../src/copy/sip-copy-port.js';
import type { Identity } from '../../src/domain/identity.js';
import type { MediaPort, TonePlaying } from '../../src/media/media-port.js';
import type { Logger } from '../../src/observability/logger.js';
import type { Metrics } from '../../src/observability/metrics.js';
import type { LoadShedder } from '../../src/overload/load-shedder.js';
import type { SignallingFront } from '../../src/signalling.js';
import type { Keys } from '../../src/store/keys.js';
import type { RedisClient } from '../../src/store/redis.js';
import { standingOf, STRANGER_REFUSAL } from '../common/access-rule.js';
import { GuardedCallEvents, NOTHING_PRESENTED, SHED } from '../common/guarded-call-events.js';
import { ASSERTED_IDENTITY_HEADERS, calledIdentity } from '../common/identities.js';
import { B2bCall } from './b2b-call.js';
import { CallRegistry } from './call-registry.js';
import { DialogRelay } from './dialog-relay.js';
import { drachtioLink, type DrachtioLink } from './drachtio-link.js';
import { EarlyDialogDirectory } from './early-dialog.js';
import { earlyInfoRoute } from './early-info-route.js';
import { fromTagOf, requestorOf, toInfoMessage } from './info-message.js';
import { nextHop } from './next-hop.js';
import { contactOn, ownAddresses } from './own-sip-address.js';
import { calledPartySupported, callerReliability, sendReliably, type CallerReliability } from './reliable-provisionals.js';
import { withoutTag } from './sip-headers.js';
import {
  answerCanReachSender,
  createSrf,
  onDialogCreated,
  sendableStatus,
  sendRequest,
  sipErrorReason,
  sipErrorStatus,
  takeOverEarlyUpdates,
  type SipHeaders,
  type Srf,
  type SrfDialog,
  type SrfOutgoingResponse,
  type SrfRequest,
  type SrfResponse,
} from './srf.js';

export interface DrachtioFrontOptions {
  /** How to meet drachtio-server (inbound or outbound mode) and the drain limit. */
  drachtio: NonNullable<Config['drachtio']>;
  /** Trusted peers, public host, outbound proxy, selection budget. */
  sip: Config['sip'];
  logger: Logger;
  metrics: Metrics;
  /** Where a ringing call's early dialog is kept for the other instances on the same Redis. */
  redis: RedisClient;
  keys: Keys;
  calls: CallEvents;
  copy: SipCopyPort;
  /** Overload: selections shed, copies and new calls refused (503 with Retry-After). */
  load: LoadShedder;
  /** Plays ringback tones to callers (early media); null: announcement only. */
  media: MediaPort | null;
}

/** How long a reliable 18x is retransmitted for want of its PRACK (RFC 3262 §3: 64×T1). */
const RELIABLE_PROVISIONAL_LIMIT_MS = 32_000;
/** Seconds an upstream proxy should wait before retrying an INVITE this draining instance refused. */
const DRAIN_RETRY_AFTER_SEC = '5';
/** Outbound mode, end of a drain: how long the last BYEs get for their answers before the connections are cut. */
const CONNECTION_CLOSE_GRACE_MS = 2000;
/** Caller-side headers the B-leg INVITE keeps (From/To are copied without their tags; asserted identities only from trusted peers). */
const PROXIED_INVITE_HEADERS = [
  'P-Preferred-Identity',
  'Privacy',
  'P-Charging-Vector',
  'P-Charging-Function-Addresses',
  'P-Access-Network-Info',
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
  private readonly link: DrachtioLink;
  private draining = false;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: DrachtioFrontOptions) {
    this.log = options.logger.child({ front: 'drachtio' });
    this.callEvents = new GuardedCallEvents(options.calls, { budgetMs: options.sip.selectBudgetMs, logger: this.log });
    this.warnHost = options.sip.publicHost;
    this.relay = new DialogRelay({
      warnHost: this.warnHost,
      trusted: options.sip.trusted,
      sendRequest: (uri, request) => sendRequest(this.srf, uri, request),
    });
    this.earlyDialogs = new EarlyDialogDirectory(options.redis, options.keys, this.log);
    this.link = drachtioLink(this.srf, options.drachtio, this.log, (connection) => this.onConnectionLost(connection));
  }

  /** Not draining, and connected to drachtio-server (inbound mode) or listening for it (outbound mode). */
  get ready(): boolean {
    return this.link.ready && !this.draining;
  }

  /** Outbound mode: the port drachtio-server connects to; null in inbound mode. */
  get listeningPort(): number | null {
    return this.link.listeningPort;
  }

  get liveCalls(): number {
    return this.calls.size;
  }

  /** Registers the handlers, then connects to drachtio-server or listens for it; rejects when it cannot listen. */
  async start(): Promise<void> {
    this.srf.invite((req, res) => this.guard(req, res, () => this.onInvite(req, res)));
    // A call takes charge of each of its legs the moment drachtio-srf creates it, so nothing sent in it goes unheard.
    onDialogCreated(this.srf, (dialog) => {
      const call = this.calls.find(dialog.sip.callId);
      if (call) this.legCreated(call, dialog);
    });
    // INFO outside a dialog drachtio-srf knows: an early dialog (before 200), possibly a call of another instance.
    this.srf.use('info', (req, res) => this.guard(req, res, () => this.onEarlyInfo(req, res)));
    // The caller's PRACKs: drachtio-srf answers them 200 itself; the call counts them (see `relayFailure`).
    this.srf.use((req, _res, next) => {
      if (req.method === 'PRACK') this.calls.find(req.get('Call-ID') ?? '')?.reliableProvisionalAcknowledged();
      next();
    });
    await this.link.start();
  }

  /**
   * Drains: new INVITEs get 503 with Retry-After, live calls may end on their own until the
   * drain limit, then the rest are hung up and the link is closed (outbound mode: the listener,
   * then every connection once its last BYE is answered).
   */
  stop(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    const limitMs = this.options.drachtio.drainTimeoutMs;
    this.log.info({ event: 'drain', liveCalls: this.calls.size, limitMs }, 'draining SIP calls');
    if (!(await this.calls.whenEmpty(limitMs))) {
      this.log.warn({ event: 'drain', liveCalls: this.calls.size }, 'drain limit reached: hanging up the remaining calls');
      for (const call of this.calls.all()) call.hangUp();
    }
    await this.link.close(CONNECTION_CLOSE_GRACE_MS);
  }

  /** A connection to drachtio-server is gone: the calls on it stay on drachtio-server, out of this instance's reach. */
  private onConnectionLost(connection: Socket): void {
    for (const call of this.calls.all()) {
      if (call.connection !== connection || call.isOver) continue;
      call.log.warn({ event: 'drachtio' }, 'lost the drachtio-server connection of a live call');
      call.connectionLost();
    }
  }

  /** Entry point of every new call: an INVITE drachtio-server hands to this instance. */
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
    if (req.isNewInvite && !this.options.load.admitsCall()) {
      this.count('invite-refused');
      log.warn({ event: 'overload-refused', what: 'new call' }, 'new call refused: overload');
      res.send(503, undefined, { headers: { 'Retry-After': String(this.options.load.retryAfterSec) } });
      return;
    }
    if (!req.isNewInvite) {
      log.info({ event: 'invite', status: 481 }, 'INVITE for an unknown dialog');
      res.send(481, undefined, { headers: { Warning: sipWarning(this.warnHost, 'no such dialog') } });
      return;
    }
    if (standingOf(req.source_address, this.options.sip) === 'stranger') {
      this.count('invite-refused');
      log.info({ event: 'invite', status: 403, source: req.source_address }, 'INVITE from a peer outside the trusted and access lists refused');
      res.send(403, undefined, { headers: { Warning: sipWarning(this.warnHost, STRANGER_REFUSAL) } });
      return;
    }
    this.count('invite');
    const startedAt = performance.now();
    const call = new B2bCall(callId, fromTagOf(req), req.socket, log, {
      info: (c, dialog, other, infoReq, infoRes) => this.guard(infoReq, infoRes, () => this.onDialogInfo(c, dialog, other, infoReq, infoRes)),
      reInvite: (c, dialog, other, inDialog, inDialogRes) => this.guard(inDialog, inDialogRes, () => this.relay.reInvite(dialog, other, inDialog, inDialogRes, c.log)),
      request: (c, dialog, other, inDialog, inDialogRes) => this.guard(inDialog, inDialogRes, () => this.relay.request(dialog, other, inDialog, inDialogRes, c.log)),
      ended: (c, reason) => this.onCallEnded(c, reason),
    });
    req.on('cancel', () => call.callerCancelled());
    this.calls.add(call);
    // The call's connection stays open while the call is up (outbound mode): it carries both legs.
    const releaseConnection = this.link.hold(req);
    try {
      await this.connect(call, req, res, startedAt);
    } catch (err) {
      call.hangUp(); // whatever failed, no leg stays up and the call leaves the registry
      throw err;
    } finally {
      // Set up (or failed): no leg is adopted from here on, so its last BYE is known once it is over.
      void call.settled().then(releaseConnection);
    }
  }

  /** Sets up the B leg and, once the called party answers, the caller's leg. */
  private async connect(call: B2bCall, req: SrfRequest, res: SrfOutgoingResponse, startedAt: number): Promise<void> {
    const log = call.log;
    const annotation = await this.callStarted(req, call);
    // The tone gets what is left of the selection budget: selection and media together delay the call by no more.
    const tone = call.isCancelled ? null : await this.startTone(call, req, annotation, this.options.sip.selectBudgetMs - (performance.now() - startedAt));
    if (call.isCancelled) {
      if (!res.finalResponseSent) res.send(487, undefined, {});
      call.failed();
      return;
    }
    const hostports = req.server?.hostport ?? '';
    const hop = nextHop(req.get('Route'), ownAddresses(hostports, this.options.sip.publicHost), this.options.sip.outboundProxy);
    const caller = callerLeg(req, hostports);
    if (!caller.contact) log.warn({ event: 'invite', hostports, protocol: req.protocol }, 'drachtio-server named no SIP address on the transport of this call: 18x go without Contact');
    if (tone) this.sendTone(call, caller, annotation, res, tone);
    const supported = calledPartySupported(caller.reliability, req.get('Supported'));
    log.info({ event: 'invite', caller: req.get('From'), to: req.uri, proxy: hop.proxy, toCalled: annotation.toCalled.length, reliability: caller.reliability, tone: tone !== null }, 'forwarding call');
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
            ...(supported ? { Supported: supported } : {}),
            ...(annotation.toCalled.length > 0 ? { 'Alert-Info': annotation.toCalled.map(alertInfoValue).join(', ') } : {}),
          },
          responseHeaders: (response) => {
            // Called for every B-leg response before it is relayed (drachtio-srf's cbProvisional misses 18x with a body).
            if (response.status < 200) this.calledPartyProvisional(call, response);
            const headers = callerResponseHeaders(annotation, caller, response.status);
            if (headers['require']) call.reliableProvisionalSent();
            return headers;
          },
          // With a tone, the caller has its 183 from the front and hears the tone until the 200: the called party's 18x are not relayed.
          ...(tone
            ? {
                localSdpB: tone.calledOffer,
                localSdpA: (calledSdp: string, response: SrfResponse) => this.toneAnswer(call, tone, calledSdp, response),
                passProvisionalResponses: false,
              }
            : {}),
          // The front relays the called party's failure itself (see `relayFailure`).
          passFailure: false,
          proxyRequestHeaders: this.isTrusted(req) ? [...ASSERTED_IDENTITY_HEADERS, ...PROXIED_INVITE_HEADERS] : PROXIED_INVITE_HEADERS,
        },
        {
          cbRequest: (err, sent) => {
            if (err) return;
            call.bLegSent(sent);
            takeOverEarlyUpdates(req, (update, updateRes) => this.guard(update, updateRes, () => this.onEarlyUpdate(call, caller, update, updateRes, tone !== null)));
          },
          ...(tone ? { cbProvisional: (response: SrfResponse) => this.calledPartyProvisional(call, response) } : {}),
          // Adopt the called party's leg the moment it exists, so its BYE is never missed.
          cbFinalizedUac: (uac) => call.adopt(uac),
        },
      );
    } catch (err) {
      const status = sipErrorStatus(err);
      if (status === null) log.warn({ event: 'call', err: (err as Error).message }, 'call setup failed');
      else log.info({ event: 'call', status, cancelled: call.isCancelled }, 'call not answered');
      await this.relayFailure(call, res, status ?? 500, status === null ? undefined : sipErrorReason(err));
      call.failed();
      return;
    }
    this.legCreated(call, legs.uac);
    this.legCreated(call, legs.uas);
    this.forgetEarlyDialog(call);
    await call.answerRecorded;
  }

  /**
   * A leg of the call exists. The caller's leg exists once the 200 went to the caller: the call
   * is answered then, even if a leg is gone again already (a BYE right behind the ACK), and the
   * core hears of the answer before it hears of the end.
   */
  private legCreated(call: B2bCall, dialog: SrfDialog): void {
    if (dialog.type === 'uas' && call.markAnswered()) {
      call.log.info({ event: 'answered', bLegCallId: call.bLegCallId }, 'call answered');
      if (call.reportedToCore) call.answerRecorded = this.callEvents.callAnswered(call.callId);
    }
    call.adopt(dialog);
  }

  /**
   * Relays the called party's failure to the caller, once the caller has PRACKed every reliable
   * 18x it was sent: drachtio-server 0.9.10 crashes (EncodeStackMessage) on a final response to an
   * INVITE while a reliable provisional response to it is unacknowledged. A caller that never
   * PRACKs gets the failure once its reliable 18x are past retransmission (64×T1).
   */
  private async relayFailure(call: B2bCall, res: SrfOutgoingResponse, status: number, reason: string | undefined): Promise<void> {
    if (res.finalResponseSent) return; // a CANCEL's 487, sent by drachtio-srf
    if (call.awaitingPrack) {
      this.count('failure-held-for-prack');
      call.log.info({ event: 'call', status }, 'holding the failure until the caller PRACKs its reliable 18x');
    }
    if (!(await call.reliableProvisionalsAcknowledged(RELIABLE_PROVISIONAL_LIMIT_MS))) {
      call.log.warn({ event: 'call', status }, 'the caller never PRACKed a reliable 18x: sending the failure anyway');
    }
    if (res.finalResponseSent) return;
    const sendable = sendableStatus(status);
    res.send(sendable, sendable === status ? reason : undefined, {});
  }

  /** Starts the caller's ringback tone when there is a media port, an audio offer and something presented to the caller. */
  private async startTone(call: B2bCall, req: SrfRequest, annotation: CallAnnotation, waitMs: number): Promise<TonePlaying | null> {
    const resource = annotation.toCaller[0];
    if (!this.options.media || !resource || !call.fromTag || !isSdp(req)) return null;
    return this.options.media.startTone({ callId: call.callId, fromTag: call.fromTag, callerSdp: req.body ?? '', log: call.log }, resource, waitMs);
  }

  /**
   * The caller's 183 Session Progress with the media function's SDP: the headers of every 18x
   * (Alert-Info, Recv-Info, Contact; reliable for a caller that takes it), and `P-Early-Media:
   * sendonly` (RFC 5009) for a caller that says it supports it (IMS).
   */
  private sendTone(call: B2bCall, caller: CallerLegFacts, annotation: CallAnnotation, res: SrfOutgoingResponse, tone: TonePlaying): void {
    const headers: SipHeaders = {
      ...callerResponseHeaders(annotation, caller, 183),
      ...(caller.earlyMediaAuthorization ? { 'P-Early-Media': 'sendonly' } : {}),
      'Content-Type': 'application/sdp',
    };
    if (headers['require']) call.reliableProvisionalSent();
    res.send(183, undefined, { headers, body: tone.callerSdp });
  }

  /**
   * The caller's SDP for a response of the called party while a tone plays: always the 183's.
   * On the 200 the tone stops and the called party's SDP goes to the media function first, and
   * the 200 waits for the PRACK of a reliable 183 (RFC 3262 §3: no 2xx before a reliable 18x
   * with a session description is acknowledged).
   */
  private async toneAnswer(call: B2bCall, tone: TonePlaying, calledSdp: string, response: SrfResponse): Promise<string> {
    if (response.status >= 200 && this.options.media) {
      await this.options.media.answered(call.callId, calledSdp);
      if (!(await call.reliableProvisionalsAcknowledged(RELIABLE_PROVISIONAL_LIMIT_MS))) {
        call.log.warn({ event: 'call' }, 'the caller never PRACKed the reliable 183: sending the 200 anyway');
      }
    }
    return tone.callerSdp;
  }

  /** Tells the core about the call; a call whose parties cannot be identified goes on unannotated. */
  private async callStarted(req: SrfRequest, call: B2bCall): Promise<CallAnnotation> {
    const parties = this.parties(req);
    if (!parties || !call.fromTag) {
      call.log.warn({ event: 'invite', from: req.get('From'), uri: req.uri }, 'caller or called party not identifiable: no CMR on this call');
      return NOTHING_PRESENTED;
    }
    const fromTag = call.fromTag;
    const annotation = await this.options.load.select(() => {
      call.reportedToCore = true;
      return this.callEvents.callStarted({ callId: call.callId, fromTag, ...parties });
    }, SHED);
    if (annotation === SHED) call.log.info({ event: 'selection-shed' }, 'overload: call goes on without presentation');
    return annotation;
  }

  /** A copy INFO while CMR work is shed: answered 503 here, before the copy service or the store is asked. */
  private refusedForOverload(req: SrfRequest, res: SrfOutgoingResponse): boolean {
    if (this.options.load.admitsCmrWork()) return false;
    const info = toInfoMessage(req, { callId: req.get('Call-ID') ?? '', dialogFromTag: null, trusted: this.isTrusted(req) });
    if (classifyInfo(info, this.options.sip.copyKey).kind === 'pass-through') return false;
    this.count('info-refused');
    res.send(503, undefined, { headers: { 'Retry-After': String(this.options.load.retryAfterSec) } });
    return true;
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
    this.options.media?.end(call.callId);
    this.forgetEarlyDialog(call);
    call.log.info({ event: 'ended', reason }, 'call ended');
    if (call.reportedToCore) void call.answerRecorded.then(() => this.callEvents.callEnded(call.callId, reason));
  }

  /** INFO on a leg of an answered call: the copy service answers copy requests, everything else goes to the other leg. */
  private async onDialogInfo(call: B2bCall, dialog: SrfDialog, other: SrfDialog | undefined, req: SrfRequest, res: SrfOutgoingResponse): Promise<void> {
    if (this.refusedForOverload(req, res)) return;
    const info = toInfoMessage(req, { callId: call.callId, dialogFromTag: call.fromTag, trusted: this.isTrusted(req) });
    const answer = await this.options.copy.handleInfo(info);
    if (answer) {
      this.count('info-copy');
      call.log.info({ event: 'info', leg: dialog.type, status: answer.status, cseq: info.cseq }, 'answered a copy request');
      sendAnswer(res, answer);
      return;
    }
    this.count('info-relayed');
    await this.relay.request(dialog, other, req, res, call.log);
  }

  /**
   * INFO outside any dialog drachtio-srf knows: sent in the early dialog, it reaches the instance
   * that holds the call once the caller has PRACKed a reliable 18x (before that, any instance that
   * routes INFO, after drachtio-server 0.9.10 answered it 500 itself), which finds the call's
   * presenting session by Call-ID and From tag. See `earlyInfoRoute` for where it goes.
   */
  private async onEarlyInfo(req: SrfRequest, res: SrfOutgoingResponse): Promise<void> {
    const callId = req.get('Call-ID') ?? '';
    if (!req.stackDialogId && !(await answerCanReachSender(res))) {
      // No copy the caller is never told of (drachtio-server answered it 500 already).
      this.count('info-unanswerable');
      this.log.warn({ event: 'info', early: true, callId }, 'drachtio-server answered this early INFO itself (no PRACKed reliable 18x in that early dialog): nothing applied');
      return;
    }
    if (this.refusedForOverload(req, res)) return;
    const fromTag = fromTagOf(req);
    const local = this.calls.find(callId);
    const session = local ? null : await this.callEvents.findCall(callId, fromTag ?? undefined);
    const info = toInfoMessage(req, {
      callId: local?.callId ?? callId,
      dialogFromTag: local?.fromTag ?? session?.fromTag ?? null,
      trusted: this.isTrusted(req),
    });
    const answer = await this.options.copy.handleInfo(info);
    const log = this.log.child({ callId: info.callId });
    // Only the caller's INFO goes on. Toward the caller the B2BUA has sent no request yet, and a
    // CSeq of its own choosing could run ahead of those drachtio-server sends there after the answer.
    const callKnown = Boolean(local || session);
    const fromCaller = !local || local.callId === callId;
    const calledParty = answer || !callKnown || !fromCaller ? null : local ? local.earlyDialog : await this.earlyDialogs.find(callId);
    switch (earlyInfoRoute({ copyAnswered: answer !== null, callKnown, fromCaller, calledPartyEarlyDialog: calledParty !== null })) {
      case 'copy':
        this.count('info-copy');
        log.info({ event: 'info', early: true, local: Boolean(local), status: answer!.status, cseq: info.cseq }, 'answered a copy request');
        sendAnswer(res, answer!);
        return;
      case 'relay':
        this.count('info-relayed');
        await this.relay.earlyRequest(calledParty!, req, res, log);
        return;
      case 'refuse':
        this.count('info-refused');
        log.info({ event: 'info', early: true, fromCaller, status: 469 }, 'refused an early INFO that is not a copy request: no early dialog to pass it on in');
        res.send(469, undefined, {
          headers: { 'Recv-Info': COPY_PACKAGE, Warning: sipWarning(this.warnHost, 'only cmr-copy INFO is accepted here before the call is answered') },
        });
        return;
      case 'unknown-call':
        this.count('info-refused');
        log.info({ event: 'info', early: true, status: 481 }, 'INFO for an unknown call');
        res.send(481, undefined, { headers: { Warning: sipWarning(this.warnHost, 'no such call') } });
    }
  }

  /**
   * An UPDATE of the caller before the answer (RFC 3311, e.g. IMS preconditions): it goes on into
   * the called party's early dialog when drachtio-server keeps one (a reliable 18x), and the
   * called party's answer comes back with the front's Contact. Without that dialog an offer has
   * nowhere to go: refused with 488 rather than answered with a session the called party never
   * agreed to (what drachtio-srf would do). Nor while a tone plays: the caller's session is with
   * the media function then, and an offer passed on would take the called party around it.
   */
  private async onEarlyUpdate(call: B2bCall, caller: CallerLegFacts, req: SrfRequest, res: SrfOutgoingResponse, tonePlaying: boolean): Promise<void> {
    this.count('update-early');
    const contact = caller.contact ?? undefined;
    if (call.earlyDialog && call.bLegContact && !(tonePlaying && req.body)) {
      await this.relay.earlyRequest(call.earlyDialog, req, res, call.log, { theirContact: call.bLegContact, ourContact: contact });
      return;
    }
    if (!req.body) {
      call.log.info({ event: 'relay', method: 'UPDATE', early: true, status: 200 }, 'answered an early UPDATE without an offer');
      res.send(200, undefined, { headers: contact ? { Contact: contact } : {} });
      return;
    }
    const why = tonePlaying ? 'a ringback tone plays: the session cannot change before the answer' : 'the called party has no early dialog to take an UPDATE before the answer';
    call.log.info({ event: 'relay', method: 'UPDATE', early: true, status: 488, tonePlaying }, 'refused an early UPDATE with an offer');
    res.send(488, undefined, { headers: { Warning: sipWarning(this.warnHost, why) } });
  }

  private isTrusted(req: SrfRequest): boolean {
    return isTrusted(req.source_address, this.options.sip.trusted);
  }

  private count(kind: string): void {
    this.options.metrics.sipMessages.inc({ front: 'drachtio', direction: 'in', kind });
  }

  /**
   * Runs a request handler; a fault still gets the request a final response, never crashes the
   * process. The request's connection is held until it is answered (outbound mode: one that
   * carries no call, such as a refused INVITE or an early INFO, is closed then).
   */
  private guard(req: SrfRequest, res: SrfOutgoingResponse, handle: () => Promise<void>): void {
    const release = this.link.hold(req);
    handle()
      .catch((err: unknown) => {
        this.log.error({ event: 'sip', method: req.method, callId: req.get('Call-ID'), err }, 'request handling failed');
        if (!res.finalResponseSent) res.send(500, undefined, { headers: { Warning: sipWarning(this.warnHost, 'internal error') } });
      })
      .finally(release);
  }
}

/** What the caller's leg takes: the Contact that reaches drachtio-server on the call's transport, 100rel, and P-Early-Media. */
interface CallerLegFacts {
  contact: string | null;
  reliability: CallerReliability;
  /** The caller's INVITE carries P-Early-Media (RFC 5009 §8: an IMS caller that takes the header). */
  earlyMediaAuthorization: boolean;
}

function callerLeg(req: SrfRequest, hostports: string): CallerLegFacts {
  return {
    contact: contactOn(hostports, req.protocol || 'udp', req.receivedOn),
    reliability: callerReliability(req.get('Require'), req.get('Supported')),
    earlyMediaAuthorization: Boolean(req.get('P-Early-Media')),
  };
}

function isSdp(req: SrfRequest): boolean {
  return Boolean(req.body) && (req.get('Content-Type') ?? '').toLowerCase().startsWith('application/sdp');
}

/**
 * The headers of a called-party response relayed to the caller. On 18x and 2xx: Recv-Info, the
 * front's Contact (drachtio-server adds none to an unreliable 18x, so the caller would have no
 * target in the early dialog), and Alert-Info (what the caller is presented) on 18x; an 18x the
 * caller takes reliably asks drachtio-server for it with `require` (drachtio-srf waits for the
 * PRACK of those it sees so named before it sends the 200). Nothing on failures. Recv-Info always:
 * whether a copy request succeeds is the copy service's to answer (404 when nothing is
 * presented), as on the embedded front.
 */
function callerResponseHeaders(annotation: CallAnnotation, caller: CallerLegFacts, status: number): SipHeaders {
  if (status >= 300) return {};
  const headers: SipHeaders = { 'Recv-Info': COPY_PACKAGE, ...(caller.contact ? { Contact: caller.contact } : {}) };
  if (status >= 200) return headers;
  if (annotation.toCaller.length > 0) headers['Alert-Info'] = annotation.toCaller.map(alertInfoValue).join(', ');
  if (sendReliably(caller.reliability, status)) headers['require'] = '100rel';
  return headers;
}

function sendAnswer(res: SrfOutgoingResponse, answer: SipAnswer): void {
  const headers: SipHeaders = { ...answer.headers, ...(answer.contentType ? { 'Content-Type': answer.contentType } : {}) };
  res.send(answer.status, answer.reason, { headers, ...(answer.body !== undefined ? { body: answer.body } : {}) });
}

/** Starts the drachtio front; rejects when outbound mode cannot listen. */
export async function startDrachtioFront(options: DrachtioFrontOptions): Promise<DrachtioFront> {
  const front = new DrachtioFront(options);
  await front.start();
  return front;
}
