/**
 * Overload at the drachtio front, driven by a given event-loop lag: while CMR work is shed a
 * call goes through unannotated and is counted as shed; past the refusing lag a new INVITE is
 * answered 503 with Retry-After.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LoadSignal } from '../../../src/overload/load-shedder.js';
import { newParties, selectionsShed, TONES } from '../../support/call-outcomes.js';
import { seedCopyCatalog } from '../../support/copy-fixtures.js';
import { startDrachtioSipHarness } from '../../support/sip/drachtio-harness.js';
import { CALLER_IP, type SipHarness } from '../../support/sip/harness.js';
import { request } from '../../support/sip/raw-messages.js';
import { RawPeer } from '../../support/sip/raw-peer.js';

const lag = { ms: 0 };
const GIVEN: LoadSignal = { lagMs: () => lag.ms, busyShare: () => 0, stop: () => {} };

describe('drachtio front under overload', () => {
  let harness: SipHarness;
  beforeAll(async () => {
    harness = await startDrachtioSipHarness({
      env: { CMR_OVERLOAD_SHED_LAG_MS: '40', CMR_OVERLOAD_REFUSE_LAG_MS: '400', CMR_OVERLOAD_RETRY_AFTER_SEC: '7' },
      services: { loadSignal: GIVEN },
    });
    await seedCopyCatalog(harness.ctx.services);
  });
  afterEach(() => {
    lag.ms = 0;
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('announces at normal load and puts a call through unannotated while CMR work is shed', async () => {
    const expectations = { toCaller: TONES.toCaller.resourceId, toCalled: TONES.toCalled.resourceId };
    await harness.call({ transport: 'udp', caller: 'caller-call.xml', called: 'called-answer.xml', parties: await newParties(harness.ctx), expect: expectations });
    lag.ms = 100;
    const before = await selectionsShed(harness.ctx);
    // No expectation: the scenarios then require that nothing is announced.
    await harness.call({ transport: 'udp', caller: 'caller-call.xml', called: 'called-answer.xml', parties: await newParties(harness.ctx) });
    expect(await selectionsShed(harness.ctx)).toBe(before + 1);
  });

  it('refuses a new call with 503 and Retry-After past the refusing lag', async () => {
    lag.ms = 500;
    const caller = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
    try {
      const callId = `drachtio-overload-${process.pid}@test`;
      caller.send(request('INVITE', 'sip:+15551230002@127.0.0.2:5999;user=phone', caller, { callId }));
      const answer = await caller.receive((m) => m.header('call-id')[0] === callId && !m.firstLine.startsWith('SIP/2.0 100 '));
      expect(answer.firstLine).toMatch(/^SIP\/2\.0 503 /);
      expect(answer.header('retry-after')).toEqual(['7']);
    } finally {
      await caller.close();
    }
  });
});
