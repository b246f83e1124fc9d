/**
 * The copy port of both SIP fronts (contract §3.2): classifies each in-dialog INFO, turns a copy
 * request (JSON body or DTMF copy key) into an online copy on the copy service, and answers with
 * the SIP response of the one outcome table (`copy-outcomes.ts`). Never throws: an unexpected
 * failure is logged with the Call-ID and answered 500.
 *
 * A retransmitted or repeated INFO (same dialog and CSeq) is the same request: its idempotency key
 * is `sip:<Call-ID>:<dialog From tag>:<CSeq>` in the sender's records, so it gets the first answer
 * and never copies or charges twice.
 */
import { CmrError } from '../domain/errors.js';
import { fingerprintOf } from '../store/idempotency-store.js';
import type { Logger } from '../observability/logger.js';
import { asCmrError, sipBadInfoPackage, sipFailure, sipSuccess } from './copy-outcomes.js';
import { DTMF_CLIENT } from './copy-policy.js';
import { parseCopyBody } from './copy-request.js';
import type { CopyService, OnlineCopy } from './copy-service.js';
import { classifyInfo, COPY_CONTENT_TYPE } from './info-classifier.js';
import type { InfoMessage, SipAnswer, SipCopyPort } from './sip-copy-port.js';

export interface SipCopyOptions {
  /** DTMF key that asks for a copy (`CMR_COPY_KEY`). */
  copyKey: string;
  /** Host named in `Warning` headers (the server's public SIP name). */
  warningHost: string;
}

export class SipCopy implements SipCopyPort {
  constructor(
    private readonly copies: Pick<CopyService, 'copy'>,
    private readonly options: SipCopyOptions,
    private readonly logger: Logger,
  ) {}

  async handleInfo(info: InfoMessage): Promise<SipAnswer | null> {
    const host = this.options.warningHost;
    try {
      const shape = classifyInfo(info, this.options.copyKey);
      switch (shape.kind) {
        case 'pass-through':
          return null;
        case 'bad-info-package':
          return sipBadInfoPackage(shape.infoPackage, host);
        case 'unsupported-media-type':
          return sipFailure(new CmrError('unsupported-media-type', `a copy request must be ${COPY_CONTENT_TYPE}, not ${info.contentType ?? 'empty'}`), host);
        case 'copy-json':
        case 'copy-dtmf':
          return sipSuccess((await this.copies.copy(this.onlineCopy(info, shape.kind === 'copy-dtmf'))).answer);
      }
    } catch (err) {
      if (!(err instanceof CmrError)) {
        this.logger.error({ event: 'copy', callId: info.callId, cseq: info.cseq, source: info.source, err }, 'copy request failed unexpectedly');
      }
      return sipFailure(asCmrError(err), host);
    }
  }

  /** The copy an INFO asks for; throws 400/413 for a bad body, 403 when the sender has no identity. */
  private onlineCopy(info: InfoMessage, dtmf: boolean): OnlineCopy {
    const ask = dtmf ? null : parseCopyBody(info.body);
    if (!info.requestor) throw new CmrError('forbidden', 'the sender of the copy request has no usable identity');
    return {
      mode: 'online',
      channel: 'sip',
      requestor: info.requestor,
      actor: info.requestor,
      call: { callId: info.callId, dialogFromTag: info.dialogFromTag },
      client: ask?.client ?? DTMF_CLIENT,
      parties: ask ? { caller: ask.caller, called: ask.called } : null,
      resourceIds: ask?.resourceIds ?? null,
      idempotency: {
        key: `sip:${info.callId}:${info.dialogFromTag ?? info.fromTag ?? ''}:${info.cseq}`,
        fingerprint: fingerprintOf({ infoPackage: info.infoPackage, contentType: info.contentType, body: info.body }),
      },
    };
  }
}
