/**
 * Overload at the embedded front and the API, driven by a given event-loop lag (not by timing):
 * while CMR work is shed, a new call goes through unannotated and counted as shed, a copy INFO
 * is answered 503 with Retry-After while other INFOs pass, and /v1 answers 503 problem JSON;
 * past the refusing lag a new INVITE is answered 503 with Retry-After and sent nowhere, while
 * requests in an existing dialog keep flowing. Selections past the cap are shed too.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvents } from '../../../src/calls/call-events.js';
import type { LoadSignal } from '../../../src/overload/load-shedder.js';
import { newParties, selectionsShed, numberOf, TONES, type Parties } from '../../support/call-outcomes.js';
import { seedCopyCatalog } from '../../support/copy-fixtures.js';
import { eventually } from '../../support/eventually.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../../support/sip/harness.js';
import { answerTo, copyInfoParts, openRawDialog } from '../../support/sip/raw-dialog.js';
import { request, responseTo } from '../../support/sip/raw-messages.js';
import { isRequest, isStatus, RawPeer } from '../../support/sip/raw-peer.js';

const LIMITS = { CMR_OVERLOAD_SHED_LAG_MS: '40', CMR_OVERLOAD_REFUSE_LAG_MS: '400', CMR_OVERLOAD_RETRY_AFTER_SEC: '7', CMR_OVERLOAD_MAX_SELECTIONS: '1' };
const SHEDDING = 100;
const REFUSING = 500;

let sequence = 0;
const newCallId = () => `overload-${process.pid}-${++sequence}@test`;

/** The lag the server sees: set by the test. */
class GivenLag implements LoadSignal {
  ms = 0;
  lagMs(): number {
    return this.ms;
  }
  busyShare(): number {
    return 0;
  }
  stop(): void {}
}

describe('embedded front under overload', () => {
  const lag = new GivenLag();
  /** Selections wait for this while set, so a test can hold one under way. */
  let holdSelections: Promise<void> | null = null;
  let harness: SipHarness;
  const peers: RawPeer[] = [];
  const open = async (role: 'caller' | 'called') => {
    const peer = await RawPeer.open('udp', role === 'caller' ? CALLER_IP : CALLED_IP, harness.server, role);
    peers.push(peer);
    return peer;
  };

  beforeAll(async () => {
    harness = await startSipHarness({
      env: LIMITS,
      services: { loadSignal: lag },
      ports: (ctx) => ({ calls: held(ctx.services.calls, () => holdSelections) }),
    });
    await seedCopyCatalog(harness.ctx.services);
  });
  afterEach(async () => {
    lag.ms = 0;
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await harness?.close();
  });

  const dialogBetween = async (parties: Parties, caller: RawPeer, called: RawPeer) => openRawDialog(caller, called, { caller: parties.caller, called: parties.called });

  it('announces a call at normal load', async () => {
    const dialog = await dialogBetween(await newParties(harness.ctx), await open('caller'), await open('called'));
    expect(dialog.announced.toCalled).toEqual([`<${TONES.toCalled.contentUri}>;resource=${TONES.toCalled.resourceId}`]);
    await dialog.hangUp();
  });

  it('sheds CMR work: the call goes through unannotated, a copy INFO gets 503 while other INFOs pass, the API answers 503 but its operations endpoints answer', async () => {
    const parties = await newParties(harness.ctx);
    const caller = await open('caller');
    const called = await open('called');
    lag.ms = SHEDDING;
    const shedBefore = await selectionsShed(harness.ctx);
    const dialog = await dialogBetween(parties, caller, called);
    expect(dialog.announced).toEqual({ toCaller: [], toCalled: [] });
    expect(await selectionsShed(harness.ctx)).toBe(shedBefore + 1);

    called.send(dialog.fromCalled('INFO', { cseq: 1, ...copyInfoParts(parties.caller, parties.called, {}, parties.called) }));
    const refused = await called.receive(answerTo(dialog.callId, 1));
    expect(refused.firstLine).toBe('SIP/2.0 503 Service Unavailable');
    expect(refused.header('retry-after')).toEqual(['7']);
    expect(caller.hasReceived(isRequest('INFO'))).toBe(false);

    called.send(dialog.fromCalled('INFO', { cseq: 2, headers: ['Content-Type: application/dtmf-relay'], body: 'Signal=5\r\nDuration=160\r\n' }));
    const passed = await caller.receive(isRequest('INFO'));
    caller.send(responseTo(passed, 200, 'OK'));
    await called.receive(answerTo(dialog.callId, 2));

    const api = await eventually(async () => {
      const answer = await harness.ctx.app.inject({ method: 'GET', url: '/v1/me', headers: harness.ctx.sp });
      expect(answer.statusCode).toBe(503);
      return answer;
    });
    expect(api.headers['retry-after']).toBe('7');
    expect(api.headers['content-type']).toContain('application/problem+json');
    expect(api.json()).toMatchObject({ status: 503, code: 'dependency-unavailable' });
    expect((await harness.ctx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    await dialog.hangUp();

    lag.ms = 0;
    await eventually(async () => expect((await harness.ctx.app.inject({ method: 'GET', url: '/v1/me', headers: harness.ctx.sp })).statusCode).toBe(200));
  });

  it('refuses new calls past the refusing lag, while a dialog already set up keeps flowing', async () => {
    const parties = await newParties(harness.ctx);
    const caller = await open('caller');
    const called = await open('called');
    const established = await dialogBetween(parties, caller, called);

    lag.ms = REFUSING;
    const refusedCallId = newCallId();
    caller.send(request('INVITE', `sip:${numberOf(parties.called)}@${called.uriHostPort};user=phone`, caller, { callId: refusedCallId }));
    const refused = await caller.receive((m) => m.header('call-id')[0] === refusedCallId && !m.firstLine.startsWith('SIP/2.0 100 '));
    expect(refused.firstLine).toBe('SIP/2.0 503 Service Unavailable');
    expect(refused.header('retry-after')).toEqual(['7']);

    await established.hangUp();
    expect(called.hasReceived((m) => m.header('call-id')[0] === refusedCallId)).toBe(false);
  });

  it('sheds the selection of a call that arrives while the cap of selections is under way', async () => {
    const parties = await newParties(harness.ctx);
    let release: () => void = () => {};
    holdSelections = new Promise<void>((resolve) => (release = resolve));
    try {
      const firstCaller = await open('caller');
      const firstCalled = await open('called');
      const first = newCallId();
      firstCaller.send(request('INVITE', `sip:${numberOf(parties.called)}@${firstCalled.uriHostPort};user=phone`, firstCaller, { callId: first, headers: [`P-Asserted-Identity: <${parties.caller}>`] }));
      await firstCaller.receive(isStatus(100));

      const shedBefore = await selectionsShed(harness.ctx);
      const shed = await dialogBetween(parties, await open('caller'), await open('called'));
      expect(shed.announced.toCalled).toEqual([]);
      expect(await selectionsShed(harness.ctx)).toBe(shedBefore + 1);
      await shed.hangUp();

      release();
      const held = await firstCalled.receive(isRequest('INVITE'));
      expect(held.header('alert-info')).toHaveLength(1);
      firstCalled.send(responseTo(held, 486, 'Busy Here', { toTag: 'called-tag' }));
      await firstCaller.receive(isStatus(486));
    } finally {
      holdSelections = null;
      release();
    }
  });
});

/** The core's call events, with `callStarted` waiting while the test holds selections. */
function held(core: CallEvents, hold: () => Promise<void> | null): CallEvents {
  return {
    callStarted: async (start) => {
      await hold();
      return core.callStarted(start);
    },
    callAnswered: (callId) => core.callAnswered(callId),
    callEnded: (callId, reason) => core.callEnded(callId, reason),
    findCall: (callId, fromTag) => core.findCall(callId, fromTag),
  };
}
