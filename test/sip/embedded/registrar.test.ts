/**
 * The embedded front as the registrar of its access peers (contract §3): a REGISTER proves its
 * identity with the REST API's token (RFC 8898 bearer), binds it to its flow in Redis with an
 * expiry that a refresh renews and `Expires: 0` ends; an initial INVITE for a registered identity
 * reaches that flow (raw UDP and TCP, and SIP.js over WebSocket), and the registered handset's
 * calls are its identity's whatever their From says. Loopback is made an access peer, not trusted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Inviter, Registerer, RegistererState, SessionState, UserAgent, type Invitation } from 'sip.js';
import type { Identity } from '../../../src/domain/identity.js';
import { signToken } from '../../../src/http/tokens.js';
import { newParties, numberOf, presentingSession, TONES, type Parties } from '../../support/call-outcomes.js';
import { seedCopyCatalog } from '../../support/copy-fixtures.js';
import { startHandset } from '../../support/sip/handset.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../../support/sip/harness.js';
import { request, responseTo } from '../../support/sip/raw-messages.js';
import { isRequest, isStatus, RawPeer } from '../../support/sip/raw-peer.js';

let sequence = 0;
const newCallId = () => `registrar-${process.pid}-${++sequence}@test`;

let harness: SipHarness;
const tokenOf = (identity: Identity) => signToken(harness.ctx.config.auth.jwtSecret, { sub: identity, role: 'user' });

beforeAll(async () => {
  harness = await startSipHarness({ env: { CMR_SIP_TRUSTED: '127.0.0.9/32', CMR_SIP_ACCESS: '127.0.0.0/8' } });
  await seedCopyCatalog(harness.ctx.services);
});
afterAll(async () => {
  await harness?.close();
});

describe.each(['udp', 'tcp'] as const)('registrar over %s', (transport) => {
  let parties: Parties;
  let handset: RawPeer;
  let caller: RawPeer;
  const registrar = () => `sip:${harness.server.ip}:${harness.server.port};transport=${transport}`;
  const aor = (identity: Identity) => `<sip:${numberOf(identity)}@${harness.server.ip};user=phone>`;
  const register = (identity: Identity, options: { token?: string | null; expires?: number; contact?: string } = {}) => {
    const token = options.token === undefined ? tokenOf(identity) : options.token;
    handset.send(
      request('REGISTER', registrar(), handset, {
        callId: `reg-${transport}-${identity}`,
        cseq: ++sequence,
        from: aor(identity),
        to: aor(identity),
        headers: [...(token === null ? [] : [`Authorization: Bearer ${token}`]), ...(options.expires === undefined ? [] : [`Expires: ${options.expires}`])],
      }),
    );
    return handset.receive((m) => m.firstLine.startsWith('SIP/2.0 ') && (m.header('cseq')[0] ?? '') === `${sequence} REGISTER`);
  };
  const bindingTtlMs = (identity: Identity) => harness.ctx.services.redis.pttl(harness.ctx.services.keys.sipBinding(identity));

  beforeAll(async () => {
    parties = await newParties(harness.ctx);
    // A handset on the called side's address: its REGISTER comes from there, its calls go there.
    handset = await RawPeer.open(transport, CALLED_IP, harness.server, 'caller');
    caller = await RawPeer.open(transport, CALLER_IP, harness.server, 'caller');
  });
  afterAll(async () => {
    await handset?.close();
    await caller?.close();
  });

  it('refuses a REGISTER without a token (401 Bearer), with a bad one (401 invalid_token) and for another identity (403); nothing is bound', async () => {
    const none = await register(parties.called, { token: null });
    expect(none.firstLine).toBe('SIP/2.0 401 Unauthorized');
    expect(none.header('www-authenticate')).toEqual([`Bearer realm="${harness.server.ip}"`]);

    const forged = tokenOf(parties.called);
    const bad = await register(parties.called, { token: `${forged.slice(0, -3)}${forged.at(-3) === 'A' ? 'B' : 'A'}${forged.slice(-2)}` });
    expect(bad.firstLine).toBe('SIP/2.0 401 Unauthorized');
    expect(bad.header('www-authenticate')).toEqual([`Bearer realm="${harness.server.ip}", error="invalid_token"`]);

    const someoneElse = await register(parties.called, { token: tokenOf(parties.caller) });
    expect(someoneElse.firstLine).toBe('SIP/2.0 403 Forbidden');
    expect(someoneElse.header('warning')[0]).toContain(`the token is for ${parties.caller}, not ${parties.called}`);
    expect(await bindingTtlMs(parties.called)).toBe(-2);
  });

  it('binds the identity to its flow with an expiry, routes an INVITE for it there, refreshes and removes the binding', async () => {
    const ok = await register(parties.called, { expires: 300 });
    expect(ok.firstLine).toBe('SIP/2.0 200 OK');
    expect(ok.header('contact')).toEqual([`<sip:peer@${handset.uriHostPort}>;expires=300`]);
    expect(await bindingTtlMs(parties.called)).toBeGreaterThan(290_000);

    // The caller addresses the called party at this server: the INVITE reaches the handset's flow, at its Contact.
    const callId = newCallId();
    caller.send(request('INVITE', `sip:${numberOf(parties.called)}@${harness.server.ip}:${harness.server.port};user=phone`, caller, { callId, from: aor(parties.caller), to: aor(parties.called) }));
    const invite = await handset.receive(isRequest('INVITE'));
    expect(invite.firstLine).toBe(`INVITE sip:peer@${handset.uriHostPort} SIP/2.0`);
    expect(invite.header('call-id')).toEqual([callId]);
    expect(invite.header('alert-info')).toEqual([`<${TONES.toCalled.contentUri}>;resource=${TONES.toCalled.resourceId}`]);
    handset.send(responseTo(invite, 486, 'Busy Here', { toTag: 'busy' }));
    await caller.receive(isStatus(486, 'INVITE'));

    const refreshed = await register(parties.called, { expires: 120 });
    expect(refreshed.header('contact')).toEqual([`<sip:peer@${handset.uriHostPort}>;expires=120`]);
    expect(await bindingTtlMs(parties.called)).toBeLessThanOrEqual(120_000);

    const brief = await register(parties.called, { expires: 10 });
    expect(brief.firstLine).toBe('SIP/2.0 423 Interval Too Brief');
    expect(brief.header('min-expires')).toEqual(['60']);

    const gone = await register(parties.called, { expires: 0 });
    expect(gone.firstLine).toBe('SIP/2.0 200 OK');
    expect(await bindingTtlMs(parties.called)).toBe(-2);
    caller.send(request('INVITE', `sip:${numberOf(parties.called)}@${harness.server.ip}:${harness.server.port};user=phone`, caller, { callId: newCallId(), cseq: 1 }));
    await caller.receive(isStatus(480, 'INVITE'));
    expect(handset.hasReceived(isRequest('INVITE'))).toBe(false);
  });

  it("takes a registered handset's calls as its identity's, whatever their From says", async () => {
    await register(parties.caller);
    const called = await RawPeer.open(transport, '127.0.0.5', harness.server, 'called');
    try {
      const callId = newCallId();
      handset.send(request('INVITE', `sip:${numberOf(parties.called)}@${called.uriHostPort};user=phone`, handset, { callId, from: '<tel:+15550000000>', to: aor(parties.called) }));
      const invite = await called.receive(isRequest('INVITE'));
      called.send(responseTo(invite, 486, 'Busy Here', { toTag: 'busy' }));
      await handset.receive(isStatus(486, 'INVITE'));
      expect(await presentingSession(harness.ctx, callId)).toMatchObject({ caller: parties.caller, called: parties.called });
    } finally {
      await register(parties.caller, { expires: 0 });
      await called.close();
    }
  });
});

describe('registrar over WebSocket (SIP.js)', () => {
  it('registers two SIP.js handsets with their tokens; one calls the other at this server', async () => {
    const parties = await newParties(harness.ctx);
    const start = async (identity: Identity) => {
      const ua = await startHandset(`sip:${numberOf(identity)}@${harness.server.ip};user=phone`, harness.server);
      const registerer = new Registerer(ua, { extraHeaders: [`Authorization: Bearer ${tokenOf(identity)}`], expires: 300 });
      const registered = new Promise<void>((resolve) => registerer.stateChange.addListener((state) => state === RegistererState.Registered && resolve()));
      await registerer.register();
      await registered;
      return { ua, registerer };
    };
    const a = await start(parties.caller);
    const b = await start(parties.called);
    try {
      const ringing = new Promise<Invitation>((resolve) => (b.ua.delegate = { onInvite: resolve }));
      const inviter = new Inviter(a.ua, UserAgent.makeURI(`sip:${numberOf(parties.called)}@${harness.server.ip}:${harness.server.port};user=phone`)!);
      const established = new Promise<void>((resolve) => inviter.stateChange.addListener((state) => state === SessionState.Established && resolve()));
      await inviter.invite();
      const invitation = await ringing;
      expect(invitation.request.getHeaders('alert-info')).toEqual([`<${TONES.toCalled.contentUri}>;resource=${TONES.toCalled.resourceId}`]);
      await invitation.accept();
      await established;
      const ended = new Promise<void>((resolve) => invitation.stateChange.addListener((state) => state === SessionState.Terminated && resolve()));
      await inviter.bye();
      await ended;
      expect(await presentingSession(harness.ctx, inviter.request.callId)).toMatchObject({ caller: parties.caller, called: parties.called });
    } finally {
      for (const { ua, registerer } of [a, b]) {
        await registerer.unregister().catch(() => {});
        await ua.stop();
      }
    }
  });
});
