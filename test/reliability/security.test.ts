/**
 * Security beyond the authorization matrix (test/http/auth/matrix.test.ts): tokens forged in the
 * ways the matrix does not try, another user's data under every spelling of that user's identity
 * on every per-user route, per-token rate limiting (429 with Retry-After), and over SIP through
 * the embedded front with the real services: a copy INFO from a party outside the dialog or
 * naming other users is refused 403, and P-Asserted-Identity from an untrusted address is ignored
 * (the call and the copy are the From identity's, whatever the header claims).
 */
import { createSigner } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import { createTestContext, TEST_SECRET, type TestContext } from '../support/context.js';
import { libraryOf, newUser, owning, seedCopyCatalog } from '../support/copy-fixtures.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../support/sip/harness.js';
import { answerTo, copyInfoParts, openRawDialog } from '../support/sip/raw-dialog.js';
import { RawPeer, type SipText } from '../support/sip/raw-peer.js';
import { recordTrial, tally } from '../support/trial-summary.js';

const alice = 'tel:+15551230001';
const bob = 'tel:+15551230002';
const tried = { requests: 0, infos: 0, invites: 0 };
const outcomes: string[] = [];

afterAll(() =>
  recordTrial({
    test: 'security: tokens, other users, rate limit, SIP identities',
    tried: { 'REST requests': tried.requests, 'copy INFOs': tried.infos, INVITEs: tried.invites },
    outcomes: tally(outcomes),
  }),
);

describe('REST', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => ctx?.close());

  const get = async (url: string, headers: Record<string, string>) => {
    tried.requests += 1;
    const res = await ctx.app.inject({ method: 'GET', url, headers });
    outcomes.push(String(res.statusCode));
    return res;
  };
  const sign = (claims: Record<string, unknown>) => createSigner({ key: TEST_SECRET, algorithm: 'HS256', expiresIn: 600_000 })(claims);
  const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each([
    ['not valid yet (nbf ahead)', () => sign({ sub: alice, role: 'user', nbf: Math.floor(Date.now() / 1000) + 600 })],
    ['HMAC signature under an RS256 header', () => {
      const [, payload, signature] = sign({ sub: alice, role: 'sp' }).split('.');
      return `${base64({ alg: 'RS256', typ: 'JWT' })}.${payload}.${signature}`;
    }],
    ['payload changed after signing (user → sp)', () => {
      const [header, , signature] = sign({ sub: alice, role: 'user' }).split('.');
      return `${header}.${base64({ sub: alice, role: 'sp' })}.${signature}`;
    }],
    ['role in another case', () => sign({ sub: alice, role: 'SP' })],
    ['sub not a string', () => sign({ sub: [alice], role: 'user' })],
    ['empty signature', () => `${sign({ sub: alice, role: 'sp' }).split('.').slice(0, 2).join('.')}.`],
  ])('refuses a token %s (401)', async (_label, make) => {
    const res = await get(`/v1/users/${encodeURIComponent(alice)}/charges`, { authorization: `Bearer ${make()}` });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'unauthorized' });
  });

  it.each([
    ['another scheme', () => `Basic ${Buffer.from(`${alice}:secret`).toString('base64')}`],
    ['no token after the scheme', () => 'Bearer '],
    ['two tokens', () => `Bearer ${ctx.token(alice)}, Bearer ${ctx.token(alice)}`],
  ])('refuses an Authorization header with %s (401)', async (_label, make) => {
    const res = await get(`/v1/users/${encodeURIComponent(alice)}/charges`, { authorization: make() });
    expect(res.statusCode).toBe(401);
  });

  it('ignores a token in the query string', async () => {
    const res = await get(`/v1/users/${encodeURIComponent(alice)}/charges?access_token=${ctx.token(alice)}`, {});
    expect(res.statusCode).toBe(401);
  });

  it("never lets a user reach another user's data, however that user's identity is spelled", async () => {
    const forms = [
      bob,
      encodeURIComponent(bob),
      'TEL:+15551230002',
      encodeURIComponent('sip:+15551230002@ims.example.net;user=phone'),
      encodeURIComponent('sip:+15551230002@ims.example.net:5060;user=phone;transport=udp'),
      'tel:%2B15551230002',
    ];
    const perUser = ctx.app.routeTable.filter((r) => r.access === 'self');
    expect(perUser.length).toBeGreaterThan(3);
    for (const route of perUser) {
      for (const form of forms) {
        tried.requests += 1;
        const res = await ctx.app.inject({
          method: route.method as 'GET',
          url: route.url.replace(':uid', form).replace(/:[A-Za-z]+/g, 'x-1'),
          headers: ctx.as(alice),
          ...(['GET', 'DELETE'].includes(route.method) ? {} : { payload: {} }),
        });
        outcomes.push(String(res.statusCode));
        expect({ route: `${route.method} ${route.url}`, form, status: res.statusCode }).toEqual({ route: `${route.method} ${route.url}`, form, status: 403 });
      }
    }
  });
});

describe('per-token rate limiting', () => {
  let ctx: TestContext;
  const LIMIT = 5;
  beforeAll(async () => {
    ctx = await createTestContext({ env: { CMR_HTTP_RATE_LIMIT: String(LIMIT) } });
  });
  afterAll(async () => ctx?.close());

  const get = async (url: string, headers: Record<string, string> = {}) => {
    tried.requests += 1;
    const res = await ctx.app.inject({ method: 'GET', url, headers });
    outcomes.push(String(res.statusCode));
    return res;
  };

  it('answers 429 with Retry-After past the limit, per token; operations endpoints are not limited', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await get('/v1/resources', ctx.as(alice))).statusCode).toBe(200);
    const limited = await get('/v1/resources', ctx.as(alice));
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(limited.json()).toMatchObject({ status: 429, code: 'rate-limited' });
    // Another token of the same address has its own budget; the limited one stays limited.
    expect((await get('/v1/resources', ctx.as(bob))).statusCode).toBe(200);
    expect((await get(`/v1/users/${encodeURIComponent(alice)}/charges`, ctx.as(alice))).statusCode).toBe(429);
    for (let i = 0; i < 3 * LIMIT; i++) expect((await get('/healthz')).statusCode).toBe(200);
  });
});

describe('SIP identities', () => {
  let callerPeer: RawPeer;
  let calledPeer: RawPeer;

  async function peers(harness: SipHarness): Promise<void> {
    callerPeer = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
    calledPeer = await RawPeer.open('udp', CALLED_IP, harness.server, 'called');
  }
  async function closePeers(): Promise<void> {
    await Promise.all([callerPeer?.close(), calledPeer?.close()]);
  }
  /** Sends an INFO and returns its answer. */
  async function ask(from: RawPeer, text: string, callId: string, cseq: number): Promise<SipText> {
    tried.infos += 1;
    from.send(text);
    const answer = await from.receive(answerTo(callId, cseq));
    outcomes.push(`SIP ${answer.firstLine.split(' ')[1]}`);
    return answer;
  }

  describe('from trusted peers', () => {
    let harness: SipHarness;
    beforeAll(async () => {
      harness = await startSipHarness();
      await seedCopyCatalog(harness.ctx.services);
      await peers(harness);
    });
    afterAll(async () => {
      await closePeers();
      await harness?.close();
    });

    it('refuses a copy INFO from a party outside the dialog, and one whose body names other users (403)', async () => {
      const { services } = harness.ctx;
      const [caller, owner, stranger] = [newUser(), newUser(), newUser()];
      await owning(services, owner, ['r-song']);
      tried.invites += 1;
      const dialog = await openRawDialog(callerPeer, calledPeer, { caller, called: owner });
      const strangerPeer = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
      try {
        // The stranger knows the dialog (Call-ID, tags, route) and sends from a trusted address as itself.
        const intruding = dialog
          .fromCaller('INFO', { cseq: 2, ...copyInfoParts(caller, owner, {}, stranger) })
          .replace(/^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+/m, `Via: SIP/2.0/UDP 127.0.0.1:${strangerPeer.port}`);
        const refused = await ask(strangerPeer, intruding, dialog.callId, 2);
        expect(refused.firstLine).toBe('SIP/2.0 403 Forbidden');
        expect(refused.header('warning')[0]).toMatch(/neither the caller nor the called party/);
      } finally {
        await strangerPeer.close();
      }
      const naming = await ask(callerPeer, dialog.fromCaller('INFO', { cseq: 3, ...copyInfoParts(stranger, owner, {}, caller) }), dialog.callId, 3);
      expect(naming.firstLine).toBe('SIP/2.0 403 Forbidden');
      expect(naming.header('warning')[0]).toMatch(/not those of this call/);
      const otherCalled = await ask(callerPeer, dialog.fromCaller('INFO', { cseq: 4, ...copyInfoParts(caller, newUser()) }), dialog.callId, 4);
      expect(otherCalled.firstLine).toBe('SIP/2.0 403 Forbidden');
      for (const uid of [caller, stranger]) expect(await libraryOf(services, uid)).toEqual([]);
      expect((await services.charges.forUser(caller, 10)).items).toEqual([]);

      // The caller asking for itself is served: the refusals were about who asked, nothing else.
      const own = await ask(callerPeer, dialog.fromCaller('INFO', { cseq: 5, ...copyInfoParts(caller, owner) }), dialog.callId, 5);
      expect(own.firstLine).toBe('SIP/2.0 200 OK');
      expect((await libraryOf(services, caller)).map((e) => e.resourceId)).toEqual(['r-song']);
    });
  });

  describe('from an untrusted address', () => {
    let harness: SipHarness;
    beforeAll(async () => {
      // Only the called side (127.0.0.2) is trusted; the caller is an access peer (a handset), whose asserted identities must not count.
      harness = await startSipHarness({ env: { CMR_SIP_TRUSTED: `${CALLED_IP}/32`, CMR_SIP_ACCESS: `${CALLER_IP}/32` } });
      await seedCopyCatalog(harness.ctx.services);
      await peers(harness);
    });
    afterAll(async () => {
      await closePeers();
      await harness?.close();
    });

    it('ignores P-Asserted-Identity and P-Served-User: the call and the copy are those of From and the Request-URI', async () => {
      const { services } = harness.ctx;
      const [caller, owner, victim, other] = [newUser(), newUser(), newUser(), newUser()];
      await owning(services, owner, ['r-song']);
      await owning(services, other, ['r-tune']);
      tried.invites += 1;
      const dialog = await openRawDialog(callerPeer, calledPeer, {
        caller,
        called: owner,
        inviteHeaders: [`P-Asserted-Identity: <${victim}>`, `P-Served-User: <${other}>;sescase=term`],
      });
      const session = await services.calls.getCall(dialog.callId);
      expect(session).toMatchObject({ caller, called: owner, toCaller: [{ resourceId: 'r-song' }] });
      expect(dialog.announced.toCaller).toEqual([expect.stringContaining('resource=r-song')]);

      // The caller claims to be the called party, so that the called party would pay for a copy
      // of what the caller presents; the claim is ignored and the copy is the caller's own.
      const answer = await ask(callerPeer, dialog.fromCaller('INFO', { cseq: 2, ...copyInfoParts(caller, owner, {}, owner) }), dialog.callId, 2);
      expect(answer.firstLine).toBe('SIP/2.0 200 OK');
      expect(JSON.parse(answer.body)).toMatchObject({ result: 'copied', entries: [{ resourceId: 'r-song' }] });
      expect((await libraryOf(services, caller)).map((e) => [e.resourceId, e.from])).toEqual([['r-song', owner]]);
      expect((await libraryOf(services, owner)).filter((e) => e.origin.startsWith('copy'))).toEqual([]);
      expect((await services.charges.forUser(owner, 10)).items).toEqual([]);
      for (const uid of [victim, other] as Identity[]) expect((await libraryOf(services, uid)).filter((e) => e.origin.startsWith('copy'))).toEqual([]);
    });
  });
});
