/**
 * Calls between two new subscribers through the drachtio front and a scripted drachtio-server:
 * ringing, answered and hung up, as the SIP tests of that front set them up.
 */
import { expect } from 'vitest';
import { expectEndedAfterAnswer, newParties, numberOf, sessionWhen, type Parties } from './call-outcomes.js';
import { HANDSET } from './copy-fixtures.js';
import type { RunningDrachtioApp } from './drachtio-app.js';
import type { CalleeLeg, CallerLeg, CallOptions, DrachtioPeer } from './drachtio-peer.js';
import type { SipMessage } from './raw-sip.js';

export interface DrachtioCall {
  parties: Parties;
  /** The caller's leg (A). */
  a: CallerLeg;
  /** The called party's leg (B). */
  b: CalleeLeg;
}

/**
 * A call placed: the B-leg INVITE has reached the called party, which has not answered yet.
 * `caller` adds to the caller's INVITE (more headers, the transport it pretends to come on).
 */
export async function placedCall(peer: DrachtioPeer, app: RunningDrachtioApp, caller: Pick<CallOptions, 'headers' | 'transport'> = {}): Promise<DrachtioCall> {
  const parties = await newParties(app.ctx);
  const a = peer.call({
    from: `<sip:${numberOf(parties.caller)}@ims.example.net;user=phone>`,
    to: `<sip:${numberOf(parties.called)}@ims.example.net;user=phone>`,
    headers: [['P-Asserted-Identity', `<${parties.caller}>`], ...(caller.headers ?? [])],
    connection: await app.callConnection(),
    ...(caller.transport ? { transport: caller.transport } : {}),
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

/** The called party answers; resolves with the caller's 200 once the core has recorded the answer. */
export async function answerCall(app: RunningDrachtioApp, { a, b }: DrachtioCall): Promise<SipMessage> {
  b.respond(200);
  await b.nextRequest('ACK');
  const ok = await a.response(200);
  a.ack();
  await sessionWhen(app.ctx, a.callId, 'confirmed');
  return ok;
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

/** The headers of a JSON copy request (contract §3.2). */
export const COPY_HEADERS: Array<[string, string]> = [
  ['Info-Package', 'cmr-copy'],
  ['Content-Type', 'application/vnd.cmr.copy+json'],
];

/** The caller's copy request of contract §3.2 for the call's parties, with the caller's asserted identity. */
export function callerCopyRequest({ parties }: Pick<DrachtioCall, 'parties'>): { headers: Array<[string, string]>; body: string } {
  return {
    headers: [...COPY_HEADERS, ['P-Asserted-Identity', `<${parties.caller}>`]],
    body: JSON.stringify({ caller: parties.caller, called: parties.called, client: HANDSET }),
  };
}
