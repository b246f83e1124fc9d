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
import { isTrusted, type Cidr } from '../../src/config/cidr.js';
import type { SipCopyPort } from '../../src/copy/sip-copy-port.js';
import { appendHeader, headerValue, setHeader, tagOf } from '../sip-stack/message.js';
import type { SipRequest, SipResponse } from '../sip-stack/sip-package.js';
import type { Peer, SipStack, StackHandler } from '../sip-stack/stack.js';
import { CallTable, type CallRecord } from './call-table.js';
import { calledIdentity, senderIdentity } from './identities.js';
import { answerParts, infoMessageOf } from './info-message.js';
import { hasLooped, LOOP_PARAM, loopKey, maxForwardsOf, recordRoutes, routeRequest, type NextHop, type Routing } from './routing.js';

export interface CallProxyOptions {
  calls: CallEvents;
  copy: SipCopyPort;
  trusted: readonly Cidr[];
  outboundProxy: string | null;
  selectBudgetMs: number;
  maxCallSec: number;
  logger: Logger;
}

const RECV_INFO = 'cmr-copy';
const NOTHING: CallAnnotation = { toCaller: [], toCalled: [] };
/** Extra time past the selection budget before the front stops waiting for the core itself. */
const BUDGET_GRACE_MS = 100;

/** An initial INVITE between its arrival and its final response: what CANCEL needs. */
interface PendingInvite {
  cancelled: boolean;
  provisional: boolean;
  cancelSent: boolean;
  forwarded?: { request: SipRequest; to: Peer };
}

/** A request checked and routed, ready to go to its next hop. */
interface Checked {
  routing: Routing;
  loop: string;
  maxForwards: number;
}

export class CallProxy implements StackHandler {
  private readonly table: CallTable;
  private readonly pending = new Map<string, PendingInvite>();

  constructor(
    private readonly stack: SipStack,
    private readonly options: CallProxyOptions,
  ) {
    this.table = new CallTable(options.maxCallSec * 1000, (call) => {
      call.log.info({ event: 'call-expired' }, 'call outlived the longest call allowed');
      this.notifyEnded(call, 'timeout');
    });
  }

  async onRequest(request: SipRequest, source: Peer): Promise<void> {
    if (request.method === 'CANCEL') return this.onCancel(request);
    const checked = this.check(request);
    if (!checked) return;
    const inDialog = tagOf(request.headers.to) !== null;
    if (request.method === 'INVITE' && !inDialog) return this.onInitialInvite(request, source, checked);
    if (inDialog && request.method === 'INFO' && (await this.answeredAsCopy(request, source))) return;
    if (inDialog && request.method === 'BYE') this.endCall(request.headers['call-id'], 'bye');
    const to = await this.peerFor(request, checked.routing.hop);
    if (to) this.forward(request, checked, to, (response) => this.stack.respond(request, response));
  }

  /** ACK of a 2xx: routed end to end, without a transaction (ACKs of failures never get here). */
  async onAck(request: SipRequest): Promise<void> {
    const maxForwards = maxForwardsOf(request);
    if (maxForwards <= 0) return;
    const routing = routeRequest(request, this.stack, null);
    const to = await this.resolve(routing.hop);
    if (!('protocol' in to)) {
      this.options.logger.debug({ event: 'ack-unroutable', callId: request.headers['call-id'], status: to.status }, 'dropped ACK');
      return;
    }
    this.stack.sendStateless(this.prepare(request, routing, maxForwards), to);
  }

  stop(): void {
    this.table.clear();
    this.pending.clear();
  }

  /** Max-Forwards (483) and loop detection (482); null when the request was answered. */
  private check(request: SipRequest): Checked | null {
    const maxForwards = maxForwardsOf(request);
    if (maxForwards <= 0) {
      this.stack.reply(request, 483, 'Too Many Hops');
      return null;
    }
    const routing = routeRequest(request, this.stack, this.options.outboundProxy);
    const loop = loopKey(request, routing.routes);
    if (hasLooped(request, this.stack, loop)) {
      this.options.logger.info({ event: 'sip-loop', callId: request.headers['call-id'], method: request.method }, 'request looped');
      this.stack.reply(request, 482, 'Loop Detected');
      return null;
    }
    return { routing, loop, maxForwards };
  }

  private async onInitialInvite(request: SipRequest, source: Peer, checked: Checked): Promise<void> {
    const callId = request.headers['call-id'];
    const key = pendingKey(request);
    const pending: PendingInvite = { cancelled: false, provisional: false, cancelSent: false };
    this.pending.set(key, pending);
    this.stack.reply(request, 100, 'Trying');

    // The same Call-ID again is a spiral through this server: proxied, presented only once.
    const spiral = this.table.get(callId) !== undefined;
    const log = this.options.logger.child({ callId });
    let call: CallRecord | null = null;
    const finish = (status: number, reason: string) => {
      this.pending.delete(key);
      if (call) this.endCall(callId, status === 487 ? 'cancel' : 'failure');
      this.stack.reply(request, status, reason);
    };
    try {
      const annotation = spiral ? NOTHING : await this.annotate(request, source, log);
      if (spiral) log.info({ event: 'invite-spiral' }, 'INVITE spiralled back; proxied without presentation');
      else call = this.table.open(callId, tagOf(request.headers.from)!, annotation.toCaller, log);

      if (pending.cancelled) return finish(487, 'Request Terminated');
      const to = await this.resolve(checked.routing.hop);
      if (!('protocol' in to)) return finish(to.status, to.reason);
      if (pending.cancelled) return finish(487, 'Request Terminated');

      const answeredCall = call;
      const forwarded = this.forward(request, checked, to, (response) => this.onInviteResponse(request, response, key, pending, answeredCall), (outgoing) => {
        outgoing.headers['record-route'] = [...recordRoutes(this.stack, source, to.protocol), ...(request.headers['record-route'] ?? [])];
        appendHeader(outgoing, 'alert-info', annotation.toCalled.map(alertInfoValue));
      });
      pending.forwarded = { request: forwarded, to };
    } catch (err) {
      // The stack answers 500; the call must not stay behind.
      this.pending.delete(key);
      if (call) this.endCall(callId, 'failure');
      throw err;
    }
  }

  private onInviteResponse(request: SipRequest, response: SipResponse, key: string, pending: PendingInvite, call: CallRecord | null): void {
    if (response.status === 100) return; // hop by hop: this server sent its own
    if (response.status < 200) {
      pending.provisional = true;
      this.sendCancelIfDue(pending);
      if (call) {
        appendHeader(response, 'alert-info', call.toCaller.map(alertInfoValue));
        advertiseCopy(response);
      }
    } else if (response.status < 300) {
      this.pending.delete(key);
      if (call) {
        advertiseCopy(response);
        this.answerCall(call);
      }
    } else {
      this.pending.delete(key);
      if (call) this.endCall(call.callId, pending.cancelled ? 'cancel' : 'failure');
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
    pending.cancelled = true;
    this.sendCancelIfDue(pending);
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
    const info = infoMessageOf(request, source, this.isTrusted(source), call?.fromTag ?? null);
    const log = call?.log ?? this.options.logger.child({ callId });
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

  /** Asks the core what to present; fails open to nothing on error or past the budget. */
  private async annotate(request: SipRequest, source: Peer, log: Logger): Promise<CallAnnotation> {
    const trusted = this.isTrusted(source);
    const caller = senderIdentity(request, trusted);
    const called = calledIdentity(request, trusted);
    if (!caller || !called) {
      log.info({ event: 'identities-unusable' }, 'caller or called identity not usable; call proceeds unannotated');
      return NOTHING;
    }
    const fromTag = tagOf(request.headers.from)!;
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<CallAnnotation>((resolve) => {
      timer = setTimeout(() => {
        log.warn({ event: 'fail-open', reason: 'budget' }, 'presentation did not answer in time; call proceeds unannotated');
        resolve(NOTHING);
      }, this.options.selectBudgetMs + BUDGET_GRACE_MS);
    });
    try {
      const annotation = await Promise.race([this.options.calls.callStarted({ callId: request.headers['call-id'], fromTag, caller, called }), budget]);
      log.info({ event: 'call-started', caller, called, toCaller: annotation.toCaller.length, toCalled: annotation.toCalled.length }, 'initial INVITE');
      return annotation;
    } catch (err) {
      log.warn({ event: 'fail-open', reason: 'error', err }, 'presentation failed; call proceeds unannotated');
      return NOTHING;
    } finally {
      clearTimeout(timer);
    }
  }

  private answerCall(call: CallRecord): void {
    if (call.answered) return; // a retransmitted 200
    call.answered = true;
    this.options.calls.callAnswered(call.callId).catch((err: unknown) => call.log.warn({ event: 'call-events-error', err }, 'callAnswered failed'));
  }

  private endCall(callId: string, reason: CallEndReason): void {
    const call = this.table.take(callId);
    if (call) this.notifyEnded(call, reason);
  }

  private notifyEnded(call: CallRecord, reason: CallEndReason): void {
    call.log.info({ event: 'call-ended', reason }, 'call ended');
    this.options.calls.callEnded(call.callId, reason).catch((err: unknown) => call.log.warn({ event: 'call-events-error', err }, 'callEnded failed'));
  }

  /** Sends a checked request on: Route left over, Max-Forwards decremented, this server's Via. */
  private forward(
    request: SipRequest,
    checked: Checked,
    to: Peer,
    onResponse: (response: SipResponse) => void,
    amend?: (outgoing: SipRequest) => void,
  ): SipRequest {
    const outgoing = this.prepare(request, checked.routing, checked.maxForwards);
    amend?.(outgoing);
    return this.stack.forward(outgoing, to, { [LOOP_PARAM]: checked.loop }, onResponse);
  }

  private prepare(request: SipRequest, routing: Routing, maxForwards: number): SipRequest {
    const outgoing: SipRequest = { ...request, headers: { ...request.headers, route: routing.routes.length > 0 ? routing.routes : undefined } };
    setHeader(outgoing, 'max-forwards', String(maxForwards - 1));
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
    return (await this.stack.resolve(hop.uri)) ?? { status: 503, reason: 'Service Unavailable' };
  }

  private isTrusted(source: Peer): boolean {
    return isTrusted(source.address, this.options.trusted);
  }
}

/** Recv-Info: cmr-copy on 18x and 200 of the initial INVITE, next to what the called UA sent. */
function advertiseCopy(response: SipResponse): void {
  const existing = headerValue(response, 'recv-info');
  const packages = existing ? existing.split(',').map((p) => p.trim()).filter((p) => p.length > 0) : [];
  if (!packages.some((p) => p.toLowerCase() === RECV_INFO)) packages.push(RECV_INFO);
  setHeader(response, 'recv-info', packages.join(', '));
}

/** An INVITE server transaction and the CANCEL for it share Call-ID and top Via branch. */
function pendingKey(request: SipRequest): string {
  return `${request.headers['call-id']}\n${request.headers.via[0]!.params['branch'] ?? ''}`;
}
