/**
 * Neighbour double of the copy service for SIP front tests: a small, faithful implementation of
 * the classification of contract §3.2 for what the SIP scenarios check. It answers copy requests
 * from the presenting session it finds through `findCall`, and returns null (pass through) for
 * every INFO that is not a copy request. The real copy service replaces it once wired.
 */
import type { CallEvents } from '../../../src/calls/call-events.js';
import type { InfoMessage, SipAnswer, SipCopyPort } from '../../../src/copy/sip-copy-port.js';
import type { PresentedResource } from '../../../src/domain/types.js';

const COPY_TYPE = 'application/vnd.cmr.copy+json';
const MAX_BODY_BYTES = 8 * 1024;

export class CopyRulesDouble implements SipCopyPort {
  readonly infos: InfoMessage[] = [];
  private readonly answered = new Map<string, SipAnswer>();

  constructor(
    private readonly calls: Pick<CallEvents, 'findCall'>,
    private readonly options: { copyKey: string; host: string },
  ) {}

  async handleInfo(info: InfoMessage): Promise<SipAnswer | null> {
    this.infos.push(info);
    const repeat = `${info.callId}/${info.fromTag}/${info.cseq}`;
    const earlier = this.answered.get(repeat);
    if (earlier) return earlier;
    const answer = await this.classify(info);
    if (answer) this.answered.set(repeat, answer);
    return answer;
  }

  private async classify(info: InfoMessage): Promise<SipAnswer | null> {
    if (info.infoPackage === null) {
      const signal = /^\s*signal\s*=\s*(\S)/im.exec(info.body)?.[1];
      return info.contentType === 'application/dtmf-relay' && signal === this.options.copyKey ? this.copy(info, null) : null;
    }
    if (info.infoPackage === 'infodtmf') {
      return info.contentType === 'application/dtmf' && info.body.trim() === this.options.copyKey ? this.copy(info, null) : null;
    }
    if (info.infoPackage !== 'cmr-copy') return { status: 469, reason: 'Bad Info Package', headers: { 'Recv-Info': 'cmr-copy' } };
    if (info.contentType !== COPY_TYPE) return { status: 415, reason: 'Unsupported Media Type', headers: { Accept: COPY_TYPE } };
    if (Buffer.byteLength(info.body, 'utf8') > MAX_BODY_BYTES) return this.refuse(413, 'Request Entity Too Large', 'body over 8 KiB');
    let body: { caller?: unknown; called?: unknown; client?: { id?: unknown; version?: unknown } };
    try {
      body = JSON.parse(info.body) as typeof body;
    } catch {
      return this.refuse(400, 'Bad Request', 'body is not JSON');
    }
    if (typeof body.caller !== 'string' || typeof body.called !== 'string' || typeof body.client?.id !== 'string' || typeof body.client.version !== 'string') {
      return this.refuse(400, 'Bad Request', 'caller, called and client are required');
    }
    return this.copy(info, { caller: body.caller, called: body.called });
  }

  private async copy(info: InfoMessage, claimed: { caller: string; called: string } | null): Promise<SipAnswer> {
    const session = await this.calls.findCall(info.callId, info.dialogFromTag ?? undefined);
    if (!session) return this.refuse(404, 'Not Found', 'no presenting session for this call');
    if (info.requestor !== session.caller && info.requestor !== session.called) {
      return this.refuse(403, 'Forbidden', 'requestor is not a party to the call');
    }
    if (claimed && (claimed.caller !== session.caller || claimed.called !== session.called)) {
      return this.refuse(403, 'Forbidden', 'body does not match the call');
    }
    const presented: PresentedResource[] = info.requestor === session.caller ? session.toCaller : session.toCalled;
    if (presented.length === 0) return this.refuse(404, 'Not Found', 'nothing presented to the requestor');
    const result = {
      result: 'copied',
      entries: presented.map((r, i) => ({ resourceId: r.resourceId, libraryEntryId: `le-${info.cseq}-${i}`, expiresAt: '2030-01-01T00:00:00.000Z' })),
      charge: { id: `ch-${info.cseq}`, amount: 99, currency: 'EUR' },
    };
    return { status: 200, reason: 'OK', headers: {}, contentType: 'application/vnd.cmr.copy-result+json', body: JSON.stringify(result) };
  }

  private refuse(status: number, reason: string, warning: string): SipAnswer {
    return { status, reason, headers: { Warning: `399 ${this.options.host} "${warning}"` } };
  }
}
