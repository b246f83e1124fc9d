/**
 * The facts recorded from a real drachtio-server 0.9.10 (the project's `drachtio-wire` reference,
 * numbered as in its README), each as the caller and the called party see them through the
 * drachtio front and the scripted drachtio-server, which behaves as recorded:
 * 1. an unreliable 18x of the app goes out with no Contact but the app's, a 2xx with one;
 * 2. a reliable 18x of the called party is PRACKed on the B leg by drachtio-srf itself;
 * 3. header names the app writes in lower case go out in canonical case, after Content-Length;
 * 4. an INFO with a body over 8 KiB is answered 400 by drachtio-server and never reaches the app.
 */
import { describe, expect, it } from 'vitest';
import { expectCallerCopied, expectEndedUnanswered, expectNothingCopied, TONES } from '../../support/call-outcomes.js';
import { drachtioSuite, sipMessagesCounted, startDrachtioApp, until, type DrachtioApp } from '../../support/drachtio-app.js';
import { answerCall, answeredCall, callerCopyRequest, hangUp, placedCall } from '../../support/drachtio-calls.js';
import type { DrachtioPeer } from '../../support/drachtio-peer.js';
import { sdp, type SipMessage } from '../../support/raw-sip.js';

let peer: DrachtioPeer;
let app: DrachtioApp;
drachtioSuite(startDrachtioApp, (started) => ({ peer, app } = started));

/** The front's Contact: the scripted drachtio-server's SIP address on UDP. */
const FRONT_CONTACT = '<sip:127.0.0.1:5060>';
const SUPPORTS_100REL: Array<[string, string]> = [['Supported', '100rel']];

/** The header lines of a message as they stand on the wire, names as written. */
function wireLines(message: SipMessage): string[] {
  return message.raw.split('\r\n\r\n')[0]!.split('\r\n').slice(1);
}

describe('drachtio front on the recorded drachtio-server', () => {
  it('1: names its own Contact on the unreliable 180, where drachtio-server adds none, and on the 200', async () => {
    const call = await placedCall(peer, app);
    const { a, b } = call;
    expect(a.tryingCount).toBe(1); // drachtio-server's own 100 Trying

    b.respond(180);
    const ringing = await a.response(180);
    expect(ringing.headerAll('contact')).toEqual([FRONT_CONTACT]);
    expect(ringing.tag('to')).toMatch(/.+/);
    expect(ringing.values('alert-info')).toEqual([`<${TONES.toCaller.contentUri}>;resource=${TONES.toCaller.resourceId}`]);
    expect(ringing.header('require')).toBeUndefined();
    expect(ringing.header('rseq')).toBeUndefined();

    const ok = await answerCall(app, call);
    expect(ok.headerAll('contact')).toEqual([FRONT_CONTACT]);
    await hangUp(app, call);
  });

  it('1: sends the 180 reliably, with Contact, to a caller that supports 100rel; once PRACKed, the caller copies in the early dialog', async () => {
    const call = await placedCall(peer, app, { headers: SUPPORTS_100REL });
    const { a, b } = call;
    b.respond(180);
    const ringing = await a.response(180);
    expect(ringing.header('require')).toBe('100rel');
    expect(ringing.header('rseq')).toMatch(/^\d+$/);
    expect(ringing.headerAll('contact')).toEqual([FRONT_CONTACT]);
    expect((await a.prack(ringing).response()).status).toBe(200);

    // The early dialog's remote target is that Contact: the copy INFO goes there and is answered.
    const copy = a.request('INFO', callerCopyRequest(call));
    expect(copy.message.uri).toBe('sip:127.0.0.1:5060');
    const copied = await copy.response();
    expect(copied.status).toBe(200);
    expect(copied.header('content-type')).toBe('application/vnd.cmr.copy-result+json');
    await expectCallerCopied(app.ctx, call.parties);

    await answerCall(app, call);
    await hangUp(app, call);
  });

  it('1: sends an 18x with SDP reliably to a caller that supports 100rel, and the caller\'s PRACK is answered 200', async () => {
    const call = await placedCall(peer, app, { headers: SUPPORTS_100REL });
    const { a, b } = call;
    b.respond(183, { body: sdp(b.address, 50020) });
    const progress = await a.response(183);
    expect(progress.header('require')).toBe('100rel');
    expect(progress.header('rseq')).toMatch(/^\d+$/);
    expect(progress.headerAll('contact')).toEqual([FRONT_CONTACT]);
    expect(progress.body).toBe(sdp(b.address, 50020));

    const prack = a.prack(progress);
    expect((await prack.response()).status).toBe(200);
    expect(b.pending).toEqual([]); // the caller's PRACK is answered on its own leg
    await answerCall(app, call);
    await hangUp(app, call);
  });

  it('1: over TCP the Contact names drachtio-server\'s TCP address', async () => {
    const call = await placedCall(peer, app, { transport: 'tcp' });
    call.b.respond(180);
    expect((await call.a.response(180)).headerAll('contact')).toEqual(['<sip:127.0.0.1:5060;transport=tcp>']);
    expect((await answerCall(app, call)).headerAll('contact')).toEqual(['<sip:127.0.0.1:5060;transport=tcp>']);
    await hangUp(app, call);
  });

  it('2: the called party\'s reliable 183 is PRACKed on its leg by drachtio-srf, and reaches a caller supporting 100rel reliably, with Contact', async () => {
    const call = await placedCall(peer, app, { headers: SUPPORTS_100REL });
    const { a, b } = call;
    b.respond(183, { headers: [['Require', '100rel'], ['RSeq', '1']], body: sdp(b.address, 50022) });
    // PRACKed on the B leg before the caller has seen anything of it.
    const prackOnB = await b.nextRequest('PRACK');
    expect(prackOnB.header('rack')).toBe(`1 ${b.invite.cseq.seq} INVITE`);
    b.reply(prackOnB, 200);

    const progress = await a.response(183);
    expect(progress.header('require')).toBe('100rel');
    expect(progress.header('rseq')).toMatch(/^\d+$/);
    expect(progress.headerAll('contact')).toEqual([FRONT_CONTACT]);
    expect((await a.prack(progress).response()).status).toBe(200);

    // After the PRACK drachtio-server routes the caller's early requests to this instance, in the early dialog.
    expect((await a.request('INFO', callerCopyRequest(call)).response()).status).toBe(200);
    await expectCallerCopied(app.ctx, call.parties);
    await answerCall(app, call);
    await hangUp(app, call);
  });

  it('2: a caller that requires 100rel gets every 18x reliably, one at a time, though the called party sends them unreliably', async () => {
    const call = await placedCall(peer, app, { headers: [['Require', '100rel']] });
    const { a, b } = call;
    expect(b.invite.values('require')).toEqual([]);
    expect(b.invite.values('supported')).toEqual(['100rel']);

    b.respond(180);
    const ringing = await a.response(180);
    expect(ringing.header('require')).toBe('100rel');
    expect(ringing.header('rseq')).toMatch(/^\d+$/);
    b.respond(183, { body: sdp(b.address, 50024) });
    // sofia holds the second back until the first is PRACKed (RFC 3262 §3).
    await until(() => a.heldBack === 1, 'the second reliable 18x is held back');
    expect(a.pending).toEqual([]);
    expect((await a.prack(ringing).response()).status).toBe(200);
    const progress = await a.response(183);
    expect(Number(progress.header('rseq'))).toBe(Number(ringing.header('rseq')) + 1);
    expect((await a.prack(progress).response()).status).toBe(200);
    await answerCall(app, call);
    await hangUp(app, call);
  });

  it('2: a caller without 100rel gets the called party\'s reliable 183 unreliably, with Contact', async () => {
    const call = await placedCall(peer, app);
    const { a, b } = call;
    b.respond(183, { headers: [['Require', '100rel'], ['RSeq', '1']], body: sdp(b.address, 50026) });
    b.reply(await b.nextRequest('PRACK'), 200);
    const progress = await a.response(183);
    expect(progress.header('require')).toBeUndefined();
    expect(progress.header('rseq')).toBeUndefined();
    expect(progress.headerAll('contact')).toEqual([FRONT_CONTACT]);
    await answerCall(app, call);
    await hangUp(app, call);
  });

  it('3: what the app writes in lower case (require, alert-info, recv-info) goes out canonical, sofia\'s own headers before Content-Length and the others after it', async () => {
    const call = await placedCall(peer, app, { headers: SUPPORTS_100REL });
    const { a, b } = call;
    b.respond(183, { body: sdp(b.address, 50028) });
    const progress = await a.response(183);
    const lines = wireLines(progress);
    const at = (prefix: string) => lines.findIndex((line) => line.startsWith(prefix));
    expect(lines).toContain('Require: 100rel');
    expect(lines).toContain(`RSeq: ${progress.header('rseq')}`);
    expect(lines).toContain('Recv-Info: cmr-copy');
    expect(at('Alert-Info: <')).toBeGreaterThan(at('Content-Length: '));
    expect(at('Recv-Info: ')).toBeGreaterThan(at('Content-Length: '));
    expect(at('Require: ')).toBeLessThan(at('Content-Type: '));
    expect(at('Content-Type: ')).toBeLessThan(at('Content-Length: '));
    expect(lines.filter((line) => /^[a-z]/.test(line))).toEqual([]);
    expect((await a.prack(progress).response()).status).toBe(200);
    await answerCall(app, call);
    await hangUp(app, call);
  });

  it('4: an INFO with a body over 8 KiB is answered 400 by drachtio-server itself: no Warning, nothing copied, the call goes on', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;
    const large = callerCopyRequest(call);
    const body = JSON.stringify({ ...JSON.parse(large.body), note: '0123456789'.repeat(900) });
    const refused = await a.request('INFO', { headers: large.headers, body }).response();
    expect(refused.status).toBe(400);
    expect(refused.reason).toBe('Bad Request');
    expect(refused.header('warning')).toBeUndefined();
    expect(b.pending).toEqual([]);
    await expectNothingCopied(app.ctx, call.parties);

    expect((await a.request('INFO', callerCopyRequest(call)).response()).status).toBe(200);
    await expectCallerCopied(app.ctx, call.parties);
    await hangUp(app, call);
  });
});

describe('drachtio front on drachtio-server 0.9.10 as measured beside the project', () => {
  it('holds a failure of the called party until the caller has PRACKed its reliable 180 (drachtio-server crashes on a final response sent before)', async () => {
    const call = await placedCall(peer, app, { headers: SUPPORTS_100REL });
    const { a, b } = call;
    b.respond(180);
    const ringing = await a.response(180);
    b.respond(486);
    await b.nextRequest('ACK');
    await until(async () => (await sipMessagesCounted(app, 'failure-held-for-prack')) === 1, 'the front holds the 486');
    expect(a.pending).toEqual([]);

    expect((await a.prack(ringing).response()).status).toBe(200);
    expect((await a.response(486)).status).toBe(486);
    expect(peer.crashes).toEqual([]);
    await expectEndedUnanswered(app.ctx, a.callId);
  });
});
