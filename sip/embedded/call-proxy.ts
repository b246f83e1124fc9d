/**
 * The record-routing proxy of an IMS application server (contract §3): every request is
 * forwarded statefully to its next hop; an initial INVITE is first presented to the core
 * (`CallEvents.callStarted`) and carries Alert-Info for the called party; 18x and 200 going back
 * carry Alert-Info and Recv-Info for the caller; an in-dialog INFO is offered to the copy port
 * and answered here when it is a copy request. A CMR fault never fails a call: the core's ports
 * are guarded and the call goes on unannotated.
 */
import type { Logger } from 'pino';
import { alertInfoValue, type CallAnnotation, type CallEndReason, type CallEvents } from '../../src/calls/call-events.js';
import type { Cidr } from '../../src/config/cidr.js';
import { classifyInfo, COPY_PACKAGE } from '../../src/copy/info-classifier.js';
import type { SipCopyPort } from '../../src/copy/sip-copy-port.js';
import type { Identity } from '../../src/domain/identity.js';
import { OVERLOAD_REASON, type LoadShedder } from '../../src/overload/load-shedder.js';
import { GuardedCallEvents, NOTHING_PRESENTED, SHED } from '../common/guarded-call-events.js';
import { headerEntries } from '../common/header-values.js';
import { ASSERTED_IDENTITY_HEADERS, calledIdentity } from '../common/identities.js';
import { appendHeader, headerValue, setHeader, tagOf } from '../sip-stack/message.js';
import { sipPackage, type SipRequest, type SipResponse } from '../sip-stack/sip-package.js';
import type { Peer, SipStack, StackHandler } from '../sip-stack/stack.js';
import { CallTable, type CallRecord } from './call-table.js';
import { FrontDoor } from './front-door.js';
import type { Registrar } from './registrar.js';
import { answerParts, infoMessageOf, requestorOf } from './info-message.js';
import { hasLooped, isOwn, LOOP_PARAM, loopKey, maxForwardsOf, recordRoutes, routeRequest, type NextHop, type Routing } from './routing.js';

export interface CallProxyOptions {
  calls: CallEvents;
  copy: SipCopyPort;
  /** Overload: selections shed, copies and new calls refused (503 with Retry-After). */
  load: LoadShedder;
  /** The DTMF key of a copy request, to tell a copy INFO from others without the copy port. */
  copyKey: string;
  trusted: readonly Cidr[];
  /** Peers allowed to call directly (handsets). */
  access: readonly Cidr[];
  outboundProxy: string | null;
  selectBudgetMs: number;
  /** Timer C (RFC 3261 §16.8, more than 3 minutes): the longest a proxied INVITE may ring without a final response; then its branch is cancelled. */
  timerCMs: number;
  /**
   * How long a cancelled branch has to send its final response (64×T1 by default, as a client
   * transaction waits) before the proxy answers the caller itself: a called party that never
   * answers a CANCEL must not leave the call ringing for ever.
   */
  cancelWaitMs: number;
  maxCallSec: number;
  /** Bindings of the handsets registered here. */
  registrar: Registrar;
  logger: Logger;
}

const ASSERTED = ASSERTED_IDENTITY_HEADERS.map((name) => name.toLowerCase());

/** An initial INVITE between its arrival and its final response: what CANCEL and the timers need. */
interface PendingInvite {
  invite: SipRequest;
  /** The presenting call it opened (null for a spiral or before it is set up). */
  call: CallRecord | null;
  cancelled: boolean;
  /** Why the branch was cancelled: the caller's CANCEL, or Timer C. */
  cancelReason: 'cancel' | 'timeout';
  provisional: boolean;
  cancelSent: boolean;
  forwarded?: { request: SipRequest; to: Peer };
  /** Timer C, then the wait for the cancelled branch's final response. */
  timer?: NodeJS.Timeout;
}


/** A request checked and routed, ready to go to its next hop. */
interface Checked {
  routing: Routing;
  loop: string;
  maxForwards: number;
  /** Whether it came from a trusted peer, whose asserted identities are passed on. */
  trusted: boolean;
}

export class CallProxy implements StackHandler {
  private readonly table: CallTable;
  private readonly pending = new Map<string, PendingInvite>();
  private readonly calls: CallEvents;
  private readonly door: FrontDoor;

  constructor(
    private readonly stack: SipStack,
    private readonly options: CallProxyOptions,
  ) {
    this.calls = new GuardedCallEvents(options.calls, { budgetMs: options.selectBudgetMs, logger: options.logger });
    this.table = new CallTable(options.maxCallSec * 1000, (call) => {
      call.log.info({ event: 'call-expired' }, 'call outlived the longest call allowed');
      this.notifyEnded(call, 'timeout');
    });
    this.door = new FrontDoor(stack, { rule: options, knownCall: (callId) => this.table.get(callId) !== undefined, registrar: options.registrar, logger: options.logger });
  }

  async onRequest(request: SipRequest, source: Peer): Promise<void> {
    if (request.method === 'CANCEL') return this.onCancel(request);
    if (await this.door.answered(request, source)) return;
    const checked = this.check(request, source);
    if (!checked) return;
    const inDialog = tagOf(request.headers.to) !== null;
    if (!inDialog) await this.routeToRegisteredHandset(request, source, checked);
    if (request.method === 'INVITE' && !inDialog) return this.onInitialInvite(request, source, checked);
    if (inDialog && request.method === 'INFO' && (await this.answeredAsCopy(request, source))) return;
    if (inDialog && request.method === 'BYE') this.endCall(request.headers['call-id'], 'bye');
    const to = await this.peerFor(request, checked.routing.hop);
    if (to) this.forward(request, checked, to, (response) => this.stack.respond(request, response));
  }

  /** ACK of a 2xx: routed end to end, without a transaction (ACKs of failures never get here). */
  async onAck(request: SipRequest, source: Peer): Promise<void> {
    if (!this.door.admitsAck(request, source)) return;
    const maxForwards = maxForwardsOf(request);
    if (maxForwards <= 0) return;
    const routing = routeRequest(request, this.stack, null);
    const to = await this.resolve(routing.hop);
    if (!('protocol' in to)) {
      this.options.logger.debug({ event: 'ack-unroutable', callId: request.headers['call-id'], status: to.status }, 'dropped ACK');
      return;
    }
    this.stack.sendStateless(this.prepare(request, routing, maxForwards, this.isTrusted(source)), to);
  }

  stop(): void {
    this.table.clear();
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    this.pending.clear();
  }

  /** Max-Forwards (483), Request-URI scheme (416), Proxy-Require (420) and loop detection (482); null when the request was answered. */
  private check(request: SipRequest, source: Peer): Checked | null {
    const maxForwards = maxForwardsOf(request);
    if (maxForwards <= 0) {
      this.stack.reply(request, 483, 'Too Many Hops');
      return null;
    }
    if (!/^(?:sips?|tel):/i.test(request.uri)) {
      this.stack.reply(request, 416, 'Unsupported URI Scheme'); // RFC 3261 §16.3, before any routing
      return null;
    }
    // This proxy implements no extension a proxy must understand: every tag is unsupported (RFC 3261 §16.3).
    const required = headerEntries(headerValue(request, 'proxy-require'));
    if (required.length > 0) {
      this.stack.reply(request, 420, 'Bad Extension', { headers: { Unsupported: required.join(', ') } });
      return null;
    }
    const routing = routeRequest(request, this.stack, this.options.outboundProxy);
    const loop = loopKey(request, routing.routes);
    if (hasLooped(request, this.stack, loop)) {
      this.options.logger.info({ event: 'sip-loop', callId: request.headers['call-id'], method: request.method }, 'request looped');
      this.stack.reply(request, 482, 'Loop Detected');
      return null;
    }
    return { routing, loop, maxForwards, trusted: this.isTrusted(source) };
  }

  private async onInitialInvite(request: SipRequest, source: Peer, checked: Checked): Promise<void> {
    const callId = request.headers['call-id'];
    if (!this.options.load.admitsCall()) return this.refuseForOverload(request, 'new call');
    const key = pendingKey(request);
    const pending: PendingInvite = { invite: request, call: null, cancelled: false, cancelReason: 'cancel', provisional: false, cancelSent: false };
    this.pending.set(key, pending);
    this.stack.reply(request, 100, 'Trying');

    // The same Call-ID again is a spiral through this server: proxied, presented only once. An
    // RFC 2543 caller sends no From tag, so there is no dialog to present to: proxied as it is.
    const spiral = this.table.get(callId) !== undefined;
    const fromTag = tagOf(request.headers.from);
    const log = this.options.logger.child({ callId });
    let call: CallRecord | null = null;
    const finish = (status: number, reason: string) => {
      this.settle(key, pending);
      if (call) this.endCall(callId, status === 487 ? 'cancel' : 'failure');
      this.stack.reply(request, status, reason);
    };
    try {
      const annotation = spiral || fromTag === null ? NOTHING_PRESENTED : await this.annotate(request, source, fromTag, log);
      if (spiral) log.info({ event: 'invite-spiral' }, 'INVITE spiralled back; proxied without presentation');
      else if (fromTag === null) log.info({ event: 'invite-without-from-tag' }, 'INVITE without a From tag; proxied without presentation');
      else if (annotation === SHED) log.info({ event: 'selection-shed' }, 'overload: INVITE proxied without presentation');
      else call = pending.call = this.table.open(callId, fromTag, annotation.toCaller, log);

      if (pending.cancelled) return finish(487, 'Request Terminated');
      const to = await this.resolve(checked.routing.hop);
      if (!('protocol' in to)) return finish(to.status, to.reason);
      if (pending.cancelled) return finish(487, 'Request Terminated');

      const answeredCall = call;
      const forwarded = this.forward(request, checked, to, (response) => this.onInviteResponse(request, response, key, pending, answeredCall), (outgoing) => {
        outgoing.headers['record-route'] = [...recordRoutes(this.stack, source, to), ...(request.headers['record-route'] ?? [])];
        appendHeader(outgoing, 'alert-info', annotation.toCalled.map(alertInfoValue));
      });
      pending.forwarded = { request: forwarded, to };
      this.armTimerC(key, pending); // set when the request is forwarded, reset by each provisional (RFC 3261 §16.6)
    } catch (err) {
      // The stack answers 500; the call must not stay behind.
      this.settle(key, pending);
      if (call) this.endCall(callId, 'failure');
      throw err;
    }
  }

  /** The INVITE has its final response (or the proxy gave it one): no more timers, no more CANCEL. */
  private settle(key: string, pending: PendingInvite): void {
    clearTimeout(pending.timer);
    if (this.pending.get(key) === pending) this.pending.delete(key);
  }

  /** (Re)starts Timer C: each provisional response gives the branch another full period. */
  private armTimerC(key: string, pending: PendingInvite): void {
    if (pending.cancelled) return;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => {
      if (this.pending.get(key) !== pending) return;
      (pending.call?.log ?? this.options.logger).info({ event: 'timer-c', callId: pending.invite.headers['call-id'] }, 'no final response in time: cancelling the branch');
      this.cancelBranch(key, pending, 'timeout');
    }, this.options.timerCMs);
    pending.timer.unref();
  }

  /**
   * Cancels the forwarded INVITE (once a provisional came back, RFC 3261 §9.1) and gives its
   * branch `cancelWaitMs` to answer; then the caller gets 487 (CANCEL) or 408 (Timer C) from here.
   */
  private cancelBranch(key: string, pending: PendingInvite, why: PendingInvite['cancelReason']): void {
    const [status, reason] = why === 'cancel' ? [487, 'Request Terminated'] : [408, 'Request Timeout'];
    pending.cancelled = true;
    pending.cancelReason = why;
    this.sendCancelIfDue(pending);
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => {
      if (this.pending.get(key) !== pending) return;
      this.settle(key, pending);
      if (pending.call) this.endCall(pending.call.callId, why);
      (pending.call?.log ?? this.options.logger).info({ event: 'branch-silent', callId: pending.invite.headers['call-id'], status }, 'cancelled branch sent no final response');
      this.stack.reply(pending.invite, status, reason);
    }, this.options.cancelWaitMs);
    pending.timer.unref();
  }

  private onInviteResponse(request: SipRequest, response: SipResponse, key: string, pending: PendingInvite, call: CallRecord | null): void {
    if (response.status === 100) {
      // Hop by hop: this server sent its own. It still lets a CANCEL go downstream (RFC 3261 §9.1).
      pending.provisional = true;
      this.sendCancelIfDue(pending);
      return;
    }
    if (this.pending.get(key) !== pending && response.status >= 300) return; // the caller was answered here already
    if (response.status < 200) {
      pending.provisional = true;
      this.sendCancelIfDue(pending);
      this.armTimerC(key, pending);
      if (call) appendHeader(response, 'alert-info', call.toCaller.map(alertInfoValue));
      advertiseCopy(response);
    } else if (response.status < 300) {
      // After the proxy answered the caller itself (487/408) its server transaction is over and a
      // late 2xx goes nowhere: the called party, never ACKed, ends its side when its retransmissions time out.
      this.settle(key, pending);
      advertiseCopy(response);
      if (call) this.answerCall(call);
    } else {
      this.settle(key, pending);
      if (call) this.endCall(call.callId, pending.cancelled ? pending.cancelReason : 'failure');
    }
    this.stack.respond(request, response);
  }

  /** CANCEL is hop by hop: 200 here, CANCEL downstream once a provisional came back, 487 relayed. */
  private onCancel(request: SipRequest): void {
    const pending = this.pending.get(pendingKey(request));
    if (!pending) {
      this.stack.reply(request, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    this.stack.reply(request, 200, 'OK');
    if (!pending.cancelled) this.cancelBranch(pendingKey(request), pending, 'cancel'); // not again for a retransmission
  }

  private sendCancelIfDue(pending: PendingInvite): void {
    if (!pending.cancelled || !pending.provisional || pending.cancelSent || !pending.forwarded) return;
    pending.cancelSent = true;
    this.stack.cancel(pending.forwarded.request, pending.forwarded.to);
  }

  /** Offers an in-dialog INFO to the copy port; true when it was answered here. */
  private async answeredAsCopy(request: SipRequest, source: Peer): Promise<boolean> {
    const callId = request.headers['call-id'];
    const call = this.table.get(callId);
    const info = infoMessageOf(request, source, this.isTrusted(source), call?.fromTag ?? null, await this.registeredSender(source));
    const log = call?.log ?? this.options.logger.child({ callId });
    if (!this.options.load.admitsCmrWork() && classifyInfo(info, this.options.copyKey).kind !== 'pass-through') {
      this.refuseForOverload(request, 'copy INFO');
      return true;
    }
    let answer;
    try {
      answer = await this.options.copy.handleInfo(info);
    } catch (err) {
      log.error({ event: 'copy-port-error', err }, 'copy port failed; INFO answered 500');
      this.stack.reply(request, 500, 'Server Internal Error');
      return true;
    }
    if (answer === null) return false;
    log.info({ event: 'copy-info', cseq: info.cseq, status: answer.status, infoPackage: info.infoPackage }, 'copy INFO answered');
    this.stack.reply(request, answer.status, answer.reason, answerParts(answer));
    return true;
  }

  /** Asks the core what to present; nothing when the parties cannot be identified or the core fails (fail open). */
  private async annotate(request: SipRequest, source: Peer, fromTag: string, log: Logger): Promise<CallAnnotation> {
    const trusted = this.isTrusted(source);
    const caller = (await this.registeredSender(source)) ?? requestorOf(request, trusted);
    const called = calledIdentity(trusted, headerValue(request, 'p-served-user'), request.uri);
    if (!caller || !called) {
      log.info({ event: 'identities-unusable' }, 'caller or called identity not usable; call proceeds unannotated');
      return NOTHING_PRESENTED;
    }
    const annotation = await this.options.load.select(() => this.calls.callStarted({ callId: request.headers['call-id'], fromTag, caller, called }), SHED);
    if (annotation === SHED) return annotation;
    log.info({ event: 'call-started', caller, called, toCaller: annotation.toCaller.length, toCalled: annotation.toCalled.length }, 'initial INVITE');
    return annotation;
  }

  private refuseForOverload(request: SipRequest, what: string): void {
    this.options.logger.warn({ event: 'overload-refused', callId: request.headers['call-id'], method: request.method, what }, `${what} refused: overload`);
    this.stack.reply(request, 503, OVERLOAD_REASON, { headers: { 'Retry-After': String(this.options.load.retryAfterSec) } });
  }

  private answerCall(call: CallRecord): void {
    if (call.answered) return; // a retransmitted 200
    call.answered = true;
    void this.calls.callAnswered(call.callId);
  }

  private endCall(callId: string, reason: CallEndReason): void {
    const call = this.table.take(callId);
    if (call) this.notifyEnded(call, reason);
  }

  private notifyEnded(call: CallRecord, reason: CallEndReason): void {
    call.log.info({ event: 'call-ended', reason }, 'call ended');
    void this.calls.callEnded(call.callId, reason);
  }

  /** Sends a checked request on: Route left over, Max-Forwards decremented, this server's Via. */
  private forward(
    request: SipRequest,
    checked: Checked,
    to: Peer,
    onResponse: (response: SipResponse) => void,
    amend?: (outgoing: SipRequest) => void,
  ): SipRequest {
    const outgoing = this.prepare(request, checked.routing, checked.maxForwards, checked.trusted);
    amend?.(outgoing);
    return this.stack.forward(outgoing, to, { [LOOP_PARAM]: checked.loop }, onResponse);
  }

  /** The request as it leaves: Route left over, Max-Forwards decremented, asserted identities only from a trusted peer (RFC 3325 §5). */
  private prepare(request: SipRequest, routing: Routing, maxForwards: number, trusted: boolean): SipRequest {
    const outgoing: SipRequest = { ...request, headers: { ...request.headers, route: routing.routes.length > 0 ? routing.routes : undefined } };
    if (routing.hop.kind === 'binding') outgoing.uri = routing.hop.contact;
    setHeader(outgoing, 'max-forwards', String(maxForwards - 1));
    if (!trusted) for (const name of ASSERTED) delete outgoing.headers[name];
    return outgoing;
  }

  /** Resolves the next hop of a request, answering it when there is none. */
  private async peerFor(request: SipRequest, hop: NextHop): Promise<Peer | null> {
    const to = await this.resolve(hop);
    if ('protocol' in to) return to;
    this.stack.reply(request, to.status, to.reason);
    return null;
  }

  private async resolve(hop: NextHop): Promise<Peer | { status: number; reason: string }> {
    if (hop.kind === 'unroutable') return hop;
    if (hop.kind === 'flow') return this.stack.flow(hop.flowId) ?? { status: 430, reason: 'Flow Failed' };
    if (hop.kind === 'binding') return this.liveFlow(hop.peer) ?? { status: 480, reason: 'Temporarily Unavailable' };
    // Never to itself: what is addressed to this server and nobody registered here is unreachable.
    if (this.stack.isOwnUri(hop.uri)) return { status: 480, reason: 'Temporarily Unavailable' };
    return (await this.stack.resolve(hop.uri)) ?? { status: 503, reason: 'Service Unavailable' };
  }

  /** A registered handset's peer while its connection lasts (a UDP address always). */
  private liveFlow(peer: Peer): Peer | undefined {
    return peer.flowId === undefined ? peer : this.stack.flow(peer.flowId);
  }

  /**
   * An initial request for an identity registered here goes to its handset (RFC 3261 §16.5),
   * when no Route is left after this server's own and it is addressed to this server or comes
   * from an access peer. Calls of the S-CSCFs to elsewhere go on as they are routed.
   */
  private async routeToRegisteredHandset(request: SipRequest, source: Peer, checked: Checked): Promise<void> {
    if (!(request.headers.route ?? []).every((route) => isOwn(route, this.stack))) return;
    const target = sipPackage.parseUri(request.uri);
    if (!(target && this.stack.isOwnUri(target)) && this.door.standingOf(source) !== 'access') return;
    const called = calledIdentity(checked.trusted, headerValue(request, 'p-served-user'), request.uri);
    const binding = called ? await this.options.registrar.bindingOf(called, (peer) => this.liveFlow(peer) !== undefined) : null;
    if (binding) checked.routing = { routes: [], hop: { kind: 'binding', peer: binding.peer, contact: binding.contact } };
  }

  /** The identity a handset registered on the flow a request came on: its requests are that identity's, whatever their From says. */
  private async registeredSender(source: Peer): Promise<Identity | null> {
    return this.door.standingOf(source) === 'access' ? this.options.registrar.identityOn(source) : null;
  }

  private isTrusted(source: Peer): boolean {
    return this.door.standingOf(source) === 'trusted';
  }
}

/**
 * Recv-Info: cmr-copy on every 18x and 2xx of the initial INVITE, next to what the called UA
 * sent. Always: whether a copy request succeeds is the copy service's to answer (404 when nothing
 * is presented), not something the advertisement should guess.
 */
function advertiseCopy(response: SipResponse): void {
  const existing = headerValue(response, 'recv-info');
  const packages = existing ? existing.split(',').map((p) => p.trim()).filter((p) => p.length > 0) : [];
  if (!packages.some((p) => p.toLowerCase() === COPY_PACKAGE)) packages.push(COPY_PACKAGE);
  setHeader(response, 'recv-info', packages.join(', '));
}

/** An INVITE server transaction and the CANCEL for it share Call-ID and top Via branch. */
function pendingKey(request: SipRequest): string {
  return `${request.headers['call-id']}\n${request.headers.via[0]!.params['branch'] ?? ''}`;
}
