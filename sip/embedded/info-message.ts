/** In-dialog INFO to and from the copy port: the `InfoMessage` it reads, the SIP answer it gives. */
import { mediaType, packageName } from '../../src/copy/info-classifier.js';
import type { InfoMessage, SipAnswer } from '../../src/copy/sip-copy-port.js';
import type { Identity } from '../../src/domain/identity.js';
import { senderIdentity } from '../common/identities.js';
import { bodyBytes, bodyText, headerValue, tagOf, uriText } from '../sip-stack/message.js';
import type { SipRequest } from '../sip-stack/sip-package.js';
import type { Peer } from '../sip-stack/stack.js';

/** @param registered the identity registered on the flow the INFO came on: it is the requestor, whatever From says */
export function infoMessageOf(request: SipRequest, source: Peer, trusted: boolean, dialogFromTag: string | null, registered: Identity | null = null): InfoMessage {
  return {
    callId: request.headers['call-id'],
    dialogFromTag,
    fromTag: tagOf(request.headers.from),
    cseq: request.headers.cseq.seq,
    requestor: registered ?? requestorOf(request, trusted),
    infoPackage: packageName(headerValue(request, 'info-package')),
    contentType: mediaType(headerValue(request, 'content-type')),
    body: bodyText(request.content),
    source: `${source.protocol} ${source.address}:${source.port}`,
  };
}

/** The sender of a request: the caller of an INVITE, the requestor of an INFO. */
export function requestorOf(request: SipRequest, trusted: boolean): Identity | null {
  return senderIdentity(trusted, headerValue(request, 'p-asserted-identity'), uriText(request.headers.from.uri));
}

/** The answer's headers (names lower-cased, Content-Type included) and body, ready for the stack. */
export function answerParts(answer: SipAnswer): { headers: Record<string, string>; content: string } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) headers[name.toLowerCase()] = value;
  if (answer.contentType !== undefined) headers['content-type'] = answer.contentType;
  return { headers, content: bodyBytes(answer.body ?? '') };
}
