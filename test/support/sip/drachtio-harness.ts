/**
 * The drachtio front as SIP peers see it: the scripted drachtio-server with real SIP sockets
 * (UDP and TCP on one free loopback port), the server connected to it, and sipp calling the
 * peer's SIP port. The called UAs are reached where the B-leg INVITE's Request-URI says.
 */
import { DrachtioFront } from '../../../sip/drachtio/drachtio-front.js';
import { startSignalling } from '../../../src/signalling.js';
import type { ServiceOptions } from '../../../src/wiring.js';
import { createTestContext } from '../context.js';
import { PEER_SECRET, until } from '../drachtio-app.js';
import { DrachtioPeer } from '../drachtio-peer.js';
import { sipHarness, type SipHarness } from './harness.js';
import type { SipTransport } from './sipp.js';

/**
 * What a caller meets through any drachtio-server: a request body over 8 KiB answered 400 by
 * drachtio-server itself, which over TCP then closes the connection (see caller-copy-bad-input.xml).
 */
export function drachtioSippVars(transport: SipTransport): Record<string, string> {
  return { oversized_by_stack: transport === 'tcp' ? 'closes' : 'yes' };
}

export async function startDrachtioSipHarness(options: { env?: Record<string, string>; services?: ServiceOptions } = {}): Promise<SipHarness> {
  const peer = await DrachtioPeer.start({ secret: PEER_SECRET, sip: true });
  const connected = peer.nextConnection();
  const ctx = await createTestContext({
    env: {
      CMR_DRACHTIO_HOST: '127.0.0.1',
      CMR_DRACHTIO_PORT: String(peer.port),
      CMR_DRACHTIO_SECRET: PEER_SECRET,
      CMR_DRAIN_TIMEOUT_MS: '2000',
      // Tests that are not about failing open must not fail open on a busy machine.
      CMR_SELECT_BUDGET_MS: '2000',
      ...options.env,
    },
    ...(options.services ? { services: options.services } : {}),
  });
  const close = async () => {
    await ctx.close();
    await peer.close();
  };
  try {
    const front = await startSignalling(ctx.services, { calls: ctx.services.calls, copy: ctx.services.sipCopy });
    if (!(front instanceof DrachtioFront)) throw new Error(`expected the drachtio front, got ${front.name}`);
    await connected;
    await until(() => front.ready, 'the drachtio front is ready');
    return sipHarness(ctx, front, { ip: peer.sipHost, port: peer.sipPort, wsPort: 0 }, { sippVars: drachtioSippVars, close });
  } catch (err) {
    await close();
    throw err;
  }
}
