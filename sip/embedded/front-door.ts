/**
 * What the embedded front answers itself, before anything is proxied (contract §3, who may use
 * the server):
 * - an initial request from a stranger gets 403 with a Warning and goes nowhere;
 * - an in-dialog request from a stranger follows only a call this server carries (a made-up
 *   To tag opens no relay);
 * - a REGISTER from an access peer goes to the registrar (this server is its registrar);
 * - a request for the server's own address is answered here, never forwarded to itself:
 *   OPTIONS 200 (the S-CSCF's keep-alive), REGISTER 403 from a peer the registrar does not serve.
 */
import type { Logger } from 'pino';
import { sipWarning } from '../../src/calls/sip-warning.js';
import { COPY_CONTENT_TYPE, COPY_PACKAGE } from '../../src/copy/info-classifier.js';
import { standingOf, STRANGER_REFUSAL, type AccessRule, type Standing } from '../common/access-rule.js';
import { tagOf } from '../sip-stack/message.js';
import { sipPackage, type SipRequest } from '../sip-stack/sip-package.js';
import type { Peer, SipStack } from '../sip-stack/stack.js';
import type { Registrar } from './registrar.js';

export interface FrontDoorOptions {
  rule: AccessRule;
  /** Whether a Call-ID is one of the calls this server carries. */
  knownCall(callId: string): boolean;
  registrar: Registrar;
  logger: Logger;
}

export class FrontDoor {
  constructor(
    private readonly stack: SipStack,
    private readonly options: FrontDoorOptions,
  ) {}

  standingOf(source: Peer): Standing {
    return standingOf(source.address, this.options.rule);
  }

  /** True when the request (not CANCEL, which follows its INVITE) was answered here. */
  async answered(request: SipRequest, source: Peer): Promise<boolean> {
    const inDialog = tagOf(request.headers.to) !== null;
    const standing = this.standingOf(source);
    if (standing === 'stranger' && (!inDialog || !this.options.knownCall(request.headers['call-id']))) {
      this.refuseStranger(request, source, inDialog);
      return true;
    }
    if (inDialog) return false;
    if (request.method === 'REGISTER' && standing === 'access') {
      const answer = await this.options.registrar.register(request, source);
      this.stack.reply(request, answer.status, answer.reason, { headers: answer.headers });
      return true;
    }
    if (!this.isForUs(request)) return false;
    if (request.method === 'OPTIONS') {
      this.answerOptions(request);
      return true;
    }
    if (request.method === 'REGISTER') {
      this.stack.reply(request, 403, 'Forbidden', { headers: { warning: sipWarning(this.stack.publicHost, 'this server registers only its access peers') } });
      return true;
    }
    return false;
  }

  /** An ACK from a stranger goes on only within a call this server carries. */
  admitsAck(request: SipRequest, source: Peer): boolean {
    return this.standingOf(source) !== 'stranger' || this.options.knownCall(request.headers['call-id']);
  }

  private refuseStranger(request: SipRequest, source: Peer, inDialog: boolean): void {
    this.options.logger.info(
      { event: 'sip-refused', callId: request.headers['call-id'], method: request.method, from: `${source.protocol} ${source.address}:${source.port}`, inDialog },
      'request from a peer outside the trusted and access lists refused',
    );
    const reason = inDialog ? 'no such call through this server' : STRANGER_REFUSAL;
    this.stack.reply(request, 403, 'Forbidden', { headers: { warning: sipWarning(this.stack.publicHost, reason) } });
  }

  /** Request-URI and every remaining Route entry name this server. */
  private isForUs(request: SipRequest): boolean {
    const target = sipPackage.parseUri(request.uri);
    if (!target || !this.stack.isOwnUri(target)) return false;
    return (request.headers.route ?? []).every((route) => typeof route.uri === 'object' && route.uri !== null && this.stack.isOwnUri(route.uri));
  }

  private answerOptions(request: SipRequest): void {
    this.stack.reply(request, 200, 'OK', {
      headers: {
        Allow: 'INVITE, ACK, CANCEL, BYE, INFO, OPTIONS, UPDATE, PRACK',
        Accept: `application/sdp, ${COPY_CONTENT_TYPE}, application/dtmf-relay, application/dtmf`,
        'Recv-Info': COPY_PACKAGE,
      },
    });
  }
}
