/**
 * Who may use the embedded front (contract §3), over real UDP and TCP: a stranger's initial
 * INVITE is refused 403 with a Warning and nothing goes onward (the next INVITE the called peer
 * sees is a trusted peer's); a stranger's made-up in-dialog request opens no relay either; the
 * server answers requests for its own address itself. Loopback is trusted by default, so here
 * the S-CSCF is 127.0.0.3, the access peer 127.0.0.4 and the stranger 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLED_IP, startSipHarness, type SipHarness } from '../../support/sip/harness.js';
import { request, responseTo } from '../../support/sip/raw-messages.js';
import { isRequest, isStatus, RawPeer } from '../../support/sip/raw-peer.js';

const STRANGER_IP = '127.0.0.1';
const SCSCF_IP = '127.0.0.3';
const ACCESS_IP = '127.0.0.4';

let sequence = 0;
const newCallId = () => `access-${process.pid}-${++sequence}@test`;

describe.each(['udp', 'tcp'] as const)('who may use the embedded front over %s', (transport) => {
  let harness: SipHarness;
  let stranger: RawPeer;
  let scscf: RawPeer;
  let handset: RawPeer;
  let called: RawPeer;

  beforeAll(async () => {
    harness = await startSipHarness({ env: { CMR_SIP_TRUSTED: `${SCSCF_IP}/32`, CMR_SIP_ACCESS: `${ACCESS_IP}/32` } });
    stranger = await RawPeer.open(transport, STRANGER_IP, harness.server, 'caller');
    scscf = await RawPeer.open(transport, SCSCF_IP, harness.server, 'caller');
    handset = await RawPeer.open(transport, ACCESS_IP, harness.server, 'caller');
    called = await RawPeer.open(transport, CALLED_IP, harness.server, 'called');
  });
  afterAll(async () => {
    for (const peer of [stranger, scscf, handset, called]) await peer?.close();
    await harness?.close();
  });

  const target = () => `sip:+15551230002@${called.uriHostPort};user=phone`;
  const own = () => `sip:${harness.server.ip}:${harness.server.port};transport=${transport}`;

  /** Sends an INVITE toward the called peer from `caller`; returns its Call-ID. */
  const invite = (caller: RawPeer) => {
    const callId = newCallId();
    caller.send(request('INVITE', target(), caller, { callId }));
    return callId;
  };

  it("refuses a stranger's INVITE with 403 and a Warning, and forwards it nowhere", async () => {
    const refusedCallId = invite(stranger);
    const refusal = await stranger.receive(isStatus(403, 'INVITE'));
    expect(refusal.header('call-id')).toEqual([refusedCallId]);
    expect(refusal.header('warning')).toEqual([`399 ${harness.server.ip} "initial requests are taken only from the S-CSCFs and access peers of this server"`]);
    expect(stranger.hasReceived(isStatus(100))).toBe(false);

    // The next INVITE the called peer sees is the S-CSCF's: the stranger's never left.
    for (const caller of [scscf, handset]) {
      const callId = invite(caller);
      const forwarded = await called.receive(isRequest('INVITE'));
      expect(forwarded.header('call-id')).toEqual([callId]);
      called.send(responseTo(forwarded, 486, 'Busy Here', { toTag: `busy-${sequence}` }));
      await caller.receive(isStatus(486, 'INVITE'));
    }
    expect(called.hasReceived(isRequest('INVITE'))).toBe(false);
  });

  it("refuses a stranger's request inside a dialog this server does not carry", async () => {
    stranger.send(request('BYE', target(), stranger, { callId: newCallId(), toTag: 'made-up', cseq: 2 }));
    const refusal = await stranger.receive(isStatus(403, 'BYE'));
    expect(refusal.header('warning')[0]).toMatch(/"no such call through this server"$/);
    // The OPTIONS that follows reaches the called peer; the BYE never did.
    const callId = newCallId();
    scscf.send(request('OPTIONS', target(), scscf, { callId }));
    const options = await called.receive(isRequest('OPTIONS'));
    expect(options.header('call-id')).toEqual([callId]);
    expect(called.hasReceived(isRequest('BYE'))).toBe(false);
    called.send(responseTo(options, 200, 'OK', { toTag: 'options' }));
    await scscf.receive(isStatus(200, 'OPTIONS'));
  });

  it('answers OPTIONS for its own address, refuses REGISTER there from its S-CSCF, and refuses both from a stranger', async () => {
    handset.send(request('OPTIONS', own(), handset, { callId: newCallId() }));
    const ok = await handset.receive(isStatus(200, 'OPTIONS'));
    expect(ok.header('recv-info')).toEqual(['cmr-copy']);

    scscf.send(request('REGISTER', own(), scscf, { callId: newCallId(), to: '<sip:+15551230001@example.net;user=phone>' }));
    expect((await scscf.receive(isStatus(403, 'REGISTER'))).header('warning')[0]).toMatch(/"this server registers only its access peers"$/);

    for (const method of ['OPTIONS', 'REGISTER']) {
      stranger.send(request(method, own(), stranger, { callId: newCallId() }));
      await stranger.receive(isStatus(403, method));
    }
  });
});
