/** Turns an INFO received through drachtio-server into the copy port's `InfoMessage`. */
import { mediaType, packageName } from '../../src/copy/info-classifier.js';
import type { InfoMessage } from '../../src/copy/sip-copy-port.js';
import type { Identity } from '../../src/domain/identity.js';
import { uriOf } from '../common/header-values.js';
import { senderIdentity } from '../common/identities.js';
import type { SrfRequest } from './srf.js';

export interface InfoContext {
  /** Call-ID of the caller's leg: the presenting session's key (the B leg has its own Call-ID). */
  callId: string;
  /** The caller's From tag on the A leg, when the call is known. */
  dialogFromTag: string | null;
  /** Whether the INFO came from a trusted peer, whose P-Asserted-Identity is honoured. */
  trusted: boolean;
}

export function toInfoMessage(req: SrfRequest, context: InfoContext): InfoMessage {
  const cseq = Number.parseInt(req.get('CSeq') ?? '', 10);
  return {
    callId: context.callId,
    dialogFromTag: context.dialogFromTag,
    fromTag: fromTagOf(req),
    cseq: Number.isFinite(cseq) ? cseq : 0,
    requestor: requestorOf(req, context.trusted),
    infoPackage: packageName(req.get('Info-Package')),
    contentType: mediaType(req.get('Content-Type')),
    body: req.body ?? '',
    source: `${req.source_address}:${req.source_port}`,
  };
}

/** The sender of a request: the caller of an INVITE, the requestor of an INFO. */
export function requestorOf(req: SrfRequest, trusted: boolean): Identity | null {
  return senderIdentity(trusted, req.get('P-Asserted-Identity'), uriOf(req.get('From') ?? ''));
}

export function fromTagOf(req: SrfRequest): string | null {
  try {
    return req.getParsedHeader('from').params['tag'] ?? null;
  } catch {
    return null; // no From header: drachtio-server would not pass such a request, but stay total
  }
}
