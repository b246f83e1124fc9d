/**
 * Copy over SIP through the drachtio front with the real core ports (`services.calls` and
 * `services.sipCopy`) as the server entry wires them: a call presents the called party's tone to
 * the caller, and a copy INFO — early, or a DTMF key in the answered call — lands in the library.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import type { CorePorts } from '../../../src/signalling.js';
import { HANDSET, libraryOf, owning, seedCopyCatalog } from '../../support/copy-fixtures.js';
import { PEER_SECRET, startDrachtioApp, type DrachtioApp } from '../../support/drachtio-app.js';
import { DrachtioPeer, type CalleeLeg, type CallerLeg } from '../../support/drachtio-peer.js';

const CALLER = 'tel:+15557770001' as Identity;
const CALLED = 'tel:+15557770002' as Identity;
const COPY_HEADERS: Array<[string, string]> = [
  ['Info-Package', 'cmr-copy'],
  ['Content-Type', 'application/vnd.cmr.copy+json'],
  ['P-Asserted-Identity', `<${CALLER}>`],
];

let peer: DrachtioPeer;
let app: DrachtioApp<CorePorts>;

beforeAll(async () => {
  peer = await DrachtioPeer.start({ secret: PEER_SECRET });
  // A generous selection budget: these tests are about copying, not about failing open.
  app = await startDrachtioApp(peer, (services) => ({ calls: services.calls, copy: services.sipCopy }), { CMR_SELECT_BUDGET_MS: '5000' });
  await seedCopyCatalog(app.services);
  await owning(app.services, CALLED, ['r-song']);
  await owning(app.services, CALLER, ['r-tune']);
});
afterAll(async () => {
  await app.close();
  await peer.close();
});

async function ringingCall(): Promise<{ a: CallerLeg; b: CalleeLeg }> {
  const a = peer.call({
    from: '<sip:+15557770001@ims.example.net;user=phone>',
    to: '<sip:+15557770002@ims.example.net;user=phone>',
    headers: [['P-Asserted-Identity', `<${CALLER}>`]],
    connection: app.connection,
  });
  const b = await peer.nextCallee();
  b.respond(180);
  return { a, b };
}

async function hangUp({ a, b }: { a: CallerLeg; b: CalleeLeg }): Promise<void> {
  const bye = a.request('BYE');
  b.reply(await b.nextRequest('BYE'), 200);
  await bye.response();
}

describe('copy through the drachtio front', () => {
  it("copies the called party's tone into the caller's library from an INFO in the early dialog", async () => {
    const legs = await ringingCall();
    const { a, b } = legs;
    const ringing = await a.response(180);
    expect(ringing.header('alert-info')).toBe('<https://media.example.net/tones/r-song.mp3>;resource=r-song');

    const body = JSON.stringify({ caller: CALLER, called: CALLED, client: HANDSET });
    const answer = await a.request('INFO', { headers: COPY_HEADERS, body, early: true }).response();
    expect(answer.status).toBe(200);
    expect(answer.header('content-type')).toBe('application/vnd.cmr.copy-result+json');
    const [copied] = await libraryOf(app.services, CALLER).then((entries) => entries.filter((e) => e.origin === 'copy-online'));
    expect(copied).toMatchObject({ resourceId: 'r-song', from: CALLED });
    expect(JSON.parse(answer.body)).toEqual({
      result: 'copied',
      entries: [{ resourceId: 'r-song', libraryEntryId: copied!.id, expiresAt: copied!.expiresAt }],
      charge: { id: copied!.chargeId, amount: 99, currency: 'EUR' },
    });

    b.respond(200);
    await b.nextRequest('ACK');
    await a.response(200);
    a.ack();
    await hangUp(legs);
  });

  it("copies the caller's tone for the called party on its DTMF copy key in the answered call", async () => {
    const legs = await ringingCall();
    const { a, b } = legs;
    await a.response(180);
    b.respond(200);
    await b.nextRequest('ACK');
    await a.response(200);
    a.ack();

    const answer = await b.request('INFO', { headers: [['Content-Type', 'application/dtmf-relay']], body: 'Signal=*\r\nDuration=160\r\n' }).response();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ result: 'copied', entries: [{ resourceId: 'r-tune' }], charge: { amount: 50 } });
    expect((await libraryOf(app.services, CALLED)).filter((e) => e.origin === 'copy-online')).toEqual([expect.objectContaining({ resourceId: 'r-tune', from: CALLER })]);
    expect(a.pending).toEqual([]);
    await hangUp(legs);
  });
});
