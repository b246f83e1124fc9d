/**
 * The drachtio front in outbound mode: the app listens and the scripted drachtio-server connects
 * to it for each call, as drachtio-server does for a call its request handlers route there. The
 * app authenticates on each connection, the call runs on it, and the app closes it once the call
 * is over. The real presentation, copy and charging services are behind the front.
 */
import { describe, expect, it } from 'vitest';
import { expectCallerCopied, newParties, numberOf, presentingSession, sessionWhen, TONES } from '../../support/call-outcomes.js';
import { HANDSET } from '../../support/copy-fixtures.js';
import { drachtioSuite, startOutboundDrachtioApp, until, type OutboundDrachtioApp } from '../../support/drachtio-app.js';
import { answeredCall, hangUp } from '../../support/drachtio-calls.js';
import { DrachtioPeer, type AppConnection } from '../../support/drachtio-peer.js';

const alertInfo = (tone: { resourceId: string; contentUri: string }) => `<${tone.contentUri}>;resource=${tone.resourceId}`;

let peer: DrachtioPeer;
let app: OutboundDrachtioApp;
drachtioSuite(startOutboundDrachtioApp, (started) => ({ peer, app } = started));

/** Waits until the app has closed the connection (drachtio-server never closes it itself). */
async function closedByApp(connection: AppConnection): Promise<void> {
  let closed = false;
  void connection.closed.then(() => (closed = true));
  await until(() => closed, `the app closes connection ${connection.id}`);
}

describe('drachtio front: outbound mode', () => {
  it('is ready while listening with no drachtio-server connected, and will not start on an address in use', async () => {
    expect(await app.sipReady()).toBe(true);
    expect((await app.ctx.services.readiness.report()).ready).toBe(true);

    await expect(startOutboundDrachtioApp(peer, { env: { CMR_DRACHTIO_PORT: String(app.port) } })).rejects.toThrow(/EADDRINUSE/);
    expect(await app.sipReady()).toBe(true);
  });

  it('runs an annotated call on the connection drachtio-server opened for it, and closes that connection when the call is over', async () => {
    const parties = await newParties(app.ctx);
    const connection = await app.callConnection();
    // Routing is drachtio-server's (its request handlers): the app asks for no verbs.
    expect(connection.routes.size).toBe(0);
    const a = peer.call({
      from: `<sip:${numberOf(parties.caller)}@ims.example.net;user=phone>`,
      to: `<sip:${numberOf(parties.called)}@ims.example.net;user=phone>`,
      headers: [['P-Asserted-Identity', `<${parties.caller}>`]],
      connection,
    });

    const b = await peer.nextCallee();
    expect(b.connection.id).toBe(connection.id);
    expect(b.invite.values('alert-info')).toEqual([alertInfo(TONES.toCalled)]);
    b.respond(180);
    const ringing = await a.response(180);
    expect(ringing.values('alert-info')).toEqual([alertInfo(TONES.toCaller)]);
    expect(ringing.values('recv-info')).toEqual(['cmr-copy']);
    b.respond(200);
    await b.nextRequest('ACK');
    expect((await a.response(200)).values('recv-info')).toEqual(['cmr-copy']);
    a.ack();
    await sessionWhen(app.ctx, a.callId, 'confirmed');

    await hangUp(app, { parties, a, b });
    await closedByApp(connection);
  });

  it('answers a copy INFO in the confirmed dialog through the copy service', async () => {
    const call = await answeredCall(peer, app);
    const { a, b, parties } = call;

    const info = a.request('INFO', {
      headers: [
        ['Info-Package', 'cmr-copy'],
        ['Content-Type', 'application/vnd.cmr.copy+json'],
        ['P-Asserted-Identity', `<${parties.caller}>`],
      ],
      body: JSON.stringify({ caller: parties.caller, called: parties.called, client: HANDSET }),
    });
    const answer = await info.response();
    expect(answer.status).toBe(200);
    const entry = await expectCallerCopied(app.ctx, parties);
    expect(JSON.parse(answer.body)).toMatchObject({ result: 'copied', entries: [{ resourceId: entry.resourceId, libraryEntryId: entry.id }] });
    expect(b.pending).toEqual([]);

    await hangUp(app, call);
    await closedByApp(a.connection);
  });

  it('gets no call from a drachtio-server with another secret, which refuses the app\'s authentication', async () => {
    const stranger = await DrachtioPeer.start({ secret: 'not-the-apps-secret' });
    try {
      expect(await stranger.connectToApp(app.port)).toBeNull();
      expect(stranger.refusedAuthentications).toBe(1);
      expect(app.front.liveCalls).toBe(0);
      expect(await app.sipReady()).toBe(true);
    } finally {
      await stranger.close();
    }
  });

  it('while draining refuses new calls with 503 and Retry-After, then stops listening once the live call has ended', async () => {
    const draining = await startOutboundDrachtioApp(peer);
    try {
      const live = await answeredCall(peer, draining);

      let stopped = false;
      const stopping = draining.front.stop().then(() => (stopped = true));
      expect(await draining.sipReady()).toBe(false);

      const connection = await draining.callConnection();
      const late = peer.call({
        from: '<sip:alice@ims.example.net>',
        to: '<sip:+15551230002@ims.example.net;user=phone>',
        headers: [['P-Asserted-Identity', '<tel:+15551230001>']],
        connection,
      });
      const refused = await late.response(503);
      expect(refused.header('retry-after')).toMatch(/^\d+$/);
      await closedByApp(connection);
      expect(await presentingSession(draining.ctx, late.callId)).toBeNull();
      expect(stopped).toBe(false);

      await hangUp(draining, live);
      await stopping;
      await closedByApp(live.a.connection);
      await expect(peer.connectToApp(draining.port)).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await draining.close();
    }
  });
});
