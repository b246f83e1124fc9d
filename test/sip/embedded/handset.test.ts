/**
 * A WebRTC-style handset (SIP.js over WebSocket) calls through the embedded front to a sipp
 * called UA over UDP: it sees the resource announced in the 180, copies it with an INFO after
 * the answer (session.info) and reads the copy result, then hangs up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inviter, SessionState, UserAgent, type Core } from 'sip.js';
import type { CallAnnotation } from '../../../src/calls/call-events.js';
import { RecordingCallEvents } from '../../support/sip/call-events-double.js';
import { CopyRulesDouble } from '../../support/sip/copy-double.js';
import { startHandset } from '../../support/sip/handset.js';
import { CALLED, CALLED_IP, CALLER, startSipHarness, type SipHarness } from '../../support/sip/harness.js';
import { runSipp } from '../../support/sip/sipp.js';
import { freePort, waitForListener } from '../../support/sip/sockets.js';

type IncomingResponse = Core.IncomingResponse;

const ANNOTATION: CallAnnotation = {
  toCaller: [{ resourceId: 'r-summer', contentUri: 'https://media.example.net/tones/summer.mp3' }],
  toCalled: [{ resourceId: 'r-winter', contentUri: 'https://media.example.net/tones/winter.mp3' }],
};

describe('SIP.js handset over WebSocket', () => {
  let harness: SipHarness;
  let calls: RecordingCallEvents;
  let handset: UserAgent;

  beforeAll(async () => {
    calls = new RecordingCallEvents(ANNOTATION);
    harness = await startSipHarness(() => ({ calls, copy: new CopyRulesDouble(calls, { copyKey: '*', host: '127.0.0.1' }) }));
    handset = await startHandset(`sip:${CALLER}@cmr.example.net;user=phone`, harness.server);
  });
  afterAll(async () => {
    await handset?.stop();
    await harness?.close();
  });

  it('sees the announced resource while ringing and copies it once answered', async () => {
    const calledPort = await freePort(CALLED_IP);
    const called = runSipp({ scenario: 'called-answer.xml', transport: 'udp', local: { ip: CALLED_IP, port: calledPort }, vars: { called_resource: 'r-winter' } });
    await waitForListener(CALLED_IP, calledPort, 'udp');

    const target = UserAgent.makeURI(`sip:${CALLED}@${CALLED_IP}:${calledPort};user=phone`)!;
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
    expect(ringing.message.getHeaders('alert-info')).toEqual(['<https://media.example.net/tones/summer.mp3>;resource=r-summer']);
    expect(ringing.message.getHeader('recv-info')).toBe('cmr-copy');

    const copyRequest = { caller: `tel:${CALLER}`, called: `tel:${CALLED}`, client: { id: 'acme-handset', version: '2.1.0' } };
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
    expect(JSON.parse(answer.message.body)).toMatchObject({ result: 'copied', entries: [{ resourceId: 'r-summer' }] });

    await inviter.bye();
    const result = await called;
    expect(result.code, result.report).toBe(0);
    const callId = calls.started.at(-1)!.callId;
    expect(calls.started.at(-1)).toMatchObject({ caller: `tel:${CALLER}`, called: `tel:${CALLED}` });
    expect(calls.story(callId)).toEqual({ answered: true, ended: ['bye'] });
  });
});
