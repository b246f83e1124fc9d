/**
 * The caller's UPDATE before the answer (RFC 3311; IMS preconditions) through the drachtio front:
 * into the called party's early dialog when drachtio-server keeps one (its reliable 18x), with
 * the called party's answer back; refused when an offer has nowhere to go.
 */
import { describe, expect, it } from 'vitest';
import { expectNothingCopied } from '../../support/call-outcomes.js';
import { drachtioSuite, startDrachtioApp, type DrachtioApp } from '../../support/drachtio-app.js';
import { answerCall, hangUp, placedCall } from '../../support/drachtio-calls.js';
import type { DrachtioPeer } from '../../support/drachtio-peer.js';
import { sdp } from '../../support/raw-sip.js';

let peer: DrachtioPeer;
let app: DrachtioApp;
drachtioSuite(startDrachtioApp, (started) => ({ peer, app } = started));

const SDP: Array<[string, string]> = [['Content-Type', 'application/sdp']];

describe('drachtio front: UPDATE in the early dialog', () => {
  it('passes the caller\'s UPDATE into the called party\'s early dialog and its answer back, before and after the caller\'s PRACK', async () => {
    const call = await placedCall(peer, app, { headers: [['Supported', '100rel, precondition']] });
    const { a, b } = call;
    b.respond(183, { headers: [['Require', '100rel'], ['RSeq', '1']], body: sdp(b.address, 50030) });
    b.reply(await b.nextRequest('PRACK'), 200);
    const progress = await a.response(183);

    for (const [step, port] of [['before the PRACK', 40030], ['after the PRACK', 40032]] as const) {
      if (step === 'after the PRACK') expect((await a.prack(progress).response()).status).toBe(200);
      const offer = sdp(a.address, port);
      const update = a.request('UPDATE', { headers: [...SDP, ['Contact', a.contact]], body: offer });
      const atB = await b.nextRequest('UPDATE');
      expect(atB.callId, step).toBe(b.invite.callId);
      expect(atB.tag('to'), step).toBe(b.ownTag);
      expect(atB.uri, step).toBe('sip:ua@127.0.0.3:5080');
      expect(atB.body, step).toBe(offer);
      expect(atB.headerAll('contact'), step).toEqual([b.invite.header('contact')]);
      const answer = sdp(b.address, port + 10000);
      b.reply(atB, 200, { headers: [...SDP, ['Contact', b.contact]], body: answer });
      const ok = await update.response();
      expect(ok.status, step).toBe(200);
      expect(ok.body, step).toBe(answer);
      expect(ok.headerAll('contact'), step).toEqual(['<sip:127.0.0.1:5060>']);
    }

    await answerCall(app, call);
    await expectNothingCopied(app.ctx, call.parties);
    await hangUp(app, call);
  });

  it('refuses an early UPDATE with an offer when the called party has no early dialog (unreliable 18x), and answers one without', async () => {
    const call = await placedCall(peer, app, { headers: [['Supported', '100rel']] });
    const { a, b } = call;
    b.respond(180);
    expect((await a.prack(await a.response(180)).response()).status).toBe(200);

    const refused = await a.request('UPDATE', { headers: [...SDP, ['Contact', a.contact]], body: sdp(a.address, 40034) }).response();
    expect(refused.status).toBe(488);
    expect(refused.header('warning')).toMatch(/^399 \S+ ".+"$/);
    const refresh = await a.request('UPDATE', { headers: [['Contact', a.contact]] }).response();
    expect(refresh.status).toBe(200);
    expect(refresh.headerAll('contact')).toEqual(['<sip:127.0.0.1:5060>']);
    expect(b.pending).toEqual([]);

    await answerCall(app, call);
    await hangUp(app, call);
  });
});
