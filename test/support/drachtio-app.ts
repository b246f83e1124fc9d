/**
 * A server instance running the drachtio front against a `DrachtioPeer`: the real services and
 * REST app of `createTestContext` on the real Redis (fresh namespace unless shared), started
 * through `startSignalling` with the core ports the server entry gives it (`services.calls`,
 * `services.sipCopy`) unless a test about the front's own mechanics replaces one.
 * `startDrachtioApp` connects to the peer (inbound mode); `startOutboundDrachtioApp` listens and
 * the peer connects to it for each call (outbound mode).
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { DrachtioFront } from '../../sip/drachtio/drachtio-front.js';
import { startSignalling, type CorePorts, type SignallingFront } from '../../src/signalling.js';
import { createTestContext, type TestContext } from './context.js';
import { seedCopyCatalog } from './copy-fixtures.js';
import { DrachtioPeer, type AppConnection } from './drachtio-peer.js';

export const PEER_SECRET = 'peer-secret';

/** What the call helpers need of a running app, in either mode. */
export interface RunningDrachtioApp {
  ctx: TestContext;
  front: DrachtioFront;
  /** The connection a new call reaches the app on: the standing one (inbound), a new one (outbound). */
  callConnection(): Promise<AppConnection>;
  /** The `sip` readiness check. */
  sipReady(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DrachtioApp extends RunningDrachtioApp {
  /** The app's connection as the peer sees it. */
  connection: AppConnection;
}

export interface OutboundDrachtioApp extends RunningDrachtioApp {
  /** The port the app listens on for drachtio-server. */
  port: number;
}

export interface DrachtioAppOptions {
  env?: Record<string, string>;
  /** Replaces core ports (a misbehaving neighbour); the real services otherwise. */
  ports?: (ctx: TestContext) => Partial<CorePorts>;
}

const BASE_ENV = {
  CMR_DRACHTIO_HOST: '127.0.0.1',
  CMR_DRACHTIO_SECRET: PEER_SECRET,
  // A test that fails mid-call should not hold its teardown for the production drain limit.
  CMR_DRAIN_TIMEOUT_MS: '2000',
  // Tests that are not about failing open must not fail open on a busy machine.
  CMR_SELECT_BUDGET_MS: '2000',
};

/**
 * A test file's scripted drachtio-server and one app on it with the copy catalog: started before
 * its tests (handed to `started`) and closed after them; every test must leave no call behind.
 */
export function drachtioSuite<A extends RunningDrachtioApp>(start: (peer: DrachtioPeer) => Promise<A>, started: (suite: { peer: DrachtioPeer; app: A }) => void): void {
  let peer: DrachtioPeer | undefined;
  let app: A | undefined;
  beforeAll(async () => {
    peer = await DrachtioPeer.start({ secret: PEER_SECRET });
    app = await start(peer);
    await seedCopyCatalog(app.ctx.services);
    started({ peer, app });
  });
  afterAll(async () => {
    await app?.close();
    await peer?.close();
  });
  afterEach(() => {
    expect(peer?.crashes).toEqual([]);
    expect(app?.front.liveCalls).toBe(0);
  });
}

export async function startDrachtioApp(peer: DrachtioPeer, options: DrachtioAppOptions = {}): Promise<DrachtioApp> {
  // The wait for the connection starts when the front starts connecting, not while the app is
  // still being built (which takes seconds on a busy machine).
  let connecting: Promise<AppConnection> | undefined;
  const started = await startFront({ CMR_DRACHTIO_PORT: String(peer.port), ...options.env }, options, () => {
    connecting = peer.nextConnection();
  });
  const connection = await connecting!;
  await until(started.sipReady, 'the front reports ready');
  return { ...started, connection, callConnection: () => Promise.resolve(connection) };
}

/** The app in outbound mode on a free port; the peer connects to it for each call. */
export async function startOutboundDrachtioApp(peer: DrachtioPeer, options: DrachtioAppOptions = {}): Promise<OutboundDrachtioApp> {
  const started = await startFront({ CMR_DRACHTIO_MODE: 'outbound', CMR_DRACHTIO_PORT: '0', ...options.env }, options);
  const port = started.front.listeningPort;
  if (port === null) throw new Error('the front in outbound mode reports no listening port');
  await until(started.sipReady, 'the front reports ready');
  return {
    ...started,
    port,
    callConnection: async () => {
      const connection = await peer.connectToApp(port);
      if (!connection) throw new Error('the app was refused by the peer');
      return connection;
    },
  };
}

async function startFront(
  env: Record<string, string>,
  options: DrachtioAppOptions,
  beforeSignalling: () => void = () => {},
): Promise<Omit<RunningDrachtioApp, 'callConnection'>> {
  const ctx = await createTestContext({ env: { ...BASE_ENV, ...env } });
  let front: SignallingFront;
  try {
    beforeSignalling();
    front = await startSignalling(ctx.services, { calls: ctx.services.calls, copy: ctx.services.sipCopy, ...options.ports?.(ctx) });
  } catch (err) {
    await ctx.close();
    throw err;
  }
  if (!(front instanceof DrachtioFront)) throw new Error(`expected the drachtio front, got ${front.name}`);
  const sipReady = async () => (await ctx.services.readiness.report()).checks['sip'] === true;
  return {
    ctx,
    front,
    sipReady,
    close: async () => {
      await front.stop();
      await ctx.close();
    },
  };
}

/** How many SIP messages of a kind an app counted (the `sipMessages` metric of its front). */
export async function sipMessagesCounted(app: RunningDrachtioApp, kind: string): Promise<number> {
  const metric = await app.ctx.services.metrics.sipMessages.get();
  return metric.values.find((v) => v.labels['kind'] === kind)?.value ?? 0;
}

/** Polls `condition` until it holds or `timeoutMs` passes (for effects with no event to await). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
