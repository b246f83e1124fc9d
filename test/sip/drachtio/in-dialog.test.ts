/**
 * Requests inside an answered call through the drachtio front: re-INVITE (with and without an
 * offer), UPDATE, OPTIONS and MESSAGE reach the other party, whose answers come back, so hold,
 * resume and codec changes work end to end through the B2BUA. The scripted drachtio-server plays
 * both parties; assertions read the raw SIP the app put on each leg.
 */
import { describe, expect, it } from 'vitest';
import { expectNothingCopied, presentingSession } from '../../support/call-outcomes.js';
import { drachtioSuite, startDrachtioApp, type DrachtioApp } from '../../support/drachtio-app.js';
import { answeredCall, hangUp } from '../../support/drachtio-calls.js';
import type { DrachtioPeer } from '../../support/drachtio-peer.js';
import { sdp } from '../../support/raw-sip.js';

const SDP: Array<[string, string]> = [['Content-Type', 'application/sdp']];

let peer: DrachtioPeer;
let app: DrachtioApp;
drachtioSuite(startDrachtioApp, (started) => ({ peer, app } = started));

/** An SDP offer putting the session on hold (RFC 3264 §8.4). */
function holdOffer(address: string, port: number): string {
  return sdp(address, port).replace('a=sendrecv', 'a=sendonly');
}

describe('drachtio front: requests inside an answered call', () => {
  it('passes a re-INVITE (hold) from the caller to the called party and its answer back', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;
    const offer = holdOffer(a.address, 40002);

    const reInvite = a.request('INVITE', { headers: [...SDP, ['Contact', a.contact], ['Session-Expires', '1800;refresher=uac']], body: offer });
    const relayed = await b.nextRequest('INVITE');
    expect(relayed.callId).toBe(b.invite.callId);
    expect(relayed.tag('from')).toBe(b.invite.tag('from'));
    expect(relayed.body).toBe(offer);
    expect(relayed.header('session-expires')).toBe('1800;refresher=uac');
    expect(relayed.header('contact')).toBeDefined();

    const answer = sdp(b.address, 50002).replace('a=sendrecv', 'a=recvonly');
    b.reply(relayed, 200, { headers: [...SDP, ['Contact', b.contact]], body: answer });
    // The B leg's ACK is sent by the app for its own transaction, with the re-INVITE's CSeq.
    const ack = await b.nextRequest('ACK');
    expect(ack.cseq.seq).toBe(relayed.cseq.seq);

    const ok = await reInvite.response();
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(answer);
    expect(ok.header('contact')).toBeDefined();
    a.ack({ seq: reInvite.message.cseq.seq });

    // The call goes on as before: still confirmed, nothing copied, and it ends normally.
    expect((await presentingSession(app.ctx, a.callId))?.state).toBe('confirmed');
    await expectNothingCopied(app.ctx, call.parties);
    await hangUp(app, call);
  });

  it('passes a re-INVITE from the called party to the caller, and the caller\'s refusal back', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    const reInvite = b.request('INVITE', { headers: [...SDP, ['Contact', b.contact]], body: sdp(b.address, 50004) });
    const relayed = await a.nextRequest('INVITE');
    expect(relayed.callId).toBe(a.callId);
    expect(relayed.tag('to')).toBe(a.fromTag);
    expect(relayed.body).toBe(sdp(b.address, 50004));

    // Glare: the caller has a re-INVITE of its own pending (RFC 3261 §14.2).
    a.reply(relayed, 491);
    const refused = await reInvite.response();
    expect(refused.status).toBe(491);
    expect(a.pending).toEqual(['ACK ' + relayed.uri + ' SIP/2.0']);
    await hangUp(app, call);
  });

  it('passes an offerless re-INVITE: the offer comes back in the 200 and the answer goes on in the ACK', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    const reInvite = a.request('INVITE', { headers: [['Contact', a.contact]] });
    const relayed = await b.nextRequest('INVITE');
    expect(relayed.body).toBe('');

    const offer = sdp(b.address, 50006);
    b.reply(relayed, 200, { headers: [...SDP, ['Contact', b.contact]], body: offer });
    const ok = await reInvite.response();
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(offer);
    // No ACK toward the called party until the caller's ACK brings the answer.
    expect(b.pending).toEqual([]);

    const answer = sdp(a.address, 40006);
    a.ack({ seq: reInvite.message.cseq.seq, body: answer });
    const ack = await b.nextRequest('ACK');
    expect(ack.cseq.seq).toBe(relayed.cseq.seq);
    expect(ack.body).toBe(answer);
    await hangUp(app, call);
  });

  it('passes UPDATE both ways, with the session description and the response', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    const update = b.request('UPDATE', { headers: [...SDP, ['Contact', b.contact]], body: sdp(b.address, 50008) });
    const towardA = await a.nextRequest('UPDATE');
    expect(towardA.callId).toBe(a.callId);
    expect(towardA.body).toBe(sdp(b.address, 50008));
    a.reply(towardA, 200, { headers: [...SDP, ['Contact', a.contact]], body: sdp(a.address, 40008) });
    const ok = await update.response();
    expect(ok.status).toBe(200);
    expect(ok.body).toBe(sdp(a.address, 40008));
    expect(ok.header('contact')).toBeDefined();

    const refresh = a.request('UPDATE', { headers: [['Session-Expires', '1800;refresher=uac']] });
    const towardB = await b.nextRequest('UPDATE');
    expect(towardB.header('session-expires')).toBe('1800;refresher=uac');
    b.reply(towardB, 200, { headers: [['Session-Expires', '1800;refresher=uac']] });
    const refreshed = await refresh.response();
    expect(refreshed.status).toBe(200);
    expect(refreshed.header('session-expires')).toBe('1800;refresher=uac');
    await hangUp(app, call);
  });

  it('passes OPTIONS and MESSAGE to the other party and their answers back', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    const options = a.request('OPTIONS', { headers: [['Accept', 'application/sdp']] });
    const optionsAtB = await b.nextRequest('OPTIONS');
    b.reply(optionsAtB, 200, { headers: [['Allow', 'INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO']] });
    const allowed = await options.response();
    expect(allowed.status).toBe(200);
    expect(allowed.header('allow')).toBe('INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO');

    const message = b.request('MESSAGE', { headers: [['Content-Type', 'text/plain']], body: 'call you back' });
    const messageAtA = await a.nextRequest('MESSAGE');
    expect(messageAtA.body).toBe('call you back');
    a.reply(messageAtA, 486);
    expect((await message.response()).status).toBe(486);
    await hangUp(app, call);
  });

  it('answers in its own name what it cannot pass back as it is: a challenge of the other leg, a status drachtio-srf does not know', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    const challenged = a.request('MESSAGE', { headers: [['Content-Type', 'text/plain']], body: 'hi' });
    b.reply(await b.nextRequest('MESSAGE'), 407, { headers: [['Proxy-Authenticate', 'Digest realm="b.example", nonce="1"']] });
    const refused = await challenged.response();
    expect(refused.status).toBe(403);
    expect(refused.header('proxy-authenticate')).toBeUndefined();
    expect(refused.header('warning')).toMatch(/^399 \S+ ".+"$/);

    // 607 Unwanted (RFC 8197) is not in drachtio-srf's table: the caller gets its class, 600.
    const unwanted = b.request('MESSAGE', { headers: [['Content-Type', 'text/plain']], body: 'buy now' });
    a.reply(await a.nextRequest('MESSAGE'), 607);
    expect((await unwanted.response()).status).toBe(600);
    await hangUp(app, call);
  });
});
