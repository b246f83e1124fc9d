import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import { decodeSession, encodeSession, SessionStore, type StoredSession } from '../../src/presentation/session-store.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { ALICE, BOB, CAROL } from '../support/presentation-fixtures.js';

let ctx: TestContext;
let store: SessionStore;
beforeAll(async () => {
  ctx = await createTestContext();
  store = new SessionStore(ctx.services.redis, ctx.services.keys, ctx.config.sessions);
});
afterAll(async () => ctx.close());

const T0 = Date.parse('2024-06-03T12:00:00.000Z');

function session(overrides: Partial<StoredSession> = {}): StoredSession {
  return {
    callId: `${ulid()}@192.0.2.10`,
    fromTag: '9fxKh4sT',
    caller: ALICE,
    called: BOB,
    toCaller: [`r-${ulid()}`],
    toCalled: [`r-${ulid()}`],
    state: 'early',
    startedAt: T0,
    ...overrides,
  };
}

describe('session encoding', () => {
  it.each<[string, Partial<StoredSession>]>([
    ['an early session', {}],
    ['nothing presented', { toCaller: [], toCalled: [] }],
    ['several resources', { toCaller: ['r-1', 'r-2', 'r.3'], toCalled: ['a_b'] }],
    ['a confirmed session', { state: 'confirmed', answeredAt: T0 + 1234 }],
    ['an ended session never answered', { state: 'ended', endedAt: T0 + 99 }],
    ['an answered then ended session', { state: 'ended', answeredAt: T0 + 5, endedAt: T0 + 60_000 }],
    ['a From tag with odd characters', { fromTag: 'a b,c:d%e' }],
    ['an empty From tag', { fromTag: '' }],
    ['SIP identities', { caller: 'sip:alice@ims.example.net' as Identity, called: "sip:bob.o'neil+x@ims.example.net" as Identity }],
    ['a SIP identity with a number as user', { caller: 'sip:+15551230001@ims.example.net' as Identity, called: 'tel:+4930123456' as Identity }],
  ])('round-trips %s', (_label, overrides) => {
    const original = session(overrides);
    expect(decodeSession(original.callId, encodeSession(original))).toEqual(original);
  });

  it.each(['', 'garbage', 'e:1:: a b c d', 'q:lx:: tag a b c d', 'e::: tag a b c d', 'e:lx:: %E0%A4%A tag a b c d'])('refuses %j', (raw) => {
    expect(decodeSession('c', raw)).toBeNull();
  });
});

describe('session size', () => {
  it('keeps a presenting session well under 300 bytes of Redis memory', async () => {
    const cases: Array<[string, Partial<StoredSession>]> = [
      ['sipp-style Call-ID, one resource each way', { callId: '1-48213@127.0.0.1' }],
      ['UUID Call-ID, one resource each way', { callId: `${crypto.randomUUID()}@192.0.2.10` }],
      ['answered and ended', { state: 'ended', answeredAt: T0 + 3000, endedAt: T0 + 65_000 }],
      ['nothing presented', { toCaller: [], toCalled: [] }],
      ['SIP identities', { caller: 'sip:alice@ims.example.net' as Identity, called: 'sip:bob@ims.example.net' as Identity }],
    ];
    const sizes: Record<string, number> = {};
    for (const [label, overrides] of cases) {
      const s = session(overrides);
      await store.create(s);
      if (s.state === 'ended') await store.transition(s.callId, 'ended', s.endedAt!);
      sizes[label] = Number(await ctx.services.redis.call('MEMORY', 'USAGE', ctx.services.keys.callSession(s.callId)));
    }
    console.log('MEMORY USAGE per presenting session (bytes):', sizes);
    for (const [label, bytes] of Object.entries(sizes)) expect(bytes, label).toBeLessThan(300);
  });
});

describe('session lifecycle in Redis', () => {
  const pttl = (callId: string) => ctx.services.redis.pttl(ctx.services.keys.callSession(callId));

  it('lives for the max call length, then the grace period after the end', async () => {
    const s = session();
    await store.create(s);
    expect(await pttl(s.callId)).toBeGreaterThan((ctx.config.sessions.maxCallSec - 60) * 1000);
    expect(await pttl(s.callId)).toBeLessThanOrEqual(ctx.config.sessions.maxCallSec * 1000);

    expect(await store.transition(s.callId, 'confirmed', T0 + 2000)).toBe(true);
    expect(await pttl(s.callId)).toBeGreaterThan((ctx.config.sessions.maxCallSec - 60) * 1000);
    expect(await store.get(s.callId)).toMatchObject({ state: 'confirmed', answeredAt: T0 + 2000 });

    expect(await store.transition(s.callId, 'ended', T0 + 9000)).toBe(true);
    expect(await pttl(s.callId)).toBeLessThanOrEqual(ctx.config.sessions.graceSec * 1000);
    expect(await pttl(s.callId)).toBeGreaterThan(0);
    expect(await store.get(s.callId)).toEqual({ ...s, state: 'ended', answeredAt: T0 + 2000, endedAt: T0 + 9000 });
  });

  it('only moves forward: no answer after the end, no second end, nothing for an unknown call', async () => {
    const s = session();
    await store.create(s);
    expect(await store.transition(s.callId, 'ended', T0 + 10)).toBe(true);
    expect(await store.transition(s.callId, 'confirmed', T0 + 20)).toBe(false);
    expect(await store.transition(s.callId, 'ended', T0 + 30)).toBe(false);
    expect(await store.get(s.callId)).toMatchObject({ state: 'ended', endedAt: T0 + 10 });
    expect(await store.get(s.callId)).not.toHaveProperty('answeredAt');

    expect(await store.transition('unknown-call', 'confirmed', T0)).toBe(false);
    expect(await ctx.services.redis.exists(ctx.services.keys.callSession('unknown-call'))).toBe(0);
  });

  it('deletes an ended session at once when there is no grace period', async () => {
    const noGrace = new SessionStore(ctx.services.redis, ctx.services.keys, { ...ctx.config.sessions, graceSec: 0 });
    const s = session();
    await noGrace.create(s);
    expect(await noGrace.transition(s.callId, 'ended', T0 + 1)).toBe(true);
    expect(await noGrace.get(s.callId)).toBeNull();
  });

  it("indexes a session under both parties, most recent first, and prunes the index lazily", async () => {
    const dave = 'tel:+15551230004' as Identity;
    const erin = 'tel:+15551230005' as Identity;
    const first = session({ caller: dave, called: erin, startedAt: T0 });
    const second = session({ caller: erin, called: dave, startedAt: T0 + 1000 });
    const other = session({ caller: dave, called: CAROL, startedAt: T0 + 500 });
    for (const s of [first, second, other]) await store.create(s);

    expect((await store.ofUser(dave, T0 + 2000)).map((s) => s.callId)).toEqual([second.callId, other.callId, first.callId]);
    expect((await store.ofUser(erin, T0 + 2000)).map((s) => s.callId)).toEqual([second.callId, first.callId]);

    // A session gone from Redis leaves the index on the next lookup.
    await ctx.services.redis.del(ctx.services.keys.callSession(other.callId));
    expect((await store.ofUser(dave, T0 + 2000)).map((s) => s.callId)).toEqual([second.callId, first.callId]);
    expect(await ctx.services.redis.zscore(ctx.services.keys.user(dave).calls, other.callId)).toBeNull();

    // Past the longest a session can live (max call length + grace), index entries are dropped.
    const bound = (ctx.config.sessions.maxCallSec + ctx.config.sessions.graceSec) * 1000;
    expect((await store.ofUser(dave, T0 + bound + 1)).map((s) => s.callId)).toEqual([second.callId]);
    expect(await ctx.services.redis.zcard(ctx.services.keys.user(dave).calls)).toBe(1);
    expect(await ctx.services.redis.pttl(ctx.services.keys.user(dave).calls)).toBeGreaterThan(0);
  });
});
