/**
 * INFO through the drachtio front, with the real presentation, copy and charging services behind
 * it: copy requests are answered by the copy service (confirmed dialog, early dialog, on another
 * instance, DTMF) and land in the requestor's library with one charge; everything else is relayed
 * to the other leg.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCalledCopied, expectCallerCopied, expectNothingCopied } from '../../support/call-outcomes.js';
import { HANDSET, seedCopyCatalog } from '../../support/copy-fixtures.js';
import { PEER_SECRET, sipMessagesCounted, startDrachtioApp, until, type DrachtioApp } from '../../support/drachtio-app.js';
import { answerCall, answeredCall, COPY_HEADERS, hangUp, placedCall, ringingCall, type DrachtioCall } from '../../support/drachtio-calls.js';
import { DrachtioPeer } from '../../support/drachtio-peer.js';
import { sdp, type SipMessage } from '../../support/raw-sip.js';

const DTMF: Array<[string, string]> = [['Content-Type', 'application/dtmf-relay']];
const SUPPORTS_100REL: Array<[string, string]> = [['Supported', '100rel']];

let peer: DrachtioPeer;
let app: DrachtioApp;
/** A second instance on the same drachtio-server and the same Redis. */
let other: DrachtioApp;

beforeAll(async () => {
  peer = await DrachtioPeer.start({ secret: PEER_SECRET });
  app = await startDrachtioApp(peer);
  other = await startDrachtioApp(peer, { env: { CMR_REDIS_NAMESPACE: app.ctx.config.redis.namespace } });
  await seedCopyCatalog(app.ctx.services);
});
afterAll(async () => {
  await other.close();
  await app.close();
  await peer.close();
});

type Call = DrachtioCall;

/**
 * A request the app placed in the called party's early dialog: the B leg's Call-ID and the app's
 * From tag, the tag of the called party's 18x, its Contact as Request-URI, and a CSeq of that
 * dialog (past the INVITE's and the PRACK's).
 */
function expectInCalledPartyEarlyDialog({ b }: Call, request: SipMessage): void {
  expect(request.callId).toBe(b.invite.callId);
  expect(request.tag('from')).toBe(b.invite.tag('from'));
  expect(request.tag('to')).toBe(b.ownTag);
  expect(request.uri).toBe('sip:ua@127.0.0.3:5080');
  expect(request.cseq.method).toBe('INFO');
  expect(request.cseq.seq).toBeGreaterThan(b.invite.cseq.seq + 1);
}

/** The JSON copy request of contract §3.2 for the call's parties. */
function copyBody({ parties }: Call): string {
  return JSON.stringify({ caller: parties.caller, called: parties.called, client: HANDSET });
}

/** The caller's asserted identity, as its P-CSCF puts it on every request. */
function asserted({ parties }: Call): Array<[string, string]> {
  return [['P-Asserted-Identity', `<${parties.caller}>`]];
}

describe('drachtio front: INFO', () => {
  it('answers a copy request in the confirmed dialog through the copy service, without bothering the other party', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    const info = a.request('INFO', { headers: [...COPY_HEADERS, ...asserted(call)], body: copyBody(call) });
    const answer = await info.response();
    expect(answer.status).toBe(200);
    expect(answer.header('content-type')).toBe('application/vnd.cmr.copy-result+json');
    expect(answer.callId).toBe(a.callId);
    expect(answer.cseq).toEqual(info.message.cseq);
    const entry = await expectCallerCopied(app.ctx, call.parties);
    expect(JSON.parse(answer.body)).toEqual({
      result: 'copied',
      entries: [{ resourceId: entry.resourceId, libraryEntryId: entry.id, expiresAt: entry.expiresAt }],
      charge: { id: entry.chargeId, amount: 99, currency: 'EUR' },
    });

    expect(b.pending).toEqual([]);
    await hangUp(app, call);
  });

  it('answers a copy request from the called party under the caller-leg Call-ID', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    const info = b.request('INFO', { headers: COPY_HEADERS, body: copyBody(call) });
    expect(info.message.callId).not.toBe(a.callId);
    const answer = await info.response();
    expect(answer.status).toBe(200);
    const entry = await expectCalledCopied(app.ctx, call.parties);
    expect(JSON.parse(answer.body)).toMatchObject({ result: 'copied', entries: [{ resourceId: entry.resourceId, libraryEntryId: entry.id }], charge: { amount: 50 } });
    expect(a.pending).toEqual([]);
    await hangUp(app, call);
  });

  it('applies no early copy that drachtio-server answered 500 itself (no PRACKed reliable 18x), on whichever instance it lands', async () => {
    const call = await ringingCall(peer, app); // a caller without 100rel: its 180 is unreliable
    const { a } = call;

    for (const connection of [app.connection, other.connection]) {
      const copy = a.request('INFO', { headers: [...COPY_HEADERS, ...asserted(call)], body: copyBody(call), connection });
      const refused = await copy.response();
      expect(refused.status).toBe(500);
      expect(refused.header('warning')).toBeUndefined();
    }
    // The instances got the INFO, found they could not answer, and applied nothing.
    await until(async () => (await sipMessagesCounted(app, 'info-unanswerable')) + (await sipMessagesCounted(other, 'info-unanswerable')) === 2, 'both instances gave up on the INFO');
    await expectNothingCopied(app.ctx, call.parties);

    await answerCall(app, call);
    await hangUp(app, call);
  });

  it('relays ordinary INFOs the caller sends while ringing into the early dialog of the called party\'s reliable 18x, and the answers back', async () => {
    const call = await placedCall(peer, app, { headers: SUPPORTS_100REL });
    const { parties, a, b } = call;
    // Early media, sent reliably (RFC 3262): drachtio-server keeps that early dialog for the app.
    b.respond(183, { headers: [['Require', '100rel'], ['RSeq', '1']], body: sdp(b.address, 50010) });
    b.reply(await b.nextRequest('PRACK'), 200);
    expect((await a.prack(await a.response(183)).response()).status).toBe(200);

    const info = a.request('INFO', { headers: [['Content-Type', 'application/x-acme+json'], ['X-Acme-Trace', 'ring-1']], body: '{"ring":true}' });
    const atCalled = await b.nextRequest('INFO');
    expectInCalledPartyEarlyDialog(call, atCalled);
    expect(atCalled.header('x-acme-trace')).toBe('ring-1');
    expect(atCalled.header('content-type')).toBe('application/x-acme+json');
    expect(atCalled.body).toBe('{"ring":true}');
    b.reply(atCalled, 415, { headers: [['Accept', 'application/x-acme-v2+json']] });
    const answer = await info.response();
    expect(answer.status).toBe(415);
    expect(answer.header('accept')).toBe('application/x-acme-v2+json');
    expect(answer.callId).toBe(a.callId);

    const dtmf = a.request('INFO', { headers: DTMF, body: 'Signal=5\r\nDuration=160\r\n' });
    const dtmfAtCalled = await b.nextRequest('INFO');
    expectInCalledPartyEarlyDialog(call, dtmfAtCalled);
    expect(dtmfAtCalled.cseq.seq).toBeGreaterThan(atCalled.cseq.seq);
    expect(dtmfAtCalled.body).toBe('Signal=5\r\nDuration=160\r\n');
    b.reply(dtmfAtCalled, 200);
    expect((await dtmf.response()).status).toBe(200);

    await answerCall(app, call);
    await expectNothingCopied(app.ctx, parties);
    await hangUp(app, call);
  });

  it('refuses an ordinary INFO with 469 naming cmr-copy while there is no early dialog to pass it on in', async () => {
    const call = await placedCall(peer, app, { headers: SUPPORTS_100REL });
    const { a, b } = call;
    b.respond(100);

    const refused = await a.request('INFO', { headers: DTMF, body: 'Signal=5\r\n' }).response();
    expect(refused.status).toBe(469);
    expect(refused.values('recv-info')).toEqual(['cmr-copy']);
    expect(refused.header('warning')).toMatch(/^399 \S+ ".+"$/);
    expect(b.pending).toEqual([]);

    // An unreliable 180 of the called party leaves no early dialog drachtio-server would send in.
    b.respond(180);
    expect((await a.prack(await a.response(180)).response()).status).toBe(200);
    expect((await a.request('INFO', { headers: DTMF, body: 'Signal=6\r\n' }).response()).status).toBe(469);
    // The called party's own INFO while it rings is not sent back to it, nor into the caller's early dialog.
    const fromCalled = await b.request('INFO', { headers: DTMF, body: 'Signal=7\r\n' }).response();
    expect(fromCalled.status).toBe(469);
    expect(a.pending).toEqual([]);
    expect(b.pending).toEqual([]);

    await answerCall(app, call);
    await hangUp(app, call);
  });

  it('refuses an INFO that is not a copy request for a call no instance knows with 481', async () => {
    const stray = peer.ua({ from: '<sip:mallory@example.org>', to: `<sip:nobody@example.org>`, connection: app.connection });
    const info = stray.request('INFO', { headers: DTMF, body: 'Signal=1\r\n', connection: other.connection });
    const answer = await info.response();
    expect(answer.status).toBe(481);
    expect(answer.header('warning')).toMatch(/^399 \S+ ".+"$/);
  });

  it('refuses a copy request for a call no instance knows with 404 and a Warning', async () => {
    const stray = peer.ua({ from: '<sip:mallory@example.org>', to: `<sip:nobody@example.org>`, connection: app.connection });
    const body = JSON.stringify({ caller: 'sip:mallory@example.org', called: 'sip:nobody@example.org', client: HANDSET });
    const answer = await stray.request('INFO', { headers: COPY_HEADERS, body, connection: other.connection }).response();
    expect(answer.status).toBe(404);
    expect(answer.header('warning')).toMatch(/^399 \S+ ".+"$/);
  });

  it('answers DTMF with the copy key as a copy request and relays other digits to the other party', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    const star = await a.request('INFO', { headers: DTMF, body: 'Signal=*\r\nDuration=160\r\n' }).response();
    expect(star.status).toBe(200);
    expect(JSON.parse(star.body)).toMatchObject({ result: 'copied', charge: { amount: 99 } });
    await expectCallerCopied(app.ctx, call.parties);
    expect(b.pending).toEqual([]);

    const five = a.request('INFO', { headers: DTMF, body: 'Signal=5\r\nDuration=160\r\n' });
    const relayed = await b.nextRequest('INFO');
    expect(relayed.header('content-type')).toBe('application/dtmf-relay');
    expect(relayed.body).toBe('Signal=5\r\nDuration=160\r\n');
    b.reply(relayed, 200);
    expect((await five.response()).status).toBe(200);
    await hangUp(app, call);
  });

  it('relays an INFO that is not a copy request to the other party unchanged, and its response back', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    // A legacy INFO (no Info-Package) of some other application: the server has no say in it.
    const info = a.request('INFO', {
      headers: [
        ['Content-Type', 'application/x-acme+json'],
        ['X-Acme-Trace', 'abc-123'],
      ],
      body: '{"mood":"happy"}',
    });
    const relayed = await b.nextRequest('INFO');
    expect(relayed.callId).toBe(b.invite.callId);
    expect(relayed.uri).toBe('sip:ua@127.0.0.3:5080');
    expect(relayed.header('info-package')).toBeUndefined();
    expect(relayed.header('content-type')).toBe('application/x-acme+json');
    expect(relayed.header('x-acme-trace')).toBe('abc-123');
    expect(relayed.body).toBe('{"mood":"happy"}');
    b.reply(relayed, 200, { headers: [['Content-Type', 'application/x-acme+json']], body: '{"seen":true}' });

    const answer = await info.response();
    expect(answer.status).toBe(200);
    expect(answer.header('content-type')).toBe('application/x-acme+json');
    expect(answer.body).toBe('{"seen":true}');
    expect(answer.callId).toBe(a.callId);

    const back = b.request('INFO', { headers: [['Content-Type', 'text/plain']], body: 'hello caller' });
    const towardA = await a.nextRequest('INFO');
    expect(towardA.body).toBe('hello caller');
    expect(towardA.tag('to')).toBe(a.fromTag);
    a.reply(towardA, 415, { headers: [['Accept', 'application/x-acme+json']] });
    const refused = await back.response();
    expect(refused.status).toBe(415);
    expect(refused.header('accept')).toBe('application/x-acme+json');
    await expectNothingCopied(app.ctx, call.parties);
    await hangUp(app, call);
  });

  it('refuses an INFO of an unknown Info-Package with 469 naming cmr-copy, like every refused copy request', async () => {
    const call = await answeredCall(peer, app);
    const { a, b } = call;

    const unknown = await a.request('INFO', { headers: [['Info-Package', 'x-acme-presence'], ['Content-Type', 'application/x-acme+json']], body: '{}' }).response();
    expect(unknown.status).toBe(469);
    expect(unknown.values('recv-info')).toEqual(['cmr-copy']);
    const wrongType = await a.request('INFO', { headers: [['Info-Package', 'cmr-copy'], ['Content-Type', 'text/plain']], body: 'copy please' }).response();
    expect(wrongType.status).toBe(415);
    expect(wrongType.header('accept')).toBe('application/vnd.cmr.copy+json');
    const stranger = await a.request('INFO', { headers: [...COPY_HEADERS, ['P-Asserted-Identity', '<tel:+15559990000>']], body: copyBody(call) }).response();
    expect(stranger.status).toBe(403);
    expect(stranger.header('warning')).toMatch(/^399 \S+ ".+"$/);
    expect(b.pending).toEqual([]);
    await expectNothingCopied(app.ctx, call.parties);
    await hangUp(app, call);
  });
});
