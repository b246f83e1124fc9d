import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../../src/domain/identity.js';
import { createTestContext, type TestContext } from '../../support/context.js';
import { ALICE, BOB, CAROL, entry, resource, rule, seedCatalog, seedUser } from '../../support/presentation-fixtures.js';

let ctx: TestContext;
const NOW = new Date('2024-06-03T12:00:00.000Z'); // Monday; 14:00 in Paris
beforeAll(async () => {
  ctx = await createTestContext({ env: { CMR_SELECT_BUDGET_MS: '5000' }, services: { now: () => NOW } });
  await seedCatalog(ctx.services, [resource('r1'), resource('r2'), resource('r3'), resource('rock', { categories: ['rock'] })]);
  // Alice, in Paris: nights (22:00–07:00) for Bob have r2, Carol always gets r3, everyone else r1.
  await seedUser(ctx.services, ALICE, {
    preferences: {
      timezone: 'Europe/Paris',
      default: { resourceId: 'r1' },
      rules: [
        rule('bob-nights', { resourceId: 'r2' }, { conditions: { callers: [BOB], timeOfDay: { from: '22:00', to: '07:00' } } }),
        rule('carol', { resourceId: 'r3' }, { conditions: { callers: [CAROL] } }),
      ],
    },
    library: ['r1', 'r2', 'r3'].map((id) => entry(id)),
  });
});
afterAll(async () => ctx.close());

const preview = (uid: string, query: string, headers = ctx.as(uid)) =>
  ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(uid)}/presentation?${query}`, headers });

describe('GET /v1/users/{uid}/presentation', () => {
  it('previews what a call from the caller would present, now by default', async () => {
    const res = await preview(ALICE, `caller=${encodeURIComponent(BOB)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      owner: ALICE,
      caller: BOB,
      at: NOW.toISOString(),
      timezone: 'Europe/Paris',
      presented: [{ resourceId: 'r1', contentUri: 'https://media.example.net/tones/r1.mp3' }],
      source: { kind: 'default' },
    });
  });

  it.each([
    ['inside the night window (23:30 Paris)', '2024-06-03T21:30:00Z', BOB, ['r2'], { kind: 'rule', ruleId: 'bob-nights' }],
    ['with an offset in the instant', '2024-06-04T06:59:00+02:00', BOB, ['r2'], { kind: 'rule', ruleId: 'bob-nights' }],
    ['at the end of the night window', '2024-06-04T07:00:00+02:00', BOB, ['r1'], { kind: 'default' }],
    ['for a caller-specific rule', '2024-06-03T21:30:00Z', CAROL, ['r3'], { kind: 'rule', ruleId: 'carol' }],
  ])('previews a call %s', async (_label, at, caller, expected, source) => {
    const res = await preview(ALICE, `caller=${encodeURIComponent(caller)}&at=${encodeURIComponent(at)}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().presented.map((p: { resourceId: string }) => p.resourceId)).toEqual(expected);
    expect(res.json().source).toEqual(source);
  });

  it("applies the caller's filters and says when nothing would be presented", async () => {
    const dave = 'tel:+15551230004' as Identity;
    await seedUser(ctx.services, dave, { preferences: { filters: [{ id: 'no-alice', owners: [ALICE] }] } });
    const res = await preview(ALICE, `caller=${encodeURIComponent(dave)}`);
    expect(res.json()).toMatchObject({ presented: [], source: { kind: 'none', reason: 'nothing-usable' } });
  });

  it('accepts the caller in any equivalent form and answers with the canonical one', async () => {
    const res = await preview(ALICE, `caller=${encodeURIComponent('sip:+15551230003@ims.example.net;user=phone')}`);
    expect(res.json()).toMatchObject({ caller: CAROL, presented: [{ resourceId: 'r3' }] });
  });

  it.each([
    ['a caller that is not an identity', 'caller=alice', 'bad-identity'],
    ['no caller', '', 'validation-failed'],
    ['an instant that is not a date-time', `caller=${encodeURIComponent(BOB)}&at=yesterday`, 'validation-failed'],
    ['a date without a time', `caller=${encodeURIComponent(BOB)}&at=2024-06-03`, 'validation-failed'],
  ])('refuses %s with 400', async (_label, query, code) => {
    const res = await preview(ALICE, query);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe(code);
  });

  it("lets the SP preview any user's presentation, and no other user", async () => {
    expect((await preview(ALICE, `caller=${encodeURIComponent(BOB)}`, ctx.sp)).statusCode).toBe(200);
    expect((await preview(ALICE, `caller=${encodeURIComponent(BOB)}`, ctx.as(BOB))).statusCode).toBe(403);
  });
});

describe('calls', () => {
  it('shows a call to the SP by Call-ID and to each party among the current calls, until it ends', async () => {
    const start = { callId: 'a84b6f1e/2c9d@192.0.2.10', fromTag: 'ft1', caller: CAROL, called: ALICE };
    const annotation = await ctx.services.calls.callStarted(start);
    expect(annotation.toCaller.map((r) => r.resourceId)).toEqual(['r3']);
    await ctx.services.calls.callAnswered(start.callId);

    const bySp = await ctx.app.inject({ method: 'GET', url: `/v1/calls/${encodeURIComponent(start.callId)}`, headers: ctx.sp });
    expect(bySp.statusCode).toBe(200);
    expect(bySp.json()).toEqual({
      callId: start.callId,
      fromTag: 'ft1',
      caller: CAROL,
      called: ALICE,
      toCaller: [{ resourceId: 'r3', contentUri: 'https://media.example.net/tones/r3.mp3' }],
      toCalled: [],
      state: 'confirmed',
      startedAt: NOW.toISOString(),
      answeredAt: NOW.toISOString(),
    });
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/calls/${encodeURIComponent(start.callId)}`, headers: ctx.as(ALICE) })).statusCode).toBe(403);

    for (const party of [ALICE, CAROL]) {
      const current = await ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(party)}/calls/current`, headers: ctx.as(party) });
      expect(current.statusCode).toBe(200);
      expect(current.json()).toEqual([bySp.json()]);
    }
    const others = await ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(BOB)}/calls/current`, headers: ctx.as(BOB) });
    expect(others.json()).toEqual([]);

    await ctx.services.calls.callEnded(start.callId, 'bye');
    const ended = await ctx.app.inject({ method: 'GET', url: `/v1/calls/${encodeURIComponent(start.callId)}`, headers: ctx.sp });
    expect(ended.json()).toMatchObject({ state: 'ended', endedAt: NOW.toISOString() });
    const after = await ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(ALICE)}/calls/current`, headers: ctx.as(ALICE) });
    expect(after.json()).toEqual([]);
  });

  it('counts for the SP the live calls presenting something, until each ends', async () => {
    const presenting = async () => {
      const res = await ctx.app.inject({ method: 'GET', url: '/v1/calls', headers: ctx.sp });
      expect(res.statusCode).toBe(200);
      return res.json().presenting as number;
    };
    expect(await presenting()).toBe(0);
    const first = { callId: 'count-1@192.0.2.10', fromTag: 'c1', caller: CAROL, called: ALICE };
    const second = { callId: 'count-2@192.0.2.10', fromTag: 'c2', caller: BOB, called: ALICE };
    // Nobody presents anything on a call between two users without libraries.
    const silent = { callId: 'count-3@192.0.2.10', fromTag: 'c3', caller: BOB, called: CAROL };
    for (const call of [first, second, silent]) {
      await ctx.services.calls.callStarted(call);
      await ctx.services.calls.callAnswered(call.callId);
    }
    expect(await presenting()).toBe(2);
    await ctx.services.calls.callEnded(first.callId, 'bye');
    expect(await presenting()).toBe(1);
    await ctx.services.calls.callEnded(second.callId, 'cancel');
    await ctx.services.calls.callEnded(silent.callId, 'bye');
    expect(await presenting()).toBe(0);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/calls', headers: ctx.as(ALICE) })).statusCode).toBe(403);
  });

  it('answers 404 for an unknown call', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/calls/no-such-call', headers: ctx.sp });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not-found');
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/users/{uid}/presentation', '/v1/calls/{callId}', '/v1/users/{uid}/calls/current']));
    expect(doc.paths['/v1/users/{uid}/presentation'].get.tags).toEqual(['presentation']);
    expect(doc.paths['/v1/calls/{callId}'].get.tags).toEqual(['calls']);
  });
});
