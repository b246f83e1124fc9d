/**
 * Who the drachtio front says is calling whom (trusted peers only may assert identities), and
 * where it sends the B-leg INVITE (remaining Route, outbound proxy, or the Request-URI).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import { presentingSession, TONES } from '../../support/call-outcomes.js';
import { owning, seedCopyCatalog } from '../../support/copy-fixtures.js';
import { PEER_SECRET, startDrachtioApp, until, type DrachtioApp } from '../../support/drachtio-app.js';
import { DrachtioPeer, type CallOptions } from '../../support/drachtio-peer.js';

const OUTBOUND_PROXY = 'sip:proxy.ims.example.net:5070;lr';
/** The caller of the next-hop tests (by its From), who presents a tone to whomever it calls. */
const ALICE = 'sip:alice@ims.example.net' as Identity;

let peer: DrachtioPeer;
let app: DrachtioApp;

beforeAll(async () => {
  peer = await DrachtioPeer.start({ secret: PEER_SECRET });
  app = await startDrachtioApp(peer, { env: { CMR_SIP_OUTBOUND_PROXY: OUTBOUND_PROXY, CMR_SIP_TRUSTED: '127.0.0.0/8', CMR_SIP_ACCESS: '192.0.2.0/24' } });
  await seedCopyCatalog(app.ctx.services);
  await owning(app.ctx.services, ALICE, [TONES.toCalled.resourceId]);
});
afterAll(async () => {
  await app.close();
  await peer.close();
});
afterEach(() => {
  expect(app.front.liveCalls).toBe(0);
});

/** Places a call, lets the called party refuse it, and returns what the app sent and the presenting session it recorded. */
async function attempt(options: Omit<CallOptions, 'connection'>) {
  const a = peer.call({ ...options, connection: app.connection });
  const b = await peer.nextCallee();
  b.respond(480);
  await a.response(480);
  await until(() => app.front.liveCalls === 0, 'the attempt ends');
  return { a, b, session: await presentingSession(app.ctx, a.callId) };
}

describe('drachtio front: identities', () => {
  const asserted: Array<[string, string]> = [
    ['P-Asserted-Identity', '"Alice" <sip:+15551230001@ims.example.net;user=phone>, <tel:+15551230001>'],
    ['P-Served-User', '<sip:+15551230009@ims.example.net;user=phone>;sescase=term;regstate=reg'],
  ];

  it('takes the caller from P-Asserted-Identity and the called party from P-Served-User when the peer is trusted', async () => {
    const { session } = await attempt({ from: '<sip:alice@ims.example.net>', to: '<sip:+15551230002@ims.example.net;user=phone>', headers: asserted });
    expect(session).toMatchObject({ caller: 'tel:+15551230001', called: 'tel:+15551230009' });
  });

  it('ignores asserted identities from an untrusted peer: From and the Request-URI count', async () => {
    const { a, session } = await attempt({
      from: '"Mallory" <sip:Mallory@Example.ORG:5060;transport=tcp>',
      to: '<sip:+15551230002@ims.example.net;user=phone>',
      headers: asserted,
      source: { address: '192.0.2.10', port: 5060 },
    });
    expect(session).toMatchObject({ callId: a.callId, fromTag: a.fromTag, caller: 'sip:Mallory@example.org', called: 'tel:+15551230002' });
  });

  it('passes asserted identities on to the called party only from a trusted peer', async () => {
    const trusted = await attempt({ from: '<sip:alice@ims.example.net>', to: '<sip:+15551230002@ims.example.net;user=phone>', headers: asserted });
    expect(trusted.b.invite.values('p-asserted-identity')).toEqual(['"Alice" <sip:+15551230001@ims.example.net;user=phone>', '<tel:+15551230001>']);
    expect(trusted.b.invite.values('p-served-user')).toHaveLength(1);

    const untrusted = await attempt({
      from: '<sip:mallory@example.org>',
      to: '<sip:+15551230002@ims.example.net;user=phone>',
      headers: asserted,
      source: { address: '192.0.2.10', port: 5060 },
    });
    expect(untrusted.b.invite.values('p-asserted-identity')).toEqual([]);
    expect(untrusted.b.invite.values('p-served-user')).toEqual([]);
  });

  it('answers an INVITE inside a dialog it does not know with 481', async () => {
    const { a } = await attempt({ from: '<sip:alice@ims.example.net>', to: '<sip:+15551230002@ims.example.net;user=phone>' });
    const reinvite = a.request('INVITE', { headers: [['Content-Type', 'application/sdp']], body: a.invite.body });
    expect(reinvite.message.tag('to')).toBeDefined();
    expect((await reinvite.response()).status).toBe(481);
  });

  it('forwards a call whose parties cannot be identified, unannotated and without telling the core', async () => {
    const { b, session } = await attempt({ from: '<sip:alice@ims.example.net>', to: '<sip:voicemail.example.net>' });
    expect(session).toBeNull();
    expect(b.invite.uri).toBe('sip:voicemail.example.net');
    expect(b.invite.values('alert-info')).toEqual([]);
  });
});

describe('drachtio front: who may use the server', () => {
  it("refuses a stranger's INVITE with 403 and a Warning, and sets up no B leg", async () => {
    const stranger = peer.call({ from: '<sip:mallory@example.org>', to: '<sip:+15551230002@ims.example.net;user=phone>', source: { address: '198.51.100.7', port: 5060 }, connection: app.connection });
    const refusal = await stranger.response(403);
    expect(refusal.values('warning')).toEqual(['399 127.0.0.1 "initial requests are taken only from the S-CSCFs and access peers of this server"']);
    expect(await presentingSession(app.ctx, stranger.callId)).toBeNull();
    // The next B leg the app sets up is that of the call that follows: the stranger's never left.
    const { a, b } = await attempt({ from: '<sip:alice@ims.example.net>', to: '<sip:+15551230002@ims.example.net;user=phone>' });
    expect(b.invite.values('from')[0]).toContain('alice@ims.example.net');
    expect(a.callId).not.toBe(stranger.callId);
  });
});

describe('drachtio front: next hop', () => {
  it('sends the INVITE to the next hop of the remaining Route (IMS), Request-URI unchanged', async () => {
    const { b } = await attempt({
      from: '<sip:alice@ims.example.net>',
      to: '<sip:+15551230002@ims.example.net;user=phone>',
      headers: [['Route', '<sip:127.0.0.1:5060;lr>, <sip:scscf.ims.example.net:6060;lr;odi=as-7f3>']],
    });
    expect(b.proxy).toBe('sip:scscf.ims.example.net:6060;lr;odi=as-7f3');
    // drachtio-server 0.9 writes no Route header an app gives (`m_setImmutableHdrs`): only the next hop survives.
    expect(b.invite.values('route')).toEqual([]);
    expect(b.invite.uri).toBe('sip:+15551230002@ims.example.net;user=phone');
    expect(b.invite.values('alert-info')).toEqual([`<${TONES.toCalled.contentUri}>;resource=${TONES.toCalled.resourceId}`]);
  });

  it('sends the INVITE through the outbound proxy when no Route remains', async () => {
    const { b } = await attempt({
      from: '<sip:alice@ims.example.net>',
      to: '<sip:+15551230002@ims.example.net;user=phone>',
      headers: [['Route', '<sip:127.0.0.1;lr>']],
    });
    expect(b.proxy).toBe(OUTBOUND_PROXY);
    expect(b.invite.values('route')).toEqual([]);
  });
});
