/**
 * Every scenario pair of `sip/scenarios/` (a called UA and a caller, both sipp) through a SIP
 * front, over UDP and over TCP, with the real presentation, copy and charging services behind it.
 * The scenarios check statuses, Alert-Info, Recv-Info, reliability and copy answers on the wire;
 * these tests check what the calls left behind: the presenting session (REST), library entries
 * and charges. Both fronts run the very same list, so a pair that passes one and fails the other
 * shows where the fronts differ toward a SIP peer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import {
  expectCallerCopied,
  expectEndedAfterAnswer,
  expectEndedUnanswered,
  expectNothingCopied,
  newParties,
  TONES,
  type Parties,
} from '../call-outcomes.js';
import { seedCopyCatalog } from '../copy-fixtures.js';
import type { SipHarness } from './harness.js';

/** The requestor of the 403 scenario's INFO: not a party to the call. */
const STRANGER = 'tel:+15559990000' as Identity;
const ANNOUNCED = { toCaller: TONES.toCaller.resourceId, toCalled: TONES.toCalled.resourceId };

export function describeScenarioPairs(front: string, start: () => Promise<SipHarness>): void {
  describe.each(['udp', 'tcp'] as const)(`${front} over %s`, (transport) => {
    let harness: SipHarness;

    beforeAll(async () => {
      harness = await start();
      await seedCopyCatalog(harness.ctx.services);
    });
    afterAll(async () => {
      await harness?.close();
    });

    /** Places a call between two new subscribers; returns them and the Call-ID. */
    async function call(caller: string, called: string): Promise<{ parties: Parties; callId: string }> {
      const parties = await newParties(harness.ctx);
      const callId = await harness.call({ transport, caller, called, parties, expect: ANNOUNCED });
      return { parties, callId };
    }

    it('announces what each party presents and records the call from answer to BYE', async () => {
      const { parties, callId } = await call('caller-call.xml', 'called-answer.xml');
      const session = await expectEndedAfterAnswer(harness.ctx, callId);
      expect(session).toMatchObject({ caller: parties.caller, called: parties.called, toCaller: [TONES.toCaller], toCalled: [TONES.toCalled] });
      await expectNothingCopied(harness.ctx, parties);
    });

    it('copies into the caller library from an INFO in the confirmed dialog', async () => {
      const { parties, callId } = await call('caller-copy-confirmed.xml', 'called-answer.xml');
      await expectCallerCopied(harness.ctx, parties);
      await expectEndedAfterAnswer(harness.ctx, callId);
    });

    it('copies from an INFO in the early dialog, while the call rings, and the call then ends on CANCEL', async () => {
      const { parties, callId } = await call('caller-copy-early.xml', 'called-ringing-cancel.xml');
      await expectCallerCopied(harness.ctx, parties);
      await expectEndedUnanswered(harness.ctx, callId);
    });

    it('IMS call: reliable 183 with SDP, PRACK, a copy in the early dialog, an INFO passed on to the called UA, answer and BYE', async () => {
      const { parties, callId } = await call('caller-ims-early-copy.xml', 'called-ims-answer.xml');
      await expectCallerCopied(harness.ctx, parties);
      await expectEndedAfterAnswer(harness.ctx, callId);
    });

    it('copies on the DTMF copy key', async () => {
      const { parties } = await call('caller-copy-dtmf.xml', 'called-answer.xml');
      await expectCallerCopied(harness.ctx, parties);
    });

    it('passes an INFO that is not a copy request to the called party and copies nothing', async () => {
      const { parties } = await call('caller-info-passthrough.xml', 'called-answer-info.xml');
      await expectNothingCopied(harness.ctx, parties);
    });

    it('passes hold and resume (re-INVITE) to the called party and their answers back', async () => {
      const { parties, callId } = await call('caller-hold-resume.xml', 'called-hold-resume.xml');
      await expectEndedAfterAnswer(harness.ctx, callId);
      await expectNothingCopied(harness.ctx, parties);
    });

    it('cancels a ringing call end to end and ends its presenting session', async () => {
      const { parties, callId } = await call('caller-cancel.xml', 'called-ringing-cancel.xml');
      await expectEndedUnanswered(harness.ctx, callId);
      await expectNothingCopied(harness.ctx, parties);
    });

    it('relays a busy called party and ends the presenting session', async () => {
      const { parties, callId } = await call('caller-busy.xml', 'called-busy.xml');
      await expectEndedUnanswered(harness.ctx, callId);
      await expectNothingCopied(harness.ctx, parties);
    });

    it('refuses bad copy requests (400, 413, 415, 469, 403) and applies none of them', async () => {
      const { parties, callId } = await call('caller-copy-bad-input.xml', 'called-answer.xml');
      await expectNothingCopied(harness.ctx, parties);
      // The 403 was asked by a stranger to the call: nothing for it either.
      expect(await harness.ctx.services.users.library(STRANGER).all()).toEqual([]);
      await expectEndedAfterAnswer(harness.ctx, callId);
    });
  });
}
