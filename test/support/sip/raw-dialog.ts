/**
 * Calls set up by hand over raw sockets through the server, for tests that must write every byte
 * of the in-dialog requests (retransmissions, replays, forged identities): a caller peer and a
 * called peer carry any number of dialogs at once, told apart by Call-ID.
 */
import { COPY_CONTENT_TYPE } from '../../../src/copy/info-classifier.js';
import { recordRouteSet, request, responseTo } from './raw-messages.js';
import { isRequest, isStatus, type RawPeer, type SipText } from './raw-peer.js';

export interface RawDialog {
  callId: string;
  /** The set-up as it went over the wire: every message sent and received, in order. */
  messages: string[];
  /** Alert-Info values of the 180 the caller got, and of the INVITE the called party got. */
  announced: { toCaller: string[]; toCalled: string[] };
  /** A request text from the caller in this dialog (routed by the route set). */
  fromCaller(method: string, options: { cseq: number; headers?: string[]; body?: string }): string;
  /** A request text from the called party in this dialog. */
  fromCalled(method: string, options: { cseq: number; headers?: string[]; body?: string }): string;
  /** Hangs up from the caller and waits for the 200. */
  hangUp(cseq?: number): Promise<void>;
}

export interface DialogParties {
  caller: string;
  called: string;
  /** Extra headers of the INVITE (default: P-Asserted-Identity of the caller). */
  inviteHeaders?: string[];
}

const uriOf = (number: string) => `<sip:${number}@example.net;user=phone>`;
let dialogs = 0;

/** Places a call from `callerPeer` to `calledPeer`, answers it and ACKs it; the dialog is then confirmed. */
export async function openRawDialog(callerPeer: RawPeer, calledPeer: RawPeer, parties: DialogParties): Promise<RawDialog> {
  dialogs += 1;
  const callId = `raw-${process.pid}-${dialogs}-${Date.now()}@test`;
  const [caller, called] = [parties.caller.replace(/^tel:/, ''), parties.called.replace(/^tel:/, '')];
  const sameCall = (m: SipText) => m.header('call-id')[0] === callId;
  const base = { callId, from: uriOf(caller), to: uriOf(called), fromTag: 'caller-tag' };
  const messages: string[] = [];
  const send = (peer: RawPeer, text: string) => {
    messages.push(text);
    peer.send(text);
  };
  const receive = async (peer: RawPeer, matches: (m: SipText) => boolean) => {
    const message = await peer.receive((m) => matches(m) && sameCall(m));
    messages.push(message.text);
    return message;
  };
  send(
    callerPeer,
    request('INVITE', `sip:${called}@${calledPeer.uriHostPort};user=phone`, callerPeer, {
      ...base,
      headers: parties.inviteHeaders ?? [`P-Asserted-Identity: <tel:${caller}>`],
    }),
  );
  const invite = await receive(calledPeer, isRequest('INVITE'));
  send(calledPeer, responseTo(invite, 180, 'Ringing', { toTag: 'called-tag', contact: calledPeer }));
  send(calledPeer, responseTo(invite, 200, 'OK', { toTag: 'called-tag', contact: calledPeer }));
  const ringing = await receive(callerPeer, isStatus(180, 'INVITE'));
  const ok = await receive(callerPeer, isStatus(200, 'INVITE'));
  const toCaller = [...recordRouteSet(ok)].reverse();
  const toCalled = recordRouteSet(invite);
  send(callerPeer, request('ACK', `sip:peer@${calledPeer.uriHostPort}`, callerPeer, { ...base, toTag: 'called-tag', routes: toCaller }));
  await receive(calledPeer, isRequest('ACK'));

  const fromCaller: RawDialog['fromCaller'] = (method, o) =>
    request(method, `sip:peer@${calledPeer.uriHostPort}`, callerPeer, { ...base, toTag: 'called-tag', routes: toCaller, ...o });
  const fromCalled: RawDialog['fromCalled'] = (method, o) =>
    request(method, `sip:peer@${callerPeer.uriHostPort}`, calledPeer, {
      callId,
      from: uriOf(called),
      to: uriOf(caller),
      fromTag: 'called-tag',
      toTag: 'caller-tag',
      routes: toCalled,
      ...o,
    });
  return {
    callId,
    messages,
    announced: { toCaller: ringing.header('alert-info'), toCalled: invite.header('alert-info') },
    fromCaller,
    fromCalled,
    async hangUp(cseq = 99) {
      callerPeer.send(fromCaller('BYE', { cseq }));
      const bye = await calledPeer.receive((m) => isRequest('BYE')(m) && sameCall(m));
      calledPeer.send(responseTo(bye, 200, 'OK'));
      await callerPeer.receive((m) => isStatus(200, 'BYE')(m) && sameCall(m));
    },
  };
}

/** The headers and body of a cmr-copy INFO naming `caller` and `called` (overrides merged into the body). */
export function copyInfoParts(caller: string, called: string, body: Record<string, unknown> = {}, sender = caller): { headers: string[]; body: string } {
  return {
    headers: [`P-Asserted-Identity: <${sender}>`, 'Info-Package: cmr-copy', `Content-Type: ${COPY_CONTENT_TYPE}`],
    body: JSON.stringify({ caller, called, client: { id: 'acme-handset', version: '2.1.0' }, ...body }),
  };
}

/** Matches the answer to a request of this dialog with this CSeq. */
export const answerTo = (callId: string, cseq: number, method = 'INFO') => (m: SipText) =>
  m.firstLine.startsWith('SIP/2.0 ') && m.header('call-id')[0] === callId && m.header('cseq')[0] === `${cseq} ${method}` && !m.firstLine.startsWith('SIP/2.0 100 ');
