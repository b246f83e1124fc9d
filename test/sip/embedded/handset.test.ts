/**
 * A WebRTC-style handset (SIP.js over WebSocket) calls through the embedded front to a sipp
 * called UA over UDP: it sees the resource announced in the 180, copies it with an INFO after
 * the answer (session.info) and reads the copy result, then hangs up; the REST API then shows the
 * charge and the copy activity naming the new library entry, which the library holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inviter, SessionState, UserAgent, type Core } from 'sip.js';
import { activitiesOf, chargesOf, expectCallerCopied, expectEndedAfterAnswer, newParties, numberOf, TONES, type Parties } from '../../support/call-outcomes.js';
import { HANDSET, seedCopyCatalog } from '../../support/copy-fixtures.js';
import { startHandset } from '../../support/sip/handset.js';
import { CALLED_IP, startSipHarness, type SipHarness } from '../../support/sip/harness.js';
import { runSipp } from '../../support/sip/sipp.js';
import { freePort, waitForListener } from '../../support/sip/sockets.js';

type IncomingResponse = Core.IncomingResponse;

describe('SIP.js handset over WebSocket', () => {
  let harness: SipHarness;
  let parties: Parties;
  let handset: UserAgent;

  beforeAll(async () => {
    harness = await startSipHarness();
    await seedCopyCatalog(harness.ctx.services);
    parties = await newParties(harness.ctx);
    // The handset's own URI names its subscriber; over WebSocket it is not a trusted peer, so From counts.
    handset = await startHandset(`sip:${numberOf(parties.caller)}@cmr.example.net;user=phone`, harness.server);
  });
  afterAll(async () => {
    await handset?.stop();
    await harness?.close();
  });

  it('sees the announced resource while ringing and copies it once answered', async () => {
    const calledPort = await freePort(CALLED_IP);
    const called = runSipp({ scenario: 'called-answer.xml', transport: 'udp', local: { ip: CALLED_IP, port: calledPort }, vars: { called_resource: TONES.toCalled.resourceId } });
    await waitForListener(CALLED_IP, calledPort, 'udp');

    const target = UserAgent.makeURI(`sip:${numberOf(parties.called)}@${CALLED_IP}:${calledPort};user=phone`)!;
    const inviter = new Inviter(handset, target);
    const established = new Promise<void>((resolve, reject) =>
      inviter.stateChange.addListener((state) => {
        if (state === SessionState.Established) resolve();
        if (state === SessionState.Terminated) reject(new Error('call failed'));
      }),
    );
    const provisional: IncomingResponse[] = [];
    await inviter.invite({ requestDelegate: { onProgress: (response) => provisional.push(response) } });
    await established;

    const ringing = provisional.find((r) => r.message.statusCode === 180)!;
    expect(ringing.message.getHeaders('alert-info')).toEqual([`<${TONES.toCaller.contentUri}>;resource=${TONES.toCaller.resourceId}`]);
    expect(ringing.message.getHeader('recv-info')).toBe('cmr-copy');

    const copyRequest = { caller: parties.caller, called: parties.called, client: HANDSET };
    const answer = await new Promise<IncomingResponse>((resolve, reject) => {
      inviter
        .info({
          requestOptions: {
            extraHeaders: ['Info-Package: cmr-copy'],
            body: { contentDisposition: 'Info-Package', contentType: 'application/vnd.cmr.copy+json', content: JSON.stringify(copyRequest) },
          },
          requestDelegate: { onAccept: resolve, onReject: (response) => reject(new Error(`INFO refused: ${response.message.statusCode}`)) },
        })
        .catch(reject);
    });
    expect(answer.message.getHeader('content-type')).toBe('application/vnd.cmr.copy-result+json');
    const result = JSON.parse(answer.message.body) as { entries: Array<{ libraryEntryId: string }>; charge: { id: string } };

    await inviter.bye();
    const uas = await called;
    expect(uas.code, uas.report).toBe(0);
    const session = await expectEndedAfterAnswer(harness.ctx, inviter.request.callId);
    expect(session).toMatchObject({ caller: parties.caller, called: parties.called });

    // What the copy left, as the REST API and the library show it, is what the INFO answer said.
    const entry = await expectCallerCopied(harness.ctx, parties);
    expect(result).toEqual({
      result: 'copied',
      entries: [{ resourceId: TONES.toCaller.resourceId, libraryEntryId: entry.id, expiresAt: entry.expiresAt }],
      charge: { id: entry.chargeId, amount: 99, currency: 'EUR' },
    });
    const [charge] = await chargesOf(harness.ctx, parties.caller);
    expect(charge).toMatchObject({ id: result.charge.id, amount: 99, currency: 'EUR', outcome: 'granted' });
    const activities = await activitiesOf(harness.ctx, parties.caller);
    expect(activities).toEqual([
      expect.objectContaining({ kind: 'copy-online', channel: 'sip', result: 'success', chargeId: result.charge.id, detail: expect.objectContaining({ entryIds: [entry.id], from: parties.called }) }),
    ]);
  });
});
