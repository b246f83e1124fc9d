/**
 * The SIP front of a test: the real services of `createTestContext` (real Redis, config,
 * metrics, readiness) and the signalling front started by `startSignalling`, on free loopback
 * ports, with the core ports the test chooses. Tests pass doubles today; passing the real
 * presentation and copy services built from `ctx.services` runs the same scenarios against them.
 *
 * Addresses: the server on 127.0.0.1, called UAs on 127.0.0.2 (a distinct host, so no
 * destination can be mistaken for the server itself), callers on 127.0.0.1 (a trusted peer).
 */
import { startSignalling, type CorePorts, type SignallingFront } from '../../../src/signalling.js';
import type { ServiceOptions } from '../../../src/wiring.js';
import { createTestContext, type TestContext } from '../context.js';
import { runCall, type SipTransport } from './sipp.js';
import { freePort } from './sockets.js';

export const SERVER_IP = '127.0.0.1';
export const CALLER_IP = '127.0.0.1';
export const CALLED_IP = '127.0.0.2';
export const CALLER = '+15551230001';
export const CALLED = '+15551230002';

export interface SipHarness {
  ctx: TestContext;
  front: SignallingFront;
  server: { ip: string; port: number; wsPort: number };
  /** Places one call with sipp: `caller` and `called` are scenario files; `expect` the announced resources. */
  call(options: CallOptions): Promise<void>;
  close(): Promise<void>;
}

export interface CallOptions {
  transport: SipTransport;
  caller: string;
  called: string;
  /** Resource ids the scenarios expect in Alert-Info (omitted: nothing announced). */
  expect?: { toCaller?: string; toCalled?: string };
}

export async function startSipHarness(corePorts: (ctx: TestContext) => CorePorts, env: Record<string, string> = {}, services?: ServiceOptions): Promise<SipHarness> {
  const port = await freePort(SERVER_IP);
  const wsPort = await freePort(SERVER_IP);
  const ctx = await createTestContext({
    env: { CMR_SIP_HOST: SERVER_IP, CMR_SIP_PORT: String(port), CMR_SIP_WS_PORT: String(wsPort), ...env },
    ...(services ? { services } : {}),
  });
  const front = await startSignalling(ctx.services, corePorts(ctx));
  return {
    ctx,
    front,
    server: { ip: SERVER_IP, port, wsPort },
    async call({ transport, caller, called, expect = {} }) {
      const calledPort = await freePort(CALLED_IP);
      const callerPort = await freePort(CALLER_IP);
      await runCall(
        {
          scenario: called,
          transport,
          local: { ip: CALLED_IP, port: calledPort },
          vars: expect.toCalled ? { called_resource: expect.toCalled } : {},
        },
        {
          scenario: caller,
          transport,
          local: { ip: CALLER_IP, port: callerPort },
          remote: { ip: SERVER_IP, port },
          keys: { caller: CALLER, called: CALLED, called_host: CALLED_IP, called_port: String(calledPort) },
          vars: expect.toCaller ? { caller_resource: expect.toCaller } : {},
        },
      );
    },
    async close() {
      await front.stop();
      await ctx.close();
    },
  };
}
