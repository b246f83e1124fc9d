/**
 * The drachtio front's connection to drachtio-server and its shutdown: readiness follows the
 * connection, a lost connection comes back by itself, a draining instance refuses new calls
 * and lets live ones end (up to its limit), and a Redis outage never stops a call. The real
 * core is behind the front; its presenting sessions (REST) show what the front told it.
 */
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvents } from '../../../src/calls/call-events.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startSignalling } from '../../../src/signalling.js';
import { createServices } from '../../../src/wiring.js';
import { expectEndedAfterAnswer, presentingSession, sessionWhen } from '../../support/call-outcomes.js';
import { answerUnannounced } from '../../support/drachtio-calls.js';
import { testConfig } from '../../support/context.js';
import { PEER_SECRET, startDrachtioApp, until, type DrachtioApp, type DrachtioAppOptions } from '../../support/drachtio-app.js';
import { DrachtioPeer, type AppConnection, type CallerLeg, type CalleeLeg } from '../../support/drachtio-peer.js';

let peer: DrachtioPeer;
const apps: DrachtioApp[] = [];

beforeAll(async () => {
  peer = await DrachtioPeer.start({ secret: PEER_SECRET });
});
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});
afterAll(async () => peer.close());

async function start(options: DrachtioAppOptions = {}): Promise<DrachtioApp> {
  const app = await startDrachtioApp(peer, options);
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

/** A call answered on both legs and recorded as such by the core. */
async function answeredCall(app: DrachtioApp, connection: AppConnection): Promise<{ a: CallerLeg; b: CalleeLeg }> {
  const a = call(connection);
  const b = await peer.nextCallee();
  b.respond(200);
  await b.nextRequest('ACK');
  await a.response(200);
  a.ack();
  await sessionWhen(app.ctx, a.callId, 'confirmed');
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
    const orphan = await answeredCall(app, app.connection);

    peer.dropConnections({ refuse: true });
    await until(async () => !(await app.sipReady()), 'the front reports not ready');
    // Its dialogs belong to the lost connection: the call is out of this instance's hands.
    expect(app.front.liveCalls).toBe(0);
    await expectEndedAfterAnswer(app.ctx, orphan.a.callId);
    await until(() => peer.resetConnections >= 1, 'the front retries and gets a connection error');
    expect((await app.ctx.services.readiness.report()).ready).toBe(false);

    const reconnected = peer.nextConnection();
    peer.acceptAgain();
    const connection = await reconnected;
    await until(() => app.sipReady(), 'the front reports ready again');

    const { a, b } = await answeredCall(app, connection);
    await hangUp({ a, b });
    await expectEndedAfterAnswer(app.ctx, a.callId);
  });

  it('stays not ready with a wrong secret, and stops cleanly while still trying', async () => {
    const config = testConfig({ CMR_DRACHTIO_HOST: '127.0.0.1', CMR_DRACHTIO_PORT: String(peer.port), CMR_DRACHTIO_SECRET: 'not-the-secret' });
    const services = await createServices(config, createLogger(config.log));
    const refusedBefore = peer.refusedAuthentications;
    const front = await startSignalling(services, { calls: services.calls, copy: services.sipCopy });
    await until(() => peer.refusedAuthentications > refusedBefore, 'drachtio-server refuses the secret');
    expect((await services.readiness.report()).checks['sip']).toBe(false);
    await front.stop();
    await services.close();
  });
});

describe('drachtio front: draining', () => {
  it('refuses new calls with 503 and Retry-After, and closes once the live calls have ended', async () => {
    const app = await start();
    const live = await answeredCall(app, app.connection);

    let stopped = false;
    const stopping = app.front.stop().then(() => (stopped = true));
    expect(await app.sipReady()).toBe(false);

    const late = call(app.connection);
    const refused = await late.response(503);
    expect(refused.header('retry-after')).toMatch(/^\d+$/);
    expect(refused.header('warning')).toMatch(/^399 \S+ ".+"$/);
    expect(stopped).toBe(false);
    expect(await presentingSession(app.ctx, late.callId)).toBeNull();

    await hangUp(live);
    await stopping;
    await app.connection.closed;
    await expectEndedAfterAnswer(app.ctx, live.a.callId);
  });

  it('hangs up both legs of the calls still up when the drain limit is reached', async () => {
    const app = await start({ env: { CMR_DRAIN_TIMEOUT_MS: '200' } });
    const { a, b } = await answeredCall(app, app.connection);

    const stopping = app.front.stop();
    const [byeToA, byeToB] = await Promise.all([a.nextRequest('BYE'), b.nextRequest('BYE')]);
    expect(byeToA.callId).toBe(a.callId);
    expect(byeToB.callId).toBe(b.invite.callId);
    await stopping;
    await app.connection.closed;
    await expectEndedAfterAnswer(app.ctx, a.callId);
  });
});

describe('drachtio front: the core failing', () => {
  it('completes the call unannotated when the store is down', async () => {
    const app = await start({ env: { CMR_REDIS_URL: `redis://127.0.0.1:${await unusedPort()}` } });
    expect((await app.ctx.services.readiness.report()).checks).toMatchObject({ redis: false, sip: true });

    const a = call(app.connection);
    const b = await peer.nextCallee();
    await answerUnannounced({ a, b });
    await hangUp({ a, b });

    // The real call service failed open: one selection, counted as such.
    const selections = await app.ctx.services.metrics.selections.get();
    expect(selections.values.filter((v) => v.value > 0)).toEqual([expect.objectContaining({ labels: { result: 'fail-open-error' }, value: 1 })]);
  });

  it('completes calls unannotated when the presentation service throws or hangs', async () => {
    // A misbehaving neighbour: the real service never throws nor hangs, the front must not rely on it.
    let started = 0;
    const broken: CallEvents = {
      // The first call meets a failure, the second a presentation service that never answers.
      callStarted: () => (++started === 1 ? Promise.reject(new Error('bug')) : new Promise(() => {})),
      callAnswered: () => Promise.reject(new Error('bug')),
      callEnded: () => Promise.reject(new Error('bug')),
      findCall: () => Promise.reject(new Error('bug')),
    };
    const app = await start({ env: { CMR_SELECT_BUDGET_MS: '20' }, ports: () => ({ calls: broken }) });
    for (let i = 0; i < 2; i++) {
      const a = call(app.connection);
      const b = await peer.nextCallee();
      await answerUnannounced({ a, b });
      await hangUp({ a, b });
    }
    expect(started).toBe(2);
  });
});
