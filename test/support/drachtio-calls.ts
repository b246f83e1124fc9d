/**
 * Calls between two new subscribers through the drachtio front and a scripted drachtio-server:
 * ringing, answered and hung up, as the SIP tests of that front set them up.
 */
import { expect } from 'vitest';
import { expectEndedAfterAnswer, newParties, numberOf, sessionWhen, type Parties } from './call-outcomes.js';
import type { RunningDrachtioApp } from './drachtio-app.js';
import type { CalleeLeg, CallerLeg, DrachtioPeer } from './drachtio-peer.js';

export interface DrachtioCall {
  parties: Parties;
  /** The caller's leg (A). */
  a: CallerLeg;
  /** The called party's leg (B). */
  b: CalleeLeg;
}

/** A call placed: the B-leg INVITE has reached the called party, which has not answered yet. */
export async function placedCall(peer: DrachtioPeer, app: RunningDrachtioApp): Promise<DrachtioCall> {
  const parties = await newParties(app.ctx);
  const a = peer.call({
    from: `<sip:${numberOf(parties.caller)}@ims.example.net;user=phone>`,
    to: `<sip:${numberOf(parties.called)}@ims.example.net;user=phone>`,
    headers: [['P-Asserted-Identity', `<${parties.caller}>`]],
    connection: await app.callConnection(),
  });
  return { parties, a, b: await peer.nextCallee() };
}

/** A call ringing: the caller has its 180. */
export async function ringingCall(peer: DrachtioPeer, app: RunningDrachtioApp): Promise<DrachtioCall> {
  const call = await placedCall(peer, app);
  call.b.respond(180);
  await call.a.response(180);
  return call;
}

/** The called party answers; resolves once the core has recorded the answer. */
export async function answerCall(app: RunningDrachtioApp, { a, b }: DrachtioCall): Promise<void> {
  b.respond(200);
  await b.nextRequest('ACK');
  await a.response(200);
  a.ack();
  await sessionWhen(app.ctx, a.callId, 'confirmed');
}

export async function answeredCall(peer: DrachtioPeer, app: RunningDrachtioApp): Promise<DrachtioCall> {
  const call = await ringingCall(peer, app);
  await answerCall(app, call);
  return call;
}

/** The caller hangs up; resolves once the presenting session has ended. */
export async function hangUp(app: RunningDrachtioApp, { a, b }: DrachtioCall): Promise<void> {
  const bye = a.request('BYE');
  b.reply(await b.nextRequest('BYE'), 200);
  await bye.response();
  await expectEndedAfterAnswer(app.ctx, a.callId);
}

/**
 * Rings and answers a call the server announces nothing on: no Alert-Info toward either party,
 * yet copying is advertised on the 180 and the 200 (refusing a copy is the copy service's answer).
 */
export async function answerUnannounced({ a, b }: Pick<DrachtioCall, 'a' | 'b'>): Promise<void> {
  expect(b.invite.values('alert-info')).toEqual([]);
  b.respond(180);
  const ringing = await a.response(180);
  expect(ringing.values('alert-info')).toEqual([]);
  expect(ringing.values('recv-info')).toEqual(['cmr-copy']);
  b.respond(200);
  await b.nextRequest('ACK');
  expect((await a.response(200)).values('recv-info')).toEqual(['cmr-copy']);
  a.ack();
}
