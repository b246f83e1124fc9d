/**
 * INFO through the drachtio front: copy requests go to the copy port (confirmed dialog, early
 * dialog, on another instance, DTMF), everything else is relayed to the other leg.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallAnnotation } from '../../../src/calls/call-events.js';
import { doublePorts, type DoublePorts } from '../../support/call-port-doubles.js';
import { PEER_SECRET, startDrachtioApp, type DrachtioApp } from '../../support/drachtio-app.js';
import { DrachtioPeer, type CallerLeg, type CalleeLeg } from '../../support/drachtio-peer.js';

const CALLER = 'tel:+15551230001';
const CALLED = 'tel:+15551230002';
const PRESENTED: CallAnnotation = {
  toCaller: [{ resourceId: 'r-summer', contentUri: 'https://media.example.net/tones/summer.mp3' }],
  toCalled: [],
};
const COPY_BODY = JSON.stringify({ caller: CALLER, called: CALLED, client: { id: 'acme-handset', version: '2.1.0' } });
const COPY_HEADERS: Array<[string, string]> = [
  ['Info-Package', 'cmr-copy'],
  ['Content-Type', 'application/vnd.cmr.copy+json'],
];
/** The caller's identity as its P-CSCF asserts it on every request. */
const ASSERTED_CALLER: Array<[string, string]> = [['P-Asserted-Identity', `<${CALLER}>`]];
const COPY_RESULT = { result: 'copied', entries: [], charge: null };

let peer: DrachtioPeer;
let app: DrachtioApp<DoublePorts>;
/** A second instance on the same drachtio-server and the same Redis. */
let other: DrachtioApp<DoublePorts>;

beforeAll(async () => {
  peer = await DrachtioPeer.start({ secret: PEER_SECRET });
  app = await startDrachtioApp(peer, doublePorts(() => PRESENTED));
  other = await startDrachtioApp(peer, doublePorts(), { CMR_REDIS_NAMESPACE: app.config.redis.namespace });
});
afterAll(async () => {
  await other.close();
  await app.close();
  await peer.close();
});

function call(): CallerLeg {
  return peer.call({
    from: '<sip:alice@ims.example.net>',
    to: '<sip:+15551230002@ims.example.net;user=phone>',
    headers: [['P-Asserted-Identity', `<${CALLER}>`]],
    connection: app.connection,
  });
}

async function ringingCall(): Promise<{ a: CallerLeg; b: CalleeLeg }> {
  const a = call();
  const b = await peer.nextCallee();
  b.respond(180);
  await a.response(180);
  return { a, b };
}

async function answeredCall(): Promise<{ a: CallerLeg; b: CalleeLeg }> {
  const { a, b } = await ringingCall();
  b.respond(200);
  await b.nextRequest('ACK');
  await a.response(200);
  a.ack();
  return { a, b };
}

async function hangUp({ a, b }: { a: CallerLeg; b: CalleeLeg }): Promise<void> {
  const bye = a.request('BYE');
  b.reply(await b.nextRequest('BYE'), 200);
  await bye.response();
}

describe('drachtio front: INFO', () => {
  it('answers a copy request in the confirmed dialog from the copy port, without bothering the other party', async () => {
    const legs = await answeredCall();
    const { a, b } = legs;

    const info = a.request('INFO', { headers: [...COPY_HEADERS, ...ASSERTED_CALLER], body: COPY_BODY });
    const answer = await info.response();
    expect(answer.status).toBe(200);
    expect(answer.header('content-type')).toBe('application/vnd.cmr.copy-result+json');
    expect(JSON.parse(answer.body)).toEqual(COPY_RESULT);
    expect(answer.callId).toBe(a.callId);
    expect(answer.cseq).toEqual(info.message.cseq);
    expect(app.ports.copy.received.at(-1)).toEqual({
      callId: a.callId,
      dialogFromTag: a.fromTag,
      fromTag: a.fromTag,
      cseq: info.message.cseq.seq,
      requestor: CALLER,
      infoPackage: 'cmr-copy',
      contentType: 'application/vnd.cmr.copy+json',
      body: COPY_BODY,
      source: '127.0.0.2:5070',
    });
    expect(b.pending).toEqual([]);
    await hangUp(legs);
  });

  it('hands a copy request from the called party to the copy port under the caller-leg Call-ID', async () => {
    const legs = await answeredCall();
    const { a, b } = legs;

    const info = b.request('INFO', { headers: COPY_HEADERS, body: COPY_BODY });
    expect((await info.response()).status).toBe(200);
    expect(app.ports.copy.received.at(-1)).toMatchObject({
      callId: a.callId,
      dialogFromTag: a.fromTag,
      fromTag: info.message.tag('from'),
      requestor: CALLED,
      infoPackage: 'cmr-copy',
    });
    expect(info.message.tag('from')).not.toBe(a.fromTag);
    expect(a.pending).toEqual([]);
    await hangUp(legs);
  });

  it('answers a copy request sent in the early dialog (it reaches the app outside any dialog)', async () => {
    const legs = await ringingCall();
    const { a, b } = legs;

    const info = a.request('INFO', { headers: [...COPY_HEADERS, ...ASSERTED_CALLER], body: COPY_BODY, early: true });
    const answer = await info.response();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual(COPY_RESULT);
    expect(app.ports.copy.received.at(-1)).toMatchObject({ callId: a.callId, dialogFromTag: a.fromTag, fromTag: a.fromTag, requestor: CALLER });

    b.respond(200);
    await b.nextRequest('ACK');
    await a.response(200);
    a.ack();
    await hangUp(legs);
  });

  it('answers an early copy request that drachtio-server routed to another instance, finding the call in Redis', async () => {
    const legs = await ringingCall();
    const { a, b } = legs;

    const copy = a.request('INFO', { headers: [...COPY_HEADERS, ...ASSERTED_CALLER], body: COPY_BODY, early: true, connection: other.connection });
    expect((await copy.response()).status).toBe(200);
    expect(other.ports.copy.received.at(-1)).toMatchObject({ callId: a.callId, dialogFromTag: a.fromTag, fromTag: a.fromTag, requestor: CALLER });

    const dtmf = a.request('INFO', { headers: [['Content-Type', 'application/dtmf-relay']], body: 'Signal=5\r\nDuration=160\r\n', early: true, connection: other.connection });
    const refused = await dtmf.response();
    expect(refused.status).toBe(469);
    expect(refused.values('recv-info')).toEqual(['cmr-copy']);
    expect(refused.header('warning')).toMatch(/^399 \S+ ".+"$/);

    b.respond(200);
    await b.nextRequest('ACK');
    await a.response(200);
    a.ack();
    await hangUp(legs);
  });

  it('refuses an INFO that is not a copy request for a call no instance knows with 481', async () => {
    const stray = peer.ua({ from: '<sip:mallory@example.org>', to: `<sip:nobody@example.org>`, connection: app.connection });
    const info = stray.request('INFO', { headers: [['Content-Type', 'application/dtmf-relay']], body: 'Signal=1\r\n', early: true, connection: other.connection });
    const answer = await info.response();
    expect(answer.status).toBe(481);
    expect(answer.header('warning')).toMatch(/^399 \S+ ".+"$/);
    expect(other.ports.copy.received.at(-1)).toMatchObject({ callId: stray.callId, dialogFromTag: null, requestor: 'sip:mallory@example.org' });
  });

  it('answers DTMF with the copy key as a copy request and relays other digits to the other party', async () => {
    const legs = await answeredCall();
    const { a, b } = legs;

    const star = a.request('INFO', { headers: [['Content-Type', 'application/dtmf-relay']], body: 'Signal=*\r\nDuration=160\r\n' });
    expect((await star.response()).status).toBe(200);
    expect(app.ports.copy.received.at(-1)).toMatchObject({ contentType: 'application/dtmf-relay', infoPackage: null, body: 'Signal=*\r\nDuration=160\r\n' });
    expect(b.pending).toEqual([]);

    const five = a.request('INFO', { headers: [['Content-Type', 'application/dtmf-relay']], body: 'Signal=5\r\nDuration=160\r\n' });
    const relayed = await b.nextRequest('INFO');
    expect(relayed.header('content-type')).toBe('application/dtmf-relay');
    expect(relayed.body).toBe('Signal=5\r\nDuration=160\r\n');
    b.reply(relayed, 200);
    expect((await five.response()).status).toBe(200);
    await hangUp(legs);
  });

  it('relays an INFO that is not a copy request to the other party unchanged, and its response back', async () => {
    const legs = await answeredCall();
    const { a, b } = legs;

    const info = a.request('INFO', {
      headers: [
        ['Info-Package', 'x-acme-presence'],
        ['Content-Type', 'application/x-acme+json'],
        ['X-Acme-Trace', 'abc-123'],
      ],
      body: '{"mood":"happy"}',
    });
    const relayed = await b.nextRequest('INFO');
    expect(relayed.callId).toBe(b.invite.callId);
    expect(relayed.uri).toBe('sip:ua@127.0.0.3:5080');
    expect(relayed.header('info-package')).toBe('x-acme-presence');
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
    await hangUp(legs);
  });
});
