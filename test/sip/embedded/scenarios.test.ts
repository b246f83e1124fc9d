/**
 * The embedded front with real SIP: sipp callers and called UAs (sip/scenarios) through the
 * server over UDP and over TCP. The scenarios themselves check statuses, Alert-Info, Recv-Info
 * and copy answers; these tests add what only the server side can see (the call events).
 *
 * Core ports: neighbour doubles (test/support/sip). To run the same scenarios against the real
 * presentation and copy services, build them from `ctx.services` in the `startSipHarness` call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallAnnotation } from '../../../src/calls/call-events.js';
import { RecordingCallEvents } from '../../support/sip/call-events-double.js';
import { CopyRulesDouble } from '../../support/sip/copy-double.js';
import { CALLED, CALLER, startSipHarness, type SipHarness } from '../../support/sip/harness.js';

const ANNOTATION: CallAnnotation = {
  toCaller: [{ resourceId: 'r-summer', contentUri: 'https://media.example.net/tones/summer.mp3' }],
  toCalled: [{ resourceId: 'r-winter', contentUri: 'https://media.example.net/tones/winter.mp3' }],
};
const ANNOUNCED = { toCaller: 'r-summer', toCalled: 'r-winter' };

describe.each(['udp', 'tcp'] as const)('embedded SIP front over %s', (transport) => {
  let harness: SipHarness;
  let calls: RecordingCallEvents;
  let copy: CopyRulesDouble;

  beforeAll(async () => {
    calls = new RecordingCallEvents(ANNOTATION);
    copy = new CopyRulesDouble(calls, { copyKey: '*', host: '127.0.0.1' });
    harness = await startSipHarness(() => ({ calls, copy }));
  });
  afterAll(async () => {
    await harness?.close();
  });

  /** Places a call and returns the Call-ID the server saw. */
  async function call(caller: string, called: string): Promise<string> {
    const before = calls.started.length;
    await harness.call({ transport, caller, called, expect: ANNOUNCED });
    expect(calls.started).toHaveLength(before + 1);
    return calls.started[before]!.callId;
  }

  it('announces the resources of an answered call and reports its events', async () => {
    const callId = await call('caller-call.xml', 'called-answer.xml');
    expect(calls.started.at(-1)).toMatchObject({ caller: `tel:${CALLER}`, called: `tel:${CALLED}` });
    expect(calls.story(callId)).toEqual({ answered: true, ended: ['bye'] });
  });

  it('answers a copy INFO in the confirmed dialog itself', async () => {
    const callId = await call('caller-copy-confirmed.xml', 'called-answer.xml');
    const info = copy.infos.at(-1)!;
    const fromTag = calls.started.at(-1)!.fromTag;
    expect(info).toMatchObject({ callId, dialogFromTag: fromTag, fromTag, cseq: 2, requestor: `tel:${CALLER}`, infoPackage: 'cmr-copy', contentType: 'application/vnd.cmr.copy+json' });
    expect(JSON.parse(info.body)).toMatchObject({ caller: `tel:${CALLER}`, called: `tel:${CALLED}` });
  });

  it('answers a copy INFO in the early dialog, before the call is answered', async () => {
    const callId = await call('caller-copy-early.xml', 'called-early-info.xml');
    const [copyInfo, digitInfo] = copy.infos.slice(-2);
    expect(copyInfo).toMatchObject({ callId, cseq: 2, infoPackage: 'cmr-copy' });
    expect(digitInfo).toMatchObject({ callId, cseq: 3, infoPackage: null, contentType: 'application/dtmf-relay' });
    expect(calls.story(callId)).toEqual({ answered: true, ended: ['bye'] });
  });

  it('copies on the DTMF copy key', async () => {
    const callId = await call('caller-copy-dtmf.xml', 'called-answer.xml');
    expect(copy.infos.at(-1)).toMatchObject({ callId, infoPackage: null, contentType: 'application/dtmf-relay', requestor: `tel:${CALLER}` });
  });

  it('passes an INFO that is not a copy request to the called party', async () => {
    const callId = await call('caller-info-passthrough.xml', 'called-answer-info.xml');
    expect(copy.infos.at(-1)).toMatchObject({ callId, contentType: 'application/dtmf-relay' });
  });

  it('cancels a ringing call end to end', async () => {
    const callId = await call('caller-cancel.xml', 'called-ringing-cancel.xml');
    expect(calls.story(callId)).toEqual({ answered: false, ended: ['cancel'] });
  });

  it('relays a busy called party', async () => {
    const callId = await call('caller-busy.xml', 'called-busy.xml');
    expect(calls.story(callId)).toEqual({ answered: false, ended: ['failure'] });
  });

  it('relays the copy service refusals of bad copy requests', async () => {
    const callId = await call('caller-copy-bad-input.xml', 'called-answer.xml');
    expect(copy.infos.filter((i) => i.callId === callId).map((i) => i.cseq)).toEqual([2, 3, 4, 5, 6]);
    expect(calls.story(callId)).toEqual({ answered: true, ended: ['bye'] });
  });
});
