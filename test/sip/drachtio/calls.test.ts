/**
 * The drachtio front driven by a scripted drachtio-server over drachtio's real wire protocol:
 * call setup, announcements, answer, release, CANCEL and failures. Every assertion reads the
 * raw SIP the app had put on the wire.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallAnnotation } from '../../../src/calls/call-events.js';
import { doublePorts, type DoublePorts } from '../../support/call-port-doubles.js';
import { PEER_SECRET, startDrachtioApp, until, type DrachtioApp } from '../../support/drachtio-app.js';
import { DrachtioPeer, type CallerLeg, type CalleeLeg } from '../../support/drachtio-peer.js';
import { sdp } from '../../support/raw-sip.js';

const CALLER = 'tel:+15551230001';
const CALLED = 'tel:+15551230002';
const PRESENTED: CallAnnotation = {
  toCaller: [{ resourceId: 'r-summer', contentUri: 'https://media.example.net/tones/summer.mp3' }],
  toCalled: [
    { resourceId: 'r-logo', contentUri: 'https://media.example.net/img/logo.png' },
    { resourceId: 'r-jingle', contentUri: 'https://media.example.net/tones/jingle.mp3' },
  ],
};

let peer: DrachtioPeer;
let app: DrachtioApp<DoublePorts>;

beforeAll(async () => {
  peer = await DrachtioPeer.start({ secret: PEER_SECRET });
  app = await startDrachtioApp(peer, doublePorts(() => PRESENTED));
});
afterAll(async () => {
  await app.close();
  await peer.close();
});
afterEach(() => {
  expect(app.front.liveCalls).toBe(0);
});

function callFromNetwork(headers: Array<[string, string]> = []): CallerLeg {
  return peer.call({
    from: `<sip:alice@ims.example.net>`,
    to: `<sip:+15551230002@ims.example.net;user=phone>`,
    headers: [['P-Asserted-Identity', `<${CALLER}>`], ...headers],
  });
}

/** Sets up a call to the point where both legs are confirmed. */
async function answeredCall(): Promise<{ a: CallerLeg; b: CalleeLeg }> {
  const a = callFromNetwork();
  const b = await peer.nextCallee();
  b.respond(180);
  await a.response(180);
  b.respond(200);
  await b.nextRequest('ACK');
  await a.response(200);
  a.ack();
  return { a, b };
}

describe('drachtio front: call setup and release', () => {
  it('announces what is presented: Alert-Info on the B-leg INVITE, Alert-Info and Recv-Info on 18x, Recv-Info on 200', async () => {
    const a = callFromNetwork();

    const b = await peer.nextCallee();
    expect(b.invite.uri).toBe('sip:+15551230002@ims.example.net;user=phone');
    expect(b.invite.values('alert-info')).toEqual([
      '<https://media.example.net/img/logo.png>;resource=r-logo',
      '<https://media.example.net/tones/jingle.mp3>;resource=r-jingle',
    ]);
    expect(b.invite.uriOf('from')).toBe('sip:alice@ims.example.net');
    expect(b.invite.tag('from')).not.toBe(a.fromTag);
    expect(b.invite.uriOf('to')).toBe('sip:+15551230002@ims.example.net;user=phone');
    expect(b.invite.header('p-asserted-identity')).toBe(`<${CALLER}>`);
    expect(b.invite.callId).not.toBe(a.callId);
    expect(b.invite.body).toBe(a.invite.body);
    expect(app.ports.calls.started).toEqual([{ callId: a.callId, fromTag: a.fromTag, caller: CALLER, called: CALLED }]);

    b.respond(180);
    const ringing = await a.response(180);
    expect(ringing.values('alert-info')).toEqual(['<https://media.example.net/tones/summer.mp3>;resource=r-summer']);
    expect(ringing.values('recv-info')).toEqual(['cmr-copy']);
    expect(ringing.callId).toBe(a.callId);
    expect(ringing.tag('from')).toBe(a.fromTag);

    const answer = sdp('127.0.0.3', 50000);
    b.respond(200, { body: answer });
    const ackToB = await b.nextRequest('ACK');
    expect(ackToB.uri).toBe('sip:ua@127.0.0.3:5080');
    const ok = await a.response(200);
    expect(ok.values('recv-info')).toEqual(['cmr-copy']);
    expect(ok.values('alert-info')).toEqual([]);
    expect(ok.body).toBe(answer);
    expect(ok.tag('to')).toBe(ringing.tag('to'));
    a.ack();
    await until(() => app.ports.calls.answered.includes(a.callId), 'the call is answered');

    const bye = a.request('BYE');
    const byeToB = await b.nextRequest('BYE');
    expect(byeToB.callId).toBe(b.invite.callId);
    b.reply(byeToB, 200);
    expect((await bye.response()).status).toBe(200);
    await until(() => app.ports.calls.ended.some((e) => e.callId === a.callId), 'the call ends');
    expect(app.ports.calls.ended).toContainEqual({ callId: a.callId, reason: 'bye' });
  });

  it('hangs up the caller when the called party sends BYE', async () => {
    const { a, b } = await answeredCall();
    const bye = b.request('BYE');
    const byeToA = await a.nextRequest('BYE');
    expect(byeToA.tag('to')).toBe(a.fromTag);
    a.reply(byeToA, 200);
    expect((await bye.response()).status).toBe(200);
    await until(() => app.ports.calls.ended.some((e) => e.callId === a.callId), 'the call ends');
    expect(app.ports.calls.ended).toContainEqual({ callId: a.callId, reason: 'bye' });
  });

  it('relays CANCEL to the called party and ends the call as cancelled', async () => {
    const a = callFromNetwork();
    const b = await peer.nextCallee();
    b.respond(180);
    await a.response(180);

    a.cancel();
    const cancel = await b.nextRequest('CANCEL');
    expect(cancel.callId).toBe(b.invite.callId);
    expect(cancel.cseq).toEqual({ seq: 1, method: 'CANCEL' });
    expect((await a.response(487)).status).toBe(487);
    b.respond(487);
    await until(() => app.ports.calls.ended.some((e) => e.callId === a.callId), 'the call ends');
    expect(app.ports.calls.ended).toContainEqual({ callId: a.callId, reason: 'cancel' });
    expect(app.ports.calls.answered).not.toContain(a.callId);
  });

  it('relays a 486 from the called party and ends the call as failed', async () => {
    const a = callFromNetwork();
    const b = await peer.nextCallee();
    b.respond(486);
    const busy = await a.response(486);
    expect(busy.values('alert-info')).toEqual([]);
    expect(busy.values('recv-info')).toEqual([]);
    await b.nextRequest('ACK');
    await until(() => app.ports.calls.ended.some((e) => e.callId === a.callId), 'the call ends');
    expect(app.ports.calls.ended).toContainEqual({ callId: a.callId, reason: 'failure' });
  });
});
