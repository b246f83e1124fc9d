/**
 * The drachtio front driven by a scripted drachtio-server over drachtio's real wire protocol:
 * call setup, announcements, answer, release, CANCEL and failures, with the real presentation
 * service behind it. Assertions read the raw SIP the app put on the wire and the presenting
 * session the REST API shows.
 */
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import {
  expectEndedAfterAnswer,
  expectEndedUnanswered,
  newParties,
  numberOf,
  presentingSession,
  sessionWhen,
  TONES,
  type Parties,
} from '../../support/call-outcomes.js';
import { answerUnannounced } from '../../support/drachtio-calls.js';
import { HANDSET, newUser } from '../../support/copy-fixtures.js';
import { drachtioSuite, startDrachtioApp, type DrachtioApp } from '../../support/drachtio-app.js';
import type { CallerLeg, CalleeLeg, DrachtioPeer } from '../../support/drachtio-peer.js';
import { sdp } from '../../support/raw-sip.js';

const alertInfo = (tone: { resourceId: string; contentUri: string }) => `<${tone.contentUri}>;resource=${tone.resourceId}`;

let peer: DrachtioPeer;
let app: DrachtioApp;
drachtioSuite(startDrachtioApp, (started) => ({ peer, app } = started));

function callFromNetwork(parties: { caller: Identity; called: Identity }): CallerLeg {
  return peer.call({
    from: `<sip:alice@ims.example.net>`,
    to: `<sip:${numberOf(parties.called)}@ims.example.net;user=phone>`,
    headers: [['P-Asserted-Identity', `<${parties.caller}>`]],
  });
}

/** Sets up a call to the point where both legs are confirmed and the core has recorded the answer. */
async function answeredCall(parties: Parties): Promise<{ a: CallerLeg; b: CalleeLeg }> {
  const a = callFromNetwork(parties);
  const b = await peer.nextCallee();
  b.respond(180);
  await a.response(180);
  b.respond(200);
  await b.nextRequest('ACK');
  await a.response(200);
  a.ack();
  await sessionWhen(app.ctx, a.callId, 'confirmed');
  return { a, b };
}

describe('drachtio front: call setup and release', () => {
  it('announces what is presented: Alert-Info on the B-leg INVITE, Alert-Info and Recv-Info on 18x, Recv-Info on 200', async () => {
    const parties = await newParties(app.ctx);
    const a = callFromNetwork(parties);

    const b = await peer.nextCallee();
    const calledUri = `sip:${numberOf(parties.called)}@ims.example.net;user=phone`;
    expect(b.invite.uri).toBe(calledUri);
    expect(b.invite.values('alert-info')).toEqual([alertInfo(TONES.toCalled)]);
    expect(b.invite.uriOf('from')).toBe('sip:alice@ims.example.net');
    expect(b.invite.tag('from')).not.toBe(a.fromTag);
    expect(b.invite.uriOf('to')).toBe(calledUri);
    expect(b.invite.header('p-asserted-identity')).toBe(`<${parties.caller}>`);
    expect(b.invite.callId).not.toBe(a.callId);
    expect(b.invite.body).toBe(a.invite.body);
    // The presenting session is keyed by the caller's leg.
    expect(await presentingSession(app.ctx, a.callId)).toMatchObject({
      callId: a.callId,
      fromTag: a.fromTag,
      caller: parties.caller,
      called: parties.called,
      toCaller: [TONES.toCaller],
      toCalled: [TONES.toCalled],
      state: 'early',
    });

    b.respond(180);
    const ringing = await a.response(180);
    expect(ringing.values('alert-info')).toEqual([alertInfo(TONES.toCaller)]);
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
    await sessionWhen(app.ctx, a.callId, 'confirmed');

    const bye = a.request('BYE');
    const byeToB = await b.nextRequest('BYE');
    expect(byeToB.callId).toBe(b.invite.callId);
    b.reply(byeToB, 200);
    expect((await bye.response()).status).toBe(200);
    await expectEndedAfterAnswer(app.ctx, a.callId);
  });

  it('advertises copying on 18x and 200 even when nothing is presented to the caller, and answers the copy 404', async () => {
    // Two subscribers with no tones: nothing to announce, yet a copy request is the copy service's to refuse.
    const parties = { caller: newUser(), called: newUser() };
    const a = callFromNetwork(parties);
    const b = await peer.nextCallee();
    await answerUnannounced({ a, b });
    await sessionWhen(app.ctx, a.callId, 'confirmed');
    const copyBody = JSON.stringify({ caller: parties.caller, called: parties.called, client: HANDSET });
    const copy = a.request('INFO', {
      headers: [['Info-Package', 'cmr-copy'], ['Content-Type', 'application/vnd.cmr.copy+json'], ['P-Asserted-Identity', `<${parties.caller}>`]],
      body: copyBody,
    });
    const refused = await copy.response();
    expect(refused.status).toBe(404);
    expect(refused.header('warning')).toMatch(/^399 \S+ ".+"$/);
    expect(b.pending).toEqual([]);
    const bye = a.request('BYE');
    b.reply(await b.nextRequest('BYE'), 200);
    await bye.response();
    await expectEndedAfterAnswer(app.ctx, a.callId);
  });

  it('hangs up the caller when the called party sends BYE', async () => {
    const { a, b } = await answeredCall(await newParties(app.ctx));
    const bye = b.request('BYE');
    const byeToA = await a.nextRequest('BYE');
    expect(byeToA.tag('to')).toBe(a.fromTag);
    a.reply(byeToA, 200);
    expect((await bye.response()).status).toBe(200);
    await expectEndedAfterAnswer(app.ctx, a.callId);
  });

  it('relays CANCEL to the called party and ends the presenting session unanswered', async () => {
    const a = callFromNetwork(await newParties(app.ctx));
    const b = await peer.nextCallee();
    b.respond(180);
    await a.response(180);

    a.cancel();
    const cancel = await b.nextRequest('CANCEL');
    expect(cancel.callId).toBe(b.invite.callId);
    expect(cancel.cseq).toEqual({ seq: 1, method: 'CANCEL' });
    expect((await a.response(487)).status).toBe(487);
    b.respond(487);
    await expectEndedUnanswered(app.ctx, a.callId);
  });

  it('relays a 486 from the called party and ends the presenting session unanswered', async () => {
    const a = callFromNetwork(await newParties(app.ctx));
    const b = await peer.nextCallee();
    b.respond(486);
    const busy = await a.response(486);
    expect(busy.values('alert-info')).toEqual([]);
    expect(busy.values('recv-info')).toEqual([]);
    await b.nextRequest('ACK');
    await expectEndedUnanswered(app.ctx, a.callId);
  });
});
