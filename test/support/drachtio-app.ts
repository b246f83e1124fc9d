/**
 * A server instance running the drachtio front against a `DrachtioPeer`: the real services and
 * REST app of `createTestContext` on the real Redis (fresh namespace unless shared), started
 * through `startSignalling` with the core ports the server entry gives it (`services.calls`,
 * `services.sipCopy`) unless a test about the front's own mechanics replaces one.
 */
import { DrachtioFront } from '../../sip/drachtio/drachtio-front.js';
import { startSignalling, type CorePorts } from '../../src/signalling.js';
import { createTestContext, type TestContext } from './context.js';
import type { AppConnection, DrachtioPeer } from './drachtio-peer.js';

export const PEER_SECRET = 'peer-secret';

export interface DrachtioApp {
  ctx: TestContext;
  front: DrachtioFront;
  /** The app's connection as the peer sees it. */
  connection: AppConnection;
  /** The `sip` readiness check. */
  sipReady(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DrachtioAppOptions {
  env?: Record<string, string>;
  /** Replaces core ports (a misbehaving neighbour); the real services otherwise. */
  ports?: (ctx: TestContext) => Partial<CorePorts>;
}

export async function startDrachtioApp(peer: DrachtioPeer, options: DrachtioAppOptions = {}): Promise<DrachtioApp> {
  const ctx = await createTestContext({
    env: {
      CMR_DRACHTIO_HOST: '127.0.0.1',
      CMR_DRACHTIO_PORT: String(peer.port),
      CMR_DRACHTIO_SECRET: PEER_SECRET,
      // A test that fails mid-call should not hold its teardown for the production drain limit.
      CMR_DRAIN_TIMEOUT_MS: '2000',
      // Tests that are not about failing open must not fail open on a busy machine.
      CMR_SELECT_BUDGET_MS: '2000',
      ...options.env,
    },
  });
  const connecting = peer.nextConnection();
  const front = await startSignalling(ctx.services, { calls: ctx.services.calls, copy: ctx.services.sipCopy, ...options.ports?.(ctx) });
  if (!(front instanceof DrachtioFront)) throw new Error(`expected the drachtio front, got ${front.name}`);
  const connection = await connecting;
  const sipReady = async () => (await ctx.services.readiness.report()).checks['sip'] === true;
  await until(sipReady, 'the front reports ready');
  return {
    ctx,
    front,
    connection,
    sipReady,
    close: async () => {
      await front.stop();
      await ctx.close();
    },
  };
}

/** Polls `condition` until it holds or `timeoutMs` passes (for effects with no event to await). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
