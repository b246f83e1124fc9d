/** Turns an INFO received through drachtio-server into the copy port's `InfoMessage`. */
import type { InfoMessage } from '../../src/copy/sip-copy-port.js';
import { bareToken, identityIn } from './sip-headers.js';
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
  const asserted = context.trusted ? identityIn(req.get('P-Asserted-Identity')) : null;
  const cseq = Number.parseInt(req.get('CSeq') ?? '', 10);
  return {
    callId: context.callId,
    dialogFromTag: context.dialogFromTag,
    fromTag: fromTagOf(req),
    cseq: Number.isFinite(cseq) ? cseq : 0,
    requestor: asserted ?? identityIn(req.get('From')),
    infoPackage: bareToken(req.get('Info-Package')),
    contentType: bareToken(req.get('Content-Type')),
    body: req.body ?? '',
    source: `${req.source_address}:${req.source_port}`,
  };
}

export function fromTagOf(req: SrfRequest): string | null {
  try {
    return req.getParsedHeader('from').params['tag'] ?? null;
  } catch {
    return null; // no From header: drachtio-server would not pass such a request, but stay total
  }
}
