/**
 * The SIP front of a test: the real services of `createTestContext` (real Redis, config,
 * metrics, readiness) and the signalling front started by `startSignalling`, on free loopback
 * ports, with the core ports the server entry gives it (`services.calls`, `services.sipCopy`)
 * unless a test about the front's own mechanics replaces one with a misbehaving neighbour.
 *
 * Addresses: the server on 127.0.0.1, called UAs on 127.0.0.2 (a distinct host, so no
 * destination can be mistaken for the server itself), callers on 127.0.0.1 (a trusted peer).
 */
import { randomUUID } from 'node:crypto';
import { startSignalling, type CorePorts, type SignallingFront } from '../../../src/signalling.js';
import type { ServiceOptions } from '../../../src/wiring.js';
import { numberOf, type Parties } from '../call-outcomes.js';
import { createTestContext, type TestContext } from '../context.js';
import { runCall, type SipTransport } from './sipp.js';
import { freePort } from './sockets.js';

export const SERVER_IP = '127.0.0.1';
export const CALLER_IP = '127.0.0.1';
export const CALLED_IP = '127.0.0.2';

export interface SipHarness {
  ctx: TestContext;
  front: SignallingFront;
  /** Where SIP peers send to: the server itself (embedded front), or its drachtio-server (drachtio front). */
  server: { ip: string; port: number; wsPort: number };
  /** Places one call with sipp between `parties`: `caller` and `called` are scenario files; returns the call's Call-ID. */
  call(options: CallOptions): Promise<string>;
  close(): Promise<void>;
}

export interface CallOptions {
  transport: SipTransport;
  caller: string;
  called: string;
  parties: Parties;
  /** Resource ids the scenarios expect in Alert-Info (omitted: nothing may be announced). */
  expect?: { toCaller?: string; toCalled?: string };
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Replaces core ports (a misbehaving neighbour); the real services otherwise. */
  ports?: (ctx: TestContext) => Partial<CorePorts>;
  /** Service settings beyond the environment (e.g. shorter recoverer timings). */
  services?: ServiceOptions;
}

/** Fresh ports for each try: another process may take a free port before the front listens on it. */
const START_ATTEMPTS = 5;

export async function startSipHarness(options: HarnessOptions = {}): Promise<SipHarness> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(SERVER_IP);
    const wsPort = await freePort(SERVER_IP);
    const ctx = await createTestContext({
      env: {
        CMR_SIP_HOST: SERVER_IP,
        CMR_SIP_PORT: String(port),
        CMR_SIP_WS_PORT: String(wsPort),
        // Tests that are not about failing open must not fail open on a busy machine.
        CMR_SELECT_BUDGET_MS: '2000',
        ...options.env,
      },
      ...(options.services ? { services: options.services } : {}),
    });
    try {
      const front = await startSignalling(ctx.services, { calls: ctx.services.calls, copy: ctx.services.sipCopy, ...options.ports?.(ctx) });
      return sipHarness(ctx, front, { ip: SERVER_IP, port, wsPort }, { close: () => ctx.close() });
    } catch (err) {
      await ctx.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === START_ATTEMPTS) throw err;
    }
  }
}

/**
 * A harness around a started front. `sippVars` go to every caller scenario that declares them
 * (what differs by front and transport, e.g. `oversized_by_stack`); `close` runs after the front
 * has stopped.
 */
export function sipHarness(
  ctx: TestContext,
  front: SignallingFront,
  server: SipHarness['server'],
  options: { sippVars?: (transport: SipTransport) => Record<string, string>; close: () => Promise<void> },
): SipHarness {
  return {
    ctx,
    front,
    server,
    async call({ transport, caller, called, parties, expect = {} }) {
      const calledPort = await freePort(CALLED_IP);
      const callerPort = await freePort(CALLER_IP);
      const callId = `${randomUUID()}@${CALLER_IP}`;
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
          remote: { ip: server.ip, port: server.port },
          keys: { caller: numberOf(parties.caller), called: numberOf(parties.called), called_host: CALLED_IP, called_port: String(calledPort) },
          vars: { ...options.sippVars?.(transport), ...(expect.toCaller ? { caller_resource: expect.toCaller } : {}) },
          callId,
        },
      );
      return callId;
    },
    async close() {
      await front.stop();
      await options.close();
    },
  };
}
