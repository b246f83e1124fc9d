/**
 * The call service on the real Redis: selection for both parties, presenting sessions, their
 * order of events, the lookups the copy layer and the REST API use, and the cost in round trips.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alertInfoValue, type CallStart } from '../../src/calls/call-events.js';
import type { Identity } from '../../src/domain/identity.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { ALICE, BOB, CAROL, box, entry, resource, rule, seedCatalog, seedUser } from '../support/presentation-fixtures.js';

let ctx: TestContext;
let clock = new Date('2024-06-03T12:00:00.000Z');
let draw = 0;
beforeAll(async () => {
  // A generous budget: these tests are about what is selected, not about failing open (fail-open.test.ts).
  ctx = await createTestContext({ env: { CMR_SELECT_BUDGET_MS: '5000' }, services: { now: () => clock, random: () => draw } });
  await seedCatalog(
    ctx.services,
    [resource('r1'), resource('r2'), resource('r3'), resource('r4'), resource('rock', { categories: ['rock'] }), resource('gone', { status: 'withdrawn' })],
    [box('cb', ['r1', 'r2', 'r3', 'r4'], { mode: 'random' })],
  );
});
afterAll(async () => ctx.close());

let calls = 0;
function callBetween(caller: Identity, called: Identity): CallStart {
  calls += 1;
  return { callId: `call-${calls}-${Date.now()}@192.0.2.1`, fromTag: `tag${calls}`, caller, called };
}

async function selections(): Promise<Record<string, number>> {
  const metric = await ctx.services.metrics.selections.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
}

const ids = (list: Array<{ resourceId: string }>) => list.map((r) => r.resourceId);
const uri = (id: string) => `https://media.example.net/tones/${id}.mp3`;

/** Distinct users per test, so their data never meet. */
let users = 100;
const newUser = () => `tel:+1555000${(users++).toString().padStart(4, '0')}` as Identity;

describe('callStarted', () => {
  it('selects for both parties, answers with what to announce and records the session', async () => {
    const [caller, called] = [newUser(), newUser()];
    await seedUser(ctx.services, called, { preferences: { default: { resourceId: 'r1' } }, library: [entry('r1')] });
    await seedUser(ctx.services, caller, { preferences: { rules: [rule('for-called', { resourceId: 'r2' }, { conditions: { callers: [called] } })] }, library: [entry('r2')] });
    const before = await selections();

    const start = callBetween(caller, called);
    const annotation = await ctx.services.calls.callStarted(start);

    expect(annotation).toEqual({ toCaller: [{ resourceId: 'r1', contentUri: uri('r1') }], toCalled: [{ resourceId: 'r2', contentUri: uri('r2') }] });
    expect(annotation.toCaller.map(alertInfoValue)).toEqual([`<${uri('r1')}>;resource=r1`]);
    expect((await selections())['annotated']).toBe((before['annotated'] ?? 0) + 1);
    expect(await ctx.services.calls.findCall(start.callId, start.fromTag)).toEqual({
      callId: start.callId,
      fromTag: start.fromTag,
      caller,
      called,
      toCaller: annotation.toCaller,
      toCalled: annotation.toCalled,
      state: 'early',
      startedAt: clock.toISOString(),
    });
  });

  it("applies each viewer's filters and the owner's blocked list", async () => {
    const [caller, called, blocker] = [newUser(), newUser(), newUser()];
    await seedUser(ctx.services, caller, {
      preferences: { rules: [rule('rock-first', { resourceId: 'rock' }, { priority: 1 })], default: { resourceId: 'r2' } },
      library: [entry('rock'), entry('r2')],
    });
    await seedUser(ctx.services, called, { preferences: { filters: [{ id: 'no-rock', categories: ['rock'] }] } });
    await seedUser(ctx.services, blocker, { preferences: { default: { resourceId: 'r3' }, privacy: { copy: 'everyone', contacts: [], blocked: [caller], gifts: 'everyone' } }, library: [entry('r3')] });

    expect(ids((await ctx.services.calls.callStarted(callBetween(caller, called))).toCalled)).toEqual(['r2']);
    const toBlocker = await ctx.services.calls.callStarted(callBetween(caller, blocker));
    expect(ids(toBlocker.toCaller)).toEqual([]);
    expect(ids(toBlocker.toCalled)).toEqual(['rock']);
  });

  it('rotates a sequential box call after call, and the preview shows the next one without moving it', async () => {
    const [caller, called] = [newUser(), newUser()];
    await seedUser(ctx.services, called, { preferences: { default: { boxId: 'pb' } }, library: ['r1', 'r2', 'r3'].map((id) => entry(id)), boxes: [box('pb', ['r1', 'r2', 'r3'])] });

    const presented: string[] = [];
    for (let i = 0; i < 4; i++) {
      const preview = await ctx.services.calls.preview(called, caller);
      expect(await ctx.services.calls.preview(called, caller)).toEqual(preview);
      const start = callBetween(caller, called);
      const annotation = await ctx.services.calls.callStarted(start);
      expect(annotation.toCaller).toEqual(preview.presented);
      presented.push(...ids(annotation.toCaller));
    }
    expect(new Set(presented.slice(0, 3))).toEqual(new Set(['r1', 'r2', 'r3']));
    expect(presented[3]).toBe(presented[0]);
  });

  it('draws a random catalog box with the injected source, among the entries linked to it', async () => {
    const [caller, called] = [newUser(), newUser()];
    await seedUser(ctx.services, called, { preferences: { default: { boxId: 'cb' } }, library: ['r1', 'r2', 'r4'].map((id) => entry(id, { boxId: 'cb' })) });
    const drawn: string[] = [];
    for (const value of [0, 0.5, 0.99]) {
      draw = value;
      drawn.push(...ids((await ctx.services.calls.callStarted(callBetween(caller, called))).toCaller));
    }
    expect(drawn).toEqual(['r1', 'r2', 'r4']);
  });

  it('answers empty when nothing is presented, and still records the call', async () => {
    const [caller, called] = [newUser(), newUser()];
    await seedUser(ctx.services, called, { preferences: { default: { resourceId: 'gone' } }, library: [entry('gone')] });
    const before = await selections();
    const start = callBetween(caller, called);
    expect(await ctx.services.calls.callStarted(start)).toEqual({ toCaller: [], toCalled: [] });
    expect((await selections())['empty']).toBe((before['empty'] ?? 0) + 1);
    expect(await ctx.services.calls.findCall(start.callId)).toMatchObject({ state: 'early', toCaller: [], toCalled: [] });
  });

  it('fails open on unreadable data: empty answer, counted, call still recorded', async () => {
    const [caller, called] = [newUser(), newUser()];
    await ctx.services.redis.set(ctx.services.keys.user(called).preferences, '{not json');
    const before = await selections();
    const start = callBetween(caller, called);
    expect(await ctx.services.calls.callStarted(start)).toEqual({ toCaller: [], toCalled: [] });
    expect((await selections())['fail-open-error']).toBe((before['fail-open-error'] ?? 0) + 1);
    expect(await ctx.services.calls.findCall(start.callId)).toMatchObject({ state: 'early', caller, called });
  });

  it('reads in two pipelined round trips and writes the session in a third; in one, with the parties kept', async () => {
    const [caller, called] = [newUser(), newUser()];
    await seedUser(ctx.services, called, { preferences: { default: { resourceId: 'r1' } }, library: [entry('r1')] });
    await seedUser(ctx.services, caller, { preferences: { default: { resourceId: 'r2' } }, library: [entry('r2')] });
    const pipelines = vi.spyOn(ctx.services.redis, 'pipeline');
    const commands = vi.spyOn(ctx.services.redis, 'sendCommand');
    try {
      const start = callBetween(caller, called);
      const annotation = await ctx.services.calls.callStarted(start);
      expect(ids(annotation.toCaller)).toEqual(['r1']);
      await ctx.services.calls.drain();
      // Parties, then catalog, then the session write: nothing else.
      expect(pipelines).toHaveBeenCalledTimes(3);
      // 5 reads per party (rotation, data version, preferences, library, boxes), one HMGET of the
      // catalog, the session SET, 3 index commands per party and 2 of the index of calls
      // presenting (the call presents something). Only the commands on this call's keys count:
      // the services' own background work shares the connection.
      const commandsOf = (call: CallStart) => {
        const keysOfTheCall = [caller, called, '{catalog}', '{calls}', call.callId];
        return commands.mock.calls.filter(([command]) => {
          const key = String((command as { args: unknown[] }).args[0]);
          return keysOfTheCall.some((part) => key.includes(part));
        }).length;
      };
      expect(commandsOf(start)).toBe(2 * 5 + 1 + 1 + 2 * 3 + 2);

      // The next call between them finds both parties' data kept at the same version: it reads
      // only the rotation and the version of each, with the catalog its candidates name in the
      // same round trip.
      pipelines.mockClear();
      commands.mockClear();
      const next = callBetween(caller, called);
      expect(ids((await ctx.services.calls.callStarted(next)).toCaller)).toEqual(['r1']);
      await ctx.services.calls.drain();
      expect(pipelines).toHaveBeenCalledTimes(2);
      expect(commandsOf(next)).toBe(2 * 2 + 1 + 1 + 2 * 3 + 2);

      // A party's version moved: its data is read again, and the catalog after it (the early
      // read named what the old data's candidates needed).
      await ctx.services.users.putPreferences(called, { ...(await ctx.services.users.preferences(called)), default: { resourceId: 'r3' } });
      await seedUser(ctx.services, called, { library: [entry('r3')] });
      pipelines.mockClear();
      const changed = callBetween(caller, called);
      expect(ids((await ctx.services.calls.callStarted(changed)).toCaller)).toEqual(['r3']);
      await ctx.services.calls.drain();
      expect(pipelines).toHaveBeenCalledTimes(4);
    } finally {
      pipelines.mockRestore();
      commands.mockRestore();
    }
  });
});

describe("the parties' data kept between calls", () => {
  const presentedTo = async (caller: Identity, called: Identity) => ids((await ctx.services.calls.callStarted(callBetween(caller, called))).toCaller);

  it('is read again after every write, whichever way it was written', async () => {
    const [caller, called, giver] = [newUser(), newUser(), newUser()];
    await seedUser(ctx.services, called, { preferences: { default: { resourceId: 'r1' } }, library: [entry('r1'), entry('r2')] });
    expect(await presentedTo(caller, called)).toEqual(['r1']);
    // A charged action (the REST API).
    const changed = await ctx.app.inject({ method: 'PUT', url: `/v1/users/${encodeURIComponent(called)}/preferences/default`, headers: ctx.as(called), payload: { resourceId: 'r2' } });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(await presentedTo(caller, called)).toEqual(['r2']);
    // The user store.
    await ctx.services.users.putPreferences(called, { ...(await ctx.services.users.preferences(called)), default: { resourceId: 'r3' } });
    expect(await presentedTo(caller, called)).toEqual([]);
    // A write relayed from another user's action: a gift lands in the receiver's library.
    const gift = await ctx.app.inject({ method: 'POST', url: `/v1/users/${encodeURIComponent(giver)}/gifts`, headers: ctx.as(giver), payload: { to: called, resourceId: 'r3' } });
    expect(gift.statusCode, gift.body).toBe(201);
    expect(await presentedTo(caller, called)).toEqual(['r3']);
  });

  it('is used while its version stands, and read again once the version moves', async () => {
    const [caller, called] = [newUser(), newUser()];
    await seedUser(ctx.services, called, { preferences: { default: { resourceId: 'r1' } }, library: [entry('r1')] });
    expect(await presentedTo(caller, called)).toEqual(['r1']);
    const { redis, keys } = ctx.services;
    // Around the stores: the version stays, so the kept data still serves.
    await redis.hdel(keys.user(called).library, 'e-r1');
    expect(await presentedTo(caller, called)).toEqual(['r1']);
    await redis.incr(keys.user(called).dataVersion);
    expect(await presentedTo(caller, called)).toEqual([]);
  });

  it('never keeps the catalog: a resource withdrawn stops being presented at the next call', async () => {
    const [caller, called] = [newUser(), newUser()];
    await ctx.services.catalog.create(resource('r-withdrawn-soon'));
    await seedUser(ctx.services, called, { preferences: { default: { resourceId: 'r-withdrawn-soon' } }, library: [entry('r-withdrawn-soon')] });
    expect(await presentedTo(caller, called)).toEqual(['r-withdrawn-soon']);
    expect(await presentedTo(caller, called)).toEqual(['r-withdrawn-soon']);
    await ctx.services.catalog.withdraw('r-withdrawn-soon');
    expect(await presentedTo(caller, called)).toEqual([]);
  });
});

describe('call events', () => {
  it('records the answer and the end with their times; the grace period starts at the end', async () => {
    const start = callBetween(newUser(), newUser());
    const t0 = clock;
    await ctx.services.calls.callStarted(start);
    clock = new Date(t0.getTime() + 4_000);
    await ctx.services.calls.callAnswered(start.callId);
    expect(await ctx.services.calls.findCall(start.callId)).toMatchObject({ state: 'confirmed', answeredAt: clock.toISOString() });
    clock = new Date(t0.getTime() + 64_000);
    await ctx.services.calls.callEnded(start.callId, 'bye');
    expect(await ctx.services.calls.findCall(start.callId)).toMatchObject({ state: 'ended', answeredAt: new Date(t0.getTime() + 4_000).toISOString(), endedAt: clock.toISOString() });
    const ttl = await ctx.services.redis.pttl(ctx.services.keys.callSession(start.callId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(ctx.config.sessions.graceSec * 1000);
  });

  it('keeps the order of events even when the end comes before the session is written', async () => {
    const start = callBetween(newUser(), newUser());
    // Neither awaited: the end is queued behind the session write of the start.
    const started = ctx.services.calls.callStarted(start);
    const ended = ctx.services.calls.callEnded(start.callId, 'cancel');
    await Promise.all([started, ended]);
    await ctx.services.calls.drain();
    expect(await ctx.services.calls.findCall(start.callId)).toMatchObject({ state: 'ended' });

    // A late answer never revives an ended call.
    await ctx.services.calls.callAnswered(start.callId);
    const session = await ctx.services.calls.findCall(start.callId);
    expect(session).toMatchObject({ state: 'ended' });
    expect(session).not.toHaveProperty('answeredAt');
  });

  it('ignores events for an unknown call', async () => {
    await ctx.services.calls.callAnswered('never-started');
    await ctx.services.calls.callEnded('never-started', 'failure');
    expect(await ctx.services.calls.findCall('never-started')).toBeNull();
    expect(await ctx.services.redis.exists(ctx.services.keys.callSession('never-started'))).toBe(0);
  });

  it('finds a call by Call-ID, and by Call-ID and From tag only for the right dialog', async () => {
    const start = callBetween(newUser(), newUser());
    await ctx.services.calls.callStarted(start);
    expect(await ctx.services.calls.findCall(start.callId, start.fromTag)).toMatchObject({ callId: start.callId });
    expect(await ctx.services.calls.findCall(start.callId)).toMatchObject({ callId: start.callId });
    expect(await ctx.services.calls.findCall(start.callId, 'another-tag')).toBeNull();
    expect(await ctx.services.calls.getCall('unknown-call')).toBeNull();
  });
});

describe('lookups by party', () => {
  it('finds the most recent call between two parties, either side calling, live or in its grace period', async () => {
    const [alice, bob] = [newUser(), newUser()];
    await seedUser(ctx.services, bob, { preferences: { default: { resourceId: 'r3' } }, library: [entry('r3')] });
    const t0 = clock.getTime();
    const first = callBetween(alice, bob);
    await ctx.services.calls.callStarted(first);
    clock = new Date(t0 + 1000);
    const second = callBetween(bob, alice);
    await ctx.services.calls.callStarted(second);
    await ctx.services.calls.drain();

    expect(await ctx.services.calls.findLiveCallBetween(alice, bob)).toMatchObject({ callId: second.callId, caller: bob, called: alice, toCalled: [{ resourceId: 'r3', contentUri: uri('r3') }] });
    expect(await ctx.services.calls.findLiveCallBetween(bob, alice)).toMatchObject({ callId: second.callId });
    expect(await ctx.services.calls.findLiveCallBetween(alice, CAROL)).toBeNull();

    await ctx.services.calls.callEnded(second.callId, 'bye');
    expect(await ctx.services.calls.findLiveCallBetween(alice, bob)).toMatchObject({ callId: second.callId, state: 'ended' });

    // Current calls are the live ones only.
    expect((await ctx.services.calls.currentCalls(alice)).map((s) => s.callId)).toEqual([first.callId]);
    expect(await ctx.services.calls.currentCalls(bob)).toMatchObject([{ callId: first.callId, toCaller: [{ resourceId: 'r3' }], state: 'early' }]);

    // Past the longest a session can exist, the index forgets the calls.
    clock = new Date(t0 + (ctx.config.sessions.maxCallSec + ctx.config.sessions.graceSec) * 1000 + 2000);
    expect(await ctx.services.calls.findLiveCallBetween(alice, bob)).toBeNull();
    expect(await ctx.services.calls.currentCalls(alice)).toEqual([]);
  });

  it('has no calls for a user who never called', async () => {
    expect(await ctx.services.calls.currentCalls(ALICE)).toEqual([]);
    expect(await ctx.services.calls.findLiveCallBetween(ALICE, BOB)).toBeNull();
  });
});
