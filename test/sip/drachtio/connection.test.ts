/**
 * The drachtio front's connection to drachtio-server and its shutdown: readiness follows the
 * connection, a lost connection comes back by itself, a draining instance refuses new calls
 * and lets live ones end (up to its limit), and a Redis outage never stops a call.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallAnnotation } from '../../../src/calls/call-events.js';
import { doublePorts, type DoublePorts } from '../../support/call-port-doubles.js';
import { PEER_SECRET, startDrachtioApp, until, type DrachtioApp } from '../../support/drachtio-app.js';
import { DrachtioPeer, type AppConnection, type CallerLeg, type CalleeLeg } from '../../support/drachtio-peer.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startSignalling } from '../../../src/signalling.js';
import { createServices } from '../../../src/wiring.js';
import { testConfig } from '../../support/context.js';

const PRESENTED: CallAnnotation = {
  toCaller: [{ resourceId: 'r-summer', contentUri: 'https://media.example.net/tones/summer.mp3' }],
  toCalled: [{ resourceId: 'r-logo', contentUri: 'https://media.example.net/img/logo.png' }],
};

let peer: DrachtioPeer;
const apps: Array<DrachtioApp<DoublePorts>> = [];

beforeAll(async () => {
  peer = await DrachtioPeer.start({ secret: PEER_SECRET });
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});
afterAll(async () => peer.close());

async function start(env: Record<string, string> = {}): Promise<DrachtioApp<DoublePorts>> {
  const app = await startDrachtioApp(peer, doublePorts(() => PRESENTED), env);
  apps.push(app);
  return app;
}

function call(connection: AppConnection): CallerLeg {
  return peer.call({
    from: '<sip:alice@ims.example.net>',
    to: '<sip:+15551230002@ims.example.net;user=phone>',
    headers: [['P-Asserted-Identity', '<tel:+15551230001>']],
    connection,
  });
}

async function answeredCall(connection: AppConnection): Promise<{ a: CallerLeg; b: CalleeLeg }> {
  const a = call(connection);
  const b = await peer.nextCallee();
  b.respond(200);
  await b.nextRequest('ACK');
  await a.response(200);
  a.ack();
  return { a, b };
}

async function hangUp({ a, b }: { a: CallerLeg; b: CalleeLeg }): Promise<void> {
  const bye = a.request('BYE');
  b.reply(await b.nextRequest('BYE'), 200);
  expect((await bye.response()).status).toBe(200);
}

async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('drachtio front: connection', () => {
  it('reports ready once authenticated, not ready while drachtio-server is away, and reconnects by itself', async () => {
    const app = await start();
    expect(await app.sipReady()).toBe(true);
    // INVITE for new calls, INFO for early dialogs (drachtio-server routes those as out-of-dialog requests).
    expect([...app.connection.routes].sort()).toEqual(['info', 'invite']);
    const orphan = await answeredCall(app.connection);

    peer.dropConnections({ refuse: true });
    await until(async () => !(await app.sipReady()), 'the front reports not ready');
    // Its dialogs belong to the lost connection: the call is out of this instance's hands.
    expect(app.front.liveCalls).toBe(0);
    expect(app.ports.calls.ended).toEqual([{ callId: orphan.a.callId, reason: 'failure' }]);
    await until(() => peer.resetConnections >= 1, 'the front retries and gets a connection error');
    expect((await app.services.readiness.report()).ready).toBe(false);

    const reconnected = peer.nextConnection();
    peer.acceptAgain();
    const connection = await reconnected;
    await until(app.sipReady, 'the front reports ready again');

    const { a, b } = await answeredCall(connection);
    await hangUp({ a, b });
    await until(() => app.ports.calls.ended.length === 2, 'the call ends');
    expect(app.ports.calls.ended[1]).toEqual({ callId: a.callId, reason: 'bye' });
  });

  it('stays not ready with a wrong secret, and stops cleanly while still trying', async () => {
    const config = testConfig({ CMR_DRACHTIO_HOST: '127.0.0.1', CMR_DRACHTIO_PORT: String(peer.port), CMR_DRACHTIO_SECRET: 'not-the-secret' });
    const services = await createServices(config, createLogger(config.log));
    const refusedBefore = peer.refusedAuthentications;
    const front = await startSignalling(services, doublePorts()(services));
    await until(() => peer.refusedAuthentications > refusedBefore, 'drachtio-server refuses the secret');
    expect((await services.readiness.report()).checks['sip']).toBe(false);
    await front.stop();
    await services.close();
  });
});

describe('drachtio front: draining', () => {
  it('refuses new calls with 503 and Retry-After, and closes once the live calls have ended', async () => {
    const app = await start();
    const live = await answeredCall(app.connection);

    let stopped = false;
    const stopping = app.front.stop().then(() => (stopped = true));
    expect(await app.sipReady()).toBe(false);

    const late = call(app.connection);
    const refused = await late.response(503);
    expect(refused.header('retry-after')).toMatch(/^\d+$/);
    expect(refused.header('warning')).toMatch(/^399 \S+ ".+"$/);
    expect(stopped).toBe(false);
    expect(app.ports.calls.started.map((s) => s.callId)).not.toContain(late.callId);

    await hangUp(live);
    await stopping;
    await app.connection.closed;
    expect(app.ports.calls.ended).toEqual([{ callId: live.a.callId, reason: 'bye' }]);
  });

  it('hangs up both legs of the calls still up when the drain limit is reached', async () => {
    const app = await start({ CMR_DRAIN_TIMEOUT_MS: '200' });
    const { a, b } = await answeredCall(app.connection);

    const stopping = app.front.stop();
    const [byeToA, byeToB] = await Promise.all([a.nextRequest('BYE'), b.nextRequest('BYE')]);
    expect(byeToA.callId).toBe(a.callId);
    expect(byeToB.callId).toBe(b.invite.callId);
    await stopping;
    await app.connection.closed;
    expect(app.ports.calls.ended).toEqual([{ callId: a.callId, reason: 'bye' }]);
  });
});

describe('drachtio front: Redis down', () => {
  it('completes the call unannotated when the store fails', async () => {
    const app = await start({ CMR_REDIS_URL: `redis://127.0.0.1:${await unusedPort()}` });
    expect((await app.services.readiness.report()).checks).toMatchObject({ redis: false, sip: true });

    const a = call(app.connection);
    const b = await peer.nextCallee();
    expect(b.invite.values('alert-info')).toEqual([]);
    b.respond(180);
    const ringing = await a.response(180);
    expect(ringing.values('alert-info')).toEqual([]);
    expect(ringing.values('recv-info')).toEqual(['cmr-copy']);
    b.respond(200);
    await b.nextRequest('ACK');
    expect((await a.response(200)).status).toBe(200);
    a.ack();
    await hangUp({ a, b });

    expect(app.ports.calls.started.map((s) => s.callId)).toEqual([a.callId]);
    expect(app.ports.calls.failedOpen).toBe(1);
    await until(() => app.ports.calls.ended.length === 1, 'the call ends');
  });
});
