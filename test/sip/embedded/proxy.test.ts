/**
 * Proxy behaviour of the embedded front that only raw SIP shows: Record-Route and Via, Max-Forwards,
 * loops, Route handling, the outbound proxy, whose identity counts, and answers to bad requests.
 * Real sockets: a bare caller on 127.0.0.1 and a bare called peer on 127.0.0.2; the real core
 * behind the front, whose presenting sessions (REST) show what the front told it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvents } from '../../../src/calls/call-events.js';
import {
  expectCalledCopied,
  expectEndedAfterAnswer,
  expectEndedUnanswered,
  newParties,
  numberOf,
  presentingSession,
  sessionWhen,
  TONES,
} from '../../support/call-outcomes.js';
import { HANDSET, newUser, seedCopyCatalog } from '../../support/copy-fixtures.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../../support/sip/harness.js';
import { recordRouteSet, request, responseTo } from '../../support/sip/raw-messages.js';
import { isRequest, isStatus, RawPeer } from '../../support/sip/raw-peer.js';

let sequence = 0;
const newCallId = () => `proxy-${process.pid}-${++sequence}@test`;
const alertInfo = (tone: { resourceId: string; contentUri: string }) => `<${tone.contentUri}>;resource=${tone.resourceId}`;

describe('embedded proxy', () => {
  let harness: SipHarness;
  const peers: RawPeer[] = [];
  const open = async (transport: 'udp' | 'tcp', role: 'caller' | 'called') => {
    const peer = await RawPeer.open(transport, role === 'caller' ? CALLER_IP : CALLED_IP, harness.server, role);
    peers.push(peer);
    return peer;
  };

  beforeAll(async () => {
    harness = await startSipHarness();
    await seedCopyCatalog(harness.ctx.services);
  });
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await harness?.close();
  });

  describe.each(['udp', 'tcp'] as const)('a dialog over %s', (transport) => {
    it('is record-routed so each side reaches the other, and announced on INVITE, 18x and 200', async () => {
      const parties = await newParties(harness.ctx);
      const caller = await open(transport, 'caller');
      const called = await open(transport, 'called');
      const callId = newCallId();
      const T = transport.toUpperCase();
      const own = `127.0.0.1:${harness.server.port}`;

      caller.send(
        request('INVITE', `sip:${numberOf(parties.called)}@${called.uriHostPort};user=phone`, caller, {
          callId,
          maxForwards: 10,
          headers: [`P-Asserted-Identity: <${parties.caller}>`],
        }),
      );
      await caller.receive(isStatus(100));
      const invite = await called.receive(isRequest('INVITE'));
      expect(invite.header('max-forwards')).toEqual(['9']);
      expect(invite.header('via')[0]).toMatch(new RegExp(`^SIP/2.0/${T} ${own.replace(/\./g, '\\.')};branch=z9hG4bK`));
      expect(invite.header('via')[1]).toContain(`received=${CALLER_IP}`);
      expect(invite.header('alert-info')).toEqual([alertInfo(TONES.toCalled)]);
      expect(invite.header('p-asserted-identity')).toEqual([`<${parties.caller}>`]);
      const routes = recordRouteSet(invite);
      // UDP: one entry; TCP: a second one naming the caller's connection (double Record-Route).
      expect(routes[0]).toBe(`<sip:${own};transport=${transport};lr>`);
      expect(routes.slice(1)).toEqual(transport === 'udp' ? [] : [expect.stringMatching(new RegExp(`^<sip:flow-[\\w-]{12}@${own.replace(/\./g, '\\.')};transport=tcp;lr>$`))]);

      called.send(responseTo(invite, 180, 'Ringing', { toTag: 'called-tag', contact: called }));
      const ringing = await caller.receive(isStatus(180));
      expect(ringing.header('alert-info')).toEqual([alertInfo(TONES.toCaller)]);
      expect(ringing.header('recv-info')).toEqual(['cmr-copy']);
      expect(ringing.header('via')).toHaveLength(1);

      called.send(responseTo(invite, 200, 'OK', { toTag: 'called-tag', contact: called }));
      const ok = await caller.receive(isStatus(200, 'INVITE'));
      expect(ok.header('recv-info')).toEqual(['cmr-copy']);
      expect(await sessionWhen(harness.ctx, callId, 'confirmed')).toMatchObject({ caller: parties.caller, called: parties.called, fromTag: 'caller-tag' });

      const dialog = { callId, toTag: 'called-tag' };
      caller.send(request('ACK', `sip:peer@${called.uriHostPort}`, caller, { ...dialog, routes: [...recordRouteSet(ok)].reverse() }));
      await called.receive(isRequest('ACK'));

      // The called party copies what it is presented, then hangs up: both requests follow the
      // route set back toward the caller; the copy is answered by the server.
      const fromCalled = {
        callId,
        fromTag: 'called-tag',
        toTag: 'caller-tag',
        from: `<sip:${numberOf(parties.called)}@example.net;user=phone>`,
        to: `<sip:${numberOf(parties.caller)}@example.net;user=phone>`,
        routes: recordRouteSet(invite),
      };
      const copyBody = JSON.stringify({ caller: parties.caller, called: parties.called, client: HANDSET });
      called.send(request('INFO', `sip:peer@${caller.uriHostPort}`, called, { ...fromCalled, cseq: 1, headers: ['Info-Package: cmr-copy', 'Content-Type: application/vnd.cmr.copy+json'], body: copyBody }));
      const copied = await called.receive(isStatus(200, 'INFO'));
      const entry = await expectCalledCopied(harness.ctx, parties);
      expect(JSON.parse(copied.body)).toMatchObject({ result: 'copied', entries: [{ resourceId: TONES.toCalled.resourceId, libraryEntryId: entry.id }] });
      expect(caller.hasReceived(isRequest('INFO'))).toBe(false);

      called.send(request('BYE', `sip:peer@${caller.uriHostPort}`, called, { ...fromCalled, cseq: 2 }));
      const bye = await caller.receive(isRequest('BYE'));
      caller.send(responseTo(bye, 200, 'OK'));
      await called.receive(isStatus(200, 'BYE'));
      await expectEndedAfterAnswer(harness.ctx, callId);
    });
  });

  it('advertises copying on 18x and 200 even when nothing is presented to the caller, and answers the copy 404', async () => {
    // Two subscribers with no tones: nothing to announce, yet a copy request is the copy service's to refuse.
    const parties = { caller: newUser(), called: newUser() };
    const caller = await open('udp', 'caller');
    const called = await open('udp', 'called');
    const callId = newCallId();
    caller.send(request('INVITE', `sip:${numberOf(parties.called)}@${called.uriHostPort};user=phone`, caller, { callId, headers: [`P-Asserted-Identity: <${parties.caller}>`] }));
    const invite = await called.receive(isRequest('INVITE'));
    expect(invite.header('alert-info')).toEqual([]);
    called.send(responseTo(invite, 180, 'Ringing', { toTag: 'called-tag', contact: called }));
    const ringing = await caller.receive(isStatus(180));
    expect(ringing.header('alert-info')).toEqual([]);
    expect(ringing.header('recv-info')).toEqual(['cmr-copy']);
    called.send(responseTo(invite, 200, 'OK', { toTag: 'called-tag', contact: called }));
    const ok = await caller.receive(isStatus(200, 'INVITE'));
    expect(ok.header('recv-info')).toEqual(['cmr-copy']);

    const copyBody = JSON.stringify({ caller: parties.caller, called: parties.called, client: HANDSET });
    caller.send(
      request('INFO', `sip:peer@${called.uriHostPort}`, caller, {
        callId,
        toTag: 'called-tag',
        cseq: 2,
        routes: [...recordRouteSet(ok)].reverse(),
        headers: [`P-Asserted-Identity: <${parties.caller}>`, 'Info-Package: cmr-copy', 'Content-Type: application/vnd.cmr.copy+json'],
        body: copyBody,
      }),
    );
    const refused = await caller.receive(isStatus(404, 'INFO'));
    expect(refused.header('warning')[0]).toMatch(/^399 \S+ ".+"$/);
    expect(called.hasReceived(isRequest('INFO'))).toBe(false);
  });

  it('refuses a request that has run out of hops (483) without forwarding it', async () => {
    const caller = await open('udp', 'caller');
    const called = await open('udp', 'called');
    caller.send(request('INVITE', `sip:+15551230002@${called.uriHostPort};user=phone`, caller, { callId: newCallId(), maxForwards: 0 }));
    const answer = await caller.receive(isStatus(483));
    expect(answer.header('to')[0]).toMatch(/;tag=\w+/);
    expect(called.hasReceived(isRequest('INVITE'))).toBe(false);
  });

  it('detects a request that loops back to it (482)', async () => {
    const caller = await open('udp', 'caller');
    const called = await open('udp', 'called');
    caller.send(request('MESSAGE', `sip:somebody@${called.uriHostPort}`, caller, { callId: newCallId() }));
    const forwarded = await called.receive(isRequest('MESSAGE'));
    // A misrouted next hop sends it straight back.
    called.send(forwarded.text.replace(/^(MESSAGE [^\r]*\r\n)/, `$1Via: SIP/2.0/UDP ${called.ip}:${called.port};branch=z9hG4bK-bounce\r\n`));
    await called.receive(isStatus(482));
    called.send(responseTo(forwarded, 200, 'OK', { toTag: 'loop' }));
    await caller.receive(isStatus(200, 'MESSAGE'));
  });

  it('answers a request for its own address that nobody registered here with 480, never forwarding it to itself', async () => {
    const caller = await open('udp', 'caller');
    caller.send(request('MESSAGE', `sip:somebody@127.0.0.1:${harness.server.port}`, caller, { callId: newCallId() }));
    await caller.receive(isStatus(480, 'MESSAGE'));
  });

  it("answers an OPTIONS keep-alive addressed to it with 200, its methods and the copy package", async () => {
    const caller = await open('udp', 'caller');
    caller.send(request('OPTIONS', `sip:127.0.0.1:${harness.server.port}`, caller, { callId: newCallId() }));
    const answer = await caller.receive(isStatus(200, 'OPTIONS'));
    expect(answer.header('allow')[0]).toMatch(/INVITE.*INFO.*OPTIONS/);
    expect(answer.header('recv-info')).toEqual(['cmr-copy']);
    expect(answer.header('to')[0]).toMatch(/;tag=\w+/);
  });

  it('sends to the Route entry after its own, keeping the Request-URI', async () => {
    const caller = await open('udp', 'caller');
    const called = await open('udp', 'called');
    const callId = newCallId();
    const next = `<sip:${called.ip}:${called.port};lr>`;
    caller.send(request('INVITE', 'tel:+15551230002', caller, { callId, routes: [`<sip:127.0.0.1:${harness.server.port};lr>`, next] }));
    const invite = await called.receive(isRequest('INVITE'));
    expect(invite.firstLine).toBe('INVITE tel:+15551230002 SIP/2.0');
    expect(invite.header('route')).toEqual([next]);
    expect(await presentingSession(harness.ctx, callId)).toMatchObject({ caller: 'tel:+15551230001', called: 'tel:+15551230002' });
    called.send(responseTo(invite, 486, 'Busy Here', { toTag: 'busy' }));
    await caller.receive(isStatus(486));
    await called.receive(isRequest('ACK'));
    await expectEndedUnanswered(harness.ctx, callId);
  });

  it('takes the called party from P-Served-User of a trusted peer', async () => {
    const caller = await open('udp', 'caller');
    const called = await open('udp', 'called');
    const callId = newCallId();
    caller.send(
      request('INVITE', `sip:+15551230002@${called.uriHostPort};user=phone`, caller, {
        callId,
        headers: ['P-Asserted-Identity: <tel:+15551230001>', 'P-Served-User: <sip:+15551239999@ims.example.net;user=phone>;sescase=term;regstate=reg'],
      }),
    );
    const invite = await called.receive(isRequest('INVITE'));
    expect(await presentingSession(harness.ctx, callId)).toMatchObject({ caller: 'tel:+15551230001', called: 'tel:+15551239999' });
    called.send(responseTo(invite, 603, 'Decline', { toTag: 'no' }));
    await caller.receive(isStatus(603));
  });

  it('answers a malformed request it can answer with 400 and a Warning', async () => {
    const caller = await open('udp', 'caller');
    const text = request('INVITE', 'sip:+15551230002@127.0.0.2:9;user=phone', caller, { callId: newCallId() }).replace('CSeq: 1 INVITE', 'CSeq: 1 BYE');
    caller.send(text);
    const answer = await caller.receive(isStatus(400));
    expect(answer.header('warning')[0]).toMatch(/^399 127\.0\.0\.1 "CSeq method does not match the request"$/);
  });

  it('answers a CANCEL for no pending INVITE with 481', async () => {
    const caller = await open('udp', 'caller');
    caller.send(request('CANCEL', 'sip:+15551230002@127.0.0.2:9;user=phone', caller, { callId: newCallId() }));
    await caller.receive(isStatus(481));
  });
});

describe('embedded proxy with an outbound proxy and no trusted peers', () => {
  it('sends initial requests through the outbound proxy, and neither honours nor passes on asserted identities', async () => {
    const proxy = await RawPeer.open('udp', CALLED_IP, { ip: '127.0.0.1', port: 0 }, 'called');
    const harness = await startSipHarness({
      env: { CMR_SIP_TRUSTED: '127.0.0.9/32', CMR_SIP_ACCESS: `${CALLER_IP}/32`, CMR_SIP_OUTBOUND_PROXY: `sip:${proxy.ip}:${proxy.port}` },
    });
    try {
      const caller = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
      const callId = newCallId();
      caller.send(
        request('INVITE', 'sip:+15551230002@nowhere.invalid;user=phone', caller, {
          callId,
          from: '<sip:alice@example.net>',
          headers: ['P-Asserted-Identity: <tel:+15557770000>', 'P-Served-User: <tel:+15558880000>'],
        }),
      );
      const invite = await proxy.receive(isRequest('INVITE'));
      expect(invite.header('route')).toEqual([`<sip:${proxy.ip}:${proxy.port};lr>`]);
      expect(invite.header('p-asserted-identity')).toEqual([]);
      expect(invite.header('p-served-user')).toEqual([]);
      expect(await presentingSession(harness.ctx, callId)).toMatchObject({ caller: 'sip:alice@example.net', called: 'tel:+15551230002' });
      await caller.close();
    } finally {
      await proxy.close();
      await harness.close();
    }
  });
});

describe('embedded proxy when the core fails', () => {
  it('forwards the call unannotated when the presentation service fails or hangs', async () => {
    // A misbehaving neighbour: the real service never throws nor hangs, the front must not rely on it.
    const failing: CallEvents = {
      callStarted: (start) => (start.callId.endsWith('hang@test') ? new Promise(() => {}) : Promise.reject(new Error('store down'))),
      callAnswered: () => Promise.reject(new Error('store down')),
      callEnded: () => Promise.reject(new Error('store down')),
      findCall: async () => null,
    };
    const harness = await startSipHarness({ env: { CMR_SELECT_BUDGET_MS: '20' }, ports: () => ({ calls: failing }) });
    const caller = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
    const called = await RawPeer.open('udp', CALLED_IP, harness.server, 'called');
    try {
      for (const callId of [`fail-${process.pid}@test`, `hang-${process.pid}-hang@test`]) {
        caller.send(request('INVITE', `sip:+15551230002@${called.uriHostPort};user=phone`, caller, { callId }));
        const invite = await called.receive((m) => isRequest('INVITE')(m) && m.header('call-id')[0] === callId);
        expect(invite.header('alert-info')).toEqual([]);
        called.send(responseTo(invite, 200, 'OK', { toTag: 'up', contact: called }));
        const ok = await caller.receive((m) => isStatus(200, 'INVITE')(m) && m.header('call-id')[0] === callId);
        expect(ok.header('alert-info')).toEqual([]);
        // Copying is advertised all the same: refusing a copy request is the copy service's answer.
        expect(ok.header('recv-info')).toEqual(['cmr-copy']);
      }
    } finally {
      await Promise.all([caller.close(), called.close()]);
      await harness.close();
    }
  });
});

describe('embedded proxy timers', () => {
  let harness: SipHarness;
  let caller: RawPeer;
  let called: RawPeer;

  beforeAll(async () => {
    // Short timers, so a silent called party shows within the test: Timer C 1 s, cancel wait 300 ms.
    harness = await startSipHarness({ env: { CMR_SIP_TIMER_C_SEC: '1', CMR_SIP_CANCEL_WAIT_MS: '300' } });
    caller = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
    called = await RawPeer.open('udp', CALLED_IP, harness.server, 'called');
  });
  afterAll(async () => {
    await Promise.all([caller?.close(), called?.close()]);
    await harness?.close();
  });

  /** A call ringing at the called party; returns the INVITE as sent and as the called party got it. */
  async function ringing(callId: string) {
    const invite = request('INVITE', `sip:+15551230002@${called.uriHostPort};user=phone`, caller, { callId });
    caller.send(invite);
    const atCalled = await called.receive((m) => isRequest('INVITE')(m) && m.header('call-id')[0] === callId);
    called.send(responseTo(atCalled, 180, 'Ringing', { toTag: 'ringing', contact: called }));
    await caller.receive((m) => isStatus(180, 'INVITE')(m) && m.header('call-id')[0] === callId);
    return { invite, atCalled };
  }

  it('answers the caller 487 itself and ends the call when the called party never answers the CANCEL', async () => {
    const callId = newCallId();
    const { invite } = await ringing(callId);

    // CANCEL matches the INVITE by its Via branch (RFC 3261 §9.1).
    caller.send(invite.replace(/^INVITE /, 'CANCEL ').replace('CSeq: 1 INVITE', 'CSeq: 1 CANCEL'));
    await caller.receive((m) => isStatus(200, 'CANCEL')(m) && m.header('call-id')[0] === callId);
    const cancel = await called.receive((m) => isRequest('CANCEL')(m) && m.header('call-id')[0] === callId);
    called.send(responseTo(cancel, 200, 'OK'));
    // …and no 487 from the called party: the proxy gives up waiting.
    await caller.receive((m) => isStatus(487, 'INVITE')(m) && m.header('call-id')[0] === callId);
    await expectEndedUnanswered(harness.ctx, callId);
  });

  it('cancels a branch that sends only 100 Trying once Timer C runs out', async () => {
    const callId = newCallId();
    caller.send(request('INVITE', `sip:+15551230002@${called.uriHostPort};user=phone`, caller, { callId }));
    const atCalled = await called.receive((m) => isRequest('INVITE')(m) && m.header('call-id')[0] === callId);
    called.send(responseTo(atCalled, 100, 'Trying'));

    const cancel = await called.receive((m) => isRequest('CANCEL')(m) && m.header('call-id')[0] === callId);
    called.send(responseTo(cancel, 200, 'OK'));
    called.send(responseTo(atCalled, 487, 'Request Terminated', { toTag: 'trying' }));
    await caller.receive((m) => isStatus(487, 'INVITE')(m) && m.header('call-id')[0] === callId);
    await expectEndedUnanswered(harness.ctx, callId);
  });

  it('cancels a branch that rings past Timer C, relays its 487 and ends the call', async () => {
    const callId = newCallId();
    const { atCalled } = await ringing(callId);

    const cancel = await called.receive((m) => isRequest('CANCEL')(m) && m.header('call-id')[0] === callId);
    expect(cancel.header('via')[0]).toBe(atCalled.header('via')[0]);
    called.send(responseTo(cancel, 200, 'OK'));
    called.send(responseTo(atCalled, 487, 'Request Terminated', { toTag: 'ringing' }));
    await caller.receive((m) => isStatus(487, 'INVITE')(m) && m.header('call-id')[0] === callId);
    await expectEndedUnanswered(harness.ctx, callId);
  });
});
