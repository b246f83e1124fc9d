/**
 * A Route header that is not a name-addr (`Route: garbage`) is a bad request: answered 400 with
 * a Warning that names the header, whether on an initial INVITE or in a dialog, never a server
 * error, and sent nowhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../../support/sip/harness.js';
import { request } from '../../support/sip/raw-messages.js';
import { RawPeer } from '../../support/sip/raw-peer.js';

describe('an unreadable Route header', () => {
  let harness: SipHarness;
  let caller: RawPeer;
  let called: RawPeer;
  beforeAll(async () => {
    harness = await startSipHarness();
    caller = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
    called = await RawPeer.open('udp', CALLED_IP, harness.server, 'called');
  });
  afterAll(async () => {
    await Promise.all([caller?.close(), called?.close()]);
    await harness?.close();
  });

  it.each([
    ['an initial INVITE', 'INVITE', undefined],
    ['an INFO in a dialog', 'INFO', 'called-tag'],
  ])('on %s is answered 400', async (_label, method, toTag) => {
    const callId = `bad-route-${method}-${process.pid}@test`;
    caller.send(request(method, `sip:+15551230002@${called.uriHostPort};user=phone`, caller, { callId, ...(toTag ? { toTag } : {}), headers: ['Route: garbage'] }));
    const answer = await caller.receive((m) => m.header('call-id')[0] === callId && !m.firstLine.startsWith('SIP/2.0 100 '));
    expect(answer.firstLine).toBe('SIP/2.0 400 Bad Request');
    expect(answer.header('warning')[0]).toContain('Route: not a name-addr');
    expect(called.hasReceived((m) => m.header('call-id')[0] === callId)).toBe(false);
  });
});
