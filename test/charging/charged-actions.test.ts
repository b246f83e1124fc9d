/**
 * Charged actions end to end on the real Redis and the real HTTP/2 test CHF (`nchf` mode):
 * granted, zero-priced, denied, unavailable, idempotent repeats, concurrency, gifts, and the
 * granted-but-not-applied path finished by the recoverer.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRequest } from '../../src/charging/charged-actions.js';
import { CmrError } from '../../src/domain/errors.js';
import type { Identity } from '../../src/domain/identity.js';
import type { ActivityRecord, ChargeRecord, LibraryEntry } from '../../src/domain/types.js';
import type { TestContext } from '../support/context.js';
import { createChfTestContext, type ChfTestContext } from '../support/chf-context.js';
import { eventually } from '../support/eventually.js';
import type { TestChf } from '../support/test-chf.js';

const alice = 'tel:+15551230001' as Identity;
const bob = 'tel:+15551230002' as Identity;
const carol = 'sip:carol@ims.example.net' as Identity;

let chf: TestChf;
let ctx: TestContext;

let setup: ChfTestContext;

beforeAll(async () => {
  setup = await createChfTestContext();
  ({ chf, ctx } = setup);
});
afterAll(async () => setup.close());
afterEach(() => chf.clearSwitches());

interface SubscribeAnswer {
  entryId: string;
  charge: { id: string; amount: number; currency: string };
}

/** A subscription as the management layer would run it: one new library entry for a price. */
function subscribe(user: Identity, resourceId: string, amount: number, extra: Partial<ActionRequest<SubscribeAnswer>> = {}): ActionRequest<SubscribeAnswer> {
  return {
    user,
    actor: user,
    channel: 'rest',
    prepare: ({ chargeId, now }) => {
      const entry: LibraryEntry = {
        id: `le-${chargeId}`,
        resourceId,
        origin: 'subscription',
        acquiredAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 30 * 86_400_000).toISOString(),
        autoRenew: false,
        status: 'active',
        chargeId,
      };
      return {
        kind: 'subscribe',
        charge: { amount, currency: 'EUR', resourceIds: [resourceId] },
        command: { type: 'library.add', args: { entries: [entry] } },
        answer: { entryId: entry.id, charge: { id: chargeId, amount, currency: 'EUR' } },
        detail: { resourceIds: [resourceId] },
      };
    },
    ...extra,
  };
}

const redis = () => ctx.services.redis;
const userKeys = (uid: Identity) => ctx.services.keys.user(uid);
const library = async (uid: Identity) => ctx.services.users.library(uid).all();
const charges = async (uid: Identity) => (await ctx.services.charges.forUser(uid, 100)).items;
const activities = async (uid: Identity): Promise<ActivityRecord[]> => (await ctx.services.activityFeed.forUser(uid, 100)).items.map((i) => i.record);
const feed = async (): Promise<ActivityRecord[]> => (await ctx.services.activityFeed.after(undefined, 500)).items.map((i) => i.record);
async function leftovers(uid: Identity): Promise<{ intents: number; outbox: number; pending: number }> {
  return {
    intents: await redis().hlen(userKeys(uid).intents),
    outbox: await redis().hlen(userKeys(uid).outbox),
    pending: await redis().zcard(ctx.services.keys.pendingApplies),
  };
}
async function failure(promise: Promise<unknown>): Promise<CmrError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CmrError);
  return err as CmrError;
}

describe('a priced action', () => {
  it('is granted by the CHF, then applied with its charge record, activity and feed entry', async () => {
    chf.setBalance(alice, 1000);
    const before = chf.requests.length;
    const { answer, replayed } = await ctx.services.chargedActions.run(subscribe(alice, 'r-1', 199));
    expect(replayed).toBe(false);
    expect(chf.requests.length).toBe(before + 1);
    expect(chf.balances.get(alice)).toBe(801);

    expect(await library(alice)).toEqual([expect.objectContaining({ id: answer.entryId, resourceId: 'r-1', status: 'active', chargeId: answer.charge.id })]);
    const [charge] = await charges(alice);
    expect(charge).toMatchObject<Partial<ChargeRecord>>({ id: answer.charge.id, subscriber: alice, kind: 'subscribe', amount: 199, currency: 'EUR', outcome: 'granted', mode: 'nchf', resourceIds: ['r-1'] });
    expect(charge!.reference).toMatch(/chargingdata\/\d+$/);
    const [activity] = await activities(alice);
    expect(activity).toMatchObject({ actor: alice, subject: alice, kind: 'subscribe', channel: 'rest', result: 'success', chargeId: answer.charge.id, detail: { resourceIds: ['r-1'] } });
    expect((await feed()).filter((a) => a.id === activity!.id)).toHaveLength(1);
    expect((await ctx.services.charges.all(50)).items.map((c) => c.id)).toContain(answer.charge.id);
    expect(await leftovers(alice)).toEqual({ intents: 0, outbox: 0, pending: 0 });
    expect(await ctx.services.metrics.registry.getSingleMetricAsString('cmr_charges_total')).toMatch(/mode="nchf",outcome="granted"} [1-9]/);
  });

  it('records a zero-priced action as an offline event without asking the CHF', async () => {
    const before = chf.requests.length;
    const { answer } = await ctx.services.chargedActions.run(subscribe(carol, 'r-free', 0));
    expect(chf.requests.length).toBe(before);
    expect((await charges(carol))[0]).toMatchObject({ id: answer.charge.id, amount: 0, outcome: 'granted', mode: 'cdr' });
    expect(await library(carol)).toHaveLength(1);
  });

  it('applies nothing when the CHF denies, and records the denial (402)', async () => {
    chf.setBalance(bob, 50);
    const err = await failure(ctx.services.chargedActions.run(subscribe(bob, 'r-2', 199)));
    expect(err).toMatchObject({ code: 'charging-denied', status: 402 });
    expect(err.extra['reason']).toBe('QUOTA_LIMIT_REACHED');
    expect(await library(bob)).toEqual([]);
    expect((await charges(bob))[0]).toMatchObject({ outcome: 'denied', reason: 'QUOTA_LIMIT_REACHED', amount: 199 });
    expect((await activities(bob))[0]).toMatchObject({ result: 'denied', kind: 'subscribe', detail: { reason: 'QUOTA_LIMIT_REACHED' } });
    expect(chf.balances.get(bob)).toBe(50);
    expect(await leftovers(bob)).toEqual({ intents: 0, outbox: 0, pending: 0 });
  });

  it('applies nothing when the CHF is unavailable (503 with Retry-After)', async () => {
    chf.setBalance(bob, 1000);
    chf.failNext(503, 1);
    const err = await failure(ctx.services.chargedActions.run(subscribe(bob, 'r-3', 99)));
    expect(err).toMatchObject({ code: 'dependency-unavailable', status: 503 });
    expect(err.extra.retryAfterSec).toBeGreaterThan(0);
    expect(await library(bob)).toEqual([]);
    expect((await charges(bob)).filter((c) => c.outcome === 'granted')).toEqual([]);
    expect((await activities(bob))[0]).toMatchObject({ result: 'failed', kind: 'subscribe' });
    expect(chf.balances.get(bob)).toBe(1000);
    expect(await leftovers(bob)).toEqual({ intents: 0, outbox: 0, pending: 0 });
  });
});

describe('a charge recorded here (cdr: zero-priced events)', () => {
  const heidi = 'tel:+15551230021' as Identity;
  const ivan = 'tel:+15551230022' as Identity;
  const grantedCdrCharges = async () => {
    const metric = await ctx.services.metrics.registry.getSingleMetric('cmr_charges_total')!.get();
    return metric.values.find((v) => v.labels['mode'] === 'cdr' && v.labels['outcome'] === 'granted')?.value ?? 0;
  };

  it('is charged, applied and recorded at once, leaving nothing to recover', async () => {
    const grantedBefore = await grantedCdrCharges();
    const { answer } = await ctx.services.chargedActions.run(subscribe(heidi, 'r-free', 0, { exclusive: ['resource:r-free'] }));
    expect((await charges(heidi))[0]).toMatchObject({ id: answer.charge.id, outcome: 'granted', mode: 'cdr' });
    expect(await grantedCdrCharges()).toBe(grantedBefore + 1);
    expect(await library(heidi)).toHaveLength(1);
    expect(await leftovers(heidi)).toEqual({ intents: 0, outbox: 0, pending: 0 });
    expect(await redis().exists(userKeys(heidi).lock('action:resource:r-free'))).toBe(0);
  });

  it('writes nothing once another request took its lock over (409): never two charges for one item', async () => {
    const grantedBefore = await grantedCdrCharges();
    const lock = userKeys(ivan).lock('action:resource:r-taken');
    const taken = subscribe(ivan, 'r-taken', 0, { exclusive: ['resource:r-taken'] });
    const err = await failure(
      ctx.services.chargedActions.run({
        ...taken,
        // As if this request's lease ran out while it prepared, and another took the lock.
        prepare: async (context) => {
          await redis().set(lock, 'another-request');
          return taken.prepare(context);
        },
      }),
    );
    expect(err).toMatchObject({ code: 'conflict', status: 409 });
    expect(await library(ivan)).toEqual([]);
    expect(await charges(ivan)).toEqual([]);
    expect(await redis().get(lock)).toBe('another-request');
    expect(await leftovers(ivan)).toEqual({ intents: 0, outbox: 0, pending: 0 });
    // Nor counted: the charge record was never written.
    expect(await grantedCdrCharges()).toBe(grantedBefore);
  });

  it('writes nothing once another request took its idempotency claim over (409)', async () => {
    const ref = { user: ivan, key: 'claim-taken', fingerprint: 'f-1' };
    const recordKey = ctx.services.idempotency.recordKey(ref);
    const other = ctx.services.idempotency.inFlightRecord(ref, 'another-request', 60_000);
    const taken = subscribe(ivan, 'r-claimed', 0, { idempotency: { key: ref.key, fingerprint: ref.fingerprint } });
    const err = await failure(
      ctx.services.chargedActions.run({
        ...taken,
        prepare: async (context) => {
          await redis().set(recordKey, other);
          return taken.prepare(context);
        },
      }),
    );
    expect(err).toMatchObject({ code: 'conflict', status: 409 });
    expect(await library(ivan)).toEqual([]);
    expect(await charges(ivan)).toEqual([]);
    expect(await redis().get(recordKey)).toBe(other);
    expect(await leftovers(ivan)).toEqual({ intents: 0, outbox: 0, pending: 0 });
  });
});

describe('a charge the CHF made without its answer arriving', () => {
  it('answers 503, then the recoverer asks again as a retransmission and applies it once; a repeat gets the answer', async () => {
    const ida = 'tel:+15551230011' as Identity;
    chf.setBalance(ida, 1000);
    chf.slowNext(2500, 1); // charged at once, answered past the 2 s timeout
    const idempotency = { key: 'k-unanswered', fingerprint: 'f' };
    const err = await failure(ctx.services.chargedActions.run(subscribe(ida, 'r-1', 100, { idempotency })));
    expect(err).toMatchObject({ code: 'dependency-unavailable', status: 503 });
    expect(err.extra.retryAfterSec).toBeGreaterThan(0);
    expect(await library(ida)).toEqual([]);
    expect(chf.chargesOf(ida)).toBe(1);

    await eventually(async () => {
      await ctx.services.recoverer.runOnce();
      expect(await library(ida)).toHaveLength(1);
    }, 5000, 100);
    const sent = chf.requests.filter((r) => r.subscriberIdentifier === ida);
    expect(sent.map((r) => r.retransmissionIndicator ?? false)).toEqual([false, true]);
    expect(chf.chargesOf(ida)).toBe(1);
    expect(chf.balances.get(ida)).toBe(900);
    const [entry] = await library(ida);
    expect((await charges(ida)).map((c) => [c.id, c.outcome])).toEqual([[entry!.chargeId, 'granted']]);
    const replay = await ctx.services.chargedActions.run(subscribe(ida, 'r-1', 100, { idempotency }));
    expect(replay).toMatchObject({ replayed: true, answer: { entryId: entry!.id } });
    expect(chf.chargesOf(ida)).toBe(1);
    expect(await leftovers(ida)).toEqual({ intents: 0, outbox: 0, pending: 0 });
  });
});

describe('idempotency', () => {
  const dave = 'tel:+15551230004' as Identity;

  it('replays the first answer for a repeated key and charges once; another body is 409', async () => {
    chf.setBalance(dave, 1000);
    const idempotency = { key: 'k-1', fingerprint: 'f-1' };
    const first = await ctx.services.chargedActions.run(subscribe(dave, 'r-1', 100, { idempotency }));
    const again = await ctx.services.chargedActions.run(subscribe(dave, 'r-1', 100, { idempotency }));
    expect(again).toEqual({ answer: first.answer, replayed: true });
    expect(chf.chargesOf(dave)).toBe(1);
    expect(await library(dave)).toHaveLength(1);
    const reused = await failure(ctx.services.chargedActions.run(subscribe(dave, 'r-1', 100, { idempotency: { key: 'k-1', fingerprint: 'f-2' } })));
    expect(reused).toMatchObject({ code: 'idempotency-key-reused', status: 409 });
  });

  it('replays a denial without asking the CHF again', async () => {
    chf.setBalance(dave, 0);
    const idempotency = { key: 'k-denied', fingerprint: 'f' };
    await expect(ctx.services.chargedActions.run(subscribe(dave, 'r-9', 100, { idempotency }))).rejects.toMatchObject({ code: 'charging-denied' });
    const asked = chf.requests.length;
    await expect(ctx.services.chargedActions.run(subscribe(dave, 'r-9', 100, { idempotency }))).rejects.toMatchObject({ code: 'charging-denied' });
    expect(chf.requests.length).toBe(asked);
  });

  it('runs 50 concurrent identical requests once: one charge, one entry, one answer', async () => {
    const erin = 'tel:+15551230005' as Identity;
    chf.setBalance(erin, 10_000);
    chf.slowNext(100, 1);
    const idempotency = { key: 'k-concurrent', fingerprint: 'same' };
    const results = await Promise.all(Array.from({ length: 50 }, () => ctx.services.chargedActions.run(subscribe(erin, 'r-1', 100, { idempotency }))));
    expect(new Set(results.map((r) => JSON.stringify(r.answer))).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(chf.chargesOf(erin)).toBe(1);
    expect(await library(erin)).toHaveLength(1);
    expect(await charges(erin)).toHaveLength(1);
  });

  it('serialises concurrent requests on the same item through exclusive locks', async () => {
    const frank = 'tel:+15551230006' as Identity;
    chf.setBalance(frank, 10_000);
    const once = (i: number) =>
      ctx.services.chargedActions.run({
        ...subscribe(frank, 'r-7', 100, { idempotency: { key: `k-${i}`, fingerprint: `f-${i}` }, exclusive: ['resource:r-7'] }),
        prepare: async (context) => {
          if ((await library(frank)).some((e) => e.resourceId === 'r-7')) throw new CmrError('conflict', 'already subscribed');
          return subscribe(frank, 'r-7', 100).prepare(context);
        },
      });
    const settled = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => once(i)));
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(settled.filter((s) => s.status === 'rejected').map((s) => (s).reason.code)).toEqual(Array(9).fill('conflict'));
    expect(chf.chargesOf(frank)).toBe(1);
    expect(await library(frank)).toHaveLength(1);
  });
});

describe('other users and uncharged actions', () => {
  it('applies a gift to the receiver and charges the giver', async () => {
    const giver = 'tel:+15551230007' as Identity;
    const receiver = 'tel:+15551230008' as Identity;
    chf.setBalance(giver, 1000);
    const { answer } = await ctx.services.chargedActions.run<{ entryId: string }>({
      user: giver,
      actor: giver,
      channel: 'rest',
      prepare: ({ chargeId, now }) => {
        const entry: LibraryEntry = { id: `le-${chargeId}`, resourceId: 'r-g', origin: 'gift', from: giver, acquiredAt: now.toISOString(), expiresAt: now.toISOString(), autoRenew: false, status: 'active', chargeId };
        return {
          kind: 'gift',
          subject: receiver,
          charge: { amount: 150, currency: 'EUR', resourceIds: ['r-g'] },
          command: { type: 'library.add', args: { entries: [entry], to: receiver } },
          answer: { entryId: entry.id },
        };
      },
    });
    expect(await library(giver)).toEqual([]);
    expect(await library(receiver)).toEqual([expect.objectContaining({ id: answer.entryId, origin: 'gift', from: giver })]);
    expect((await charges(giver))[0]).toMatchObject({ kind: 'gift', amount: 150, subscriber: giver });
    expect(await charges(receiver)).toEqual([]);
    const [given] = await activities(giver);
    expect(given).toMatchObject({ kind: 'gift', subject: receiver });
    expect((await activities(receiver)).map((a) => a.id)).toEqual([given!.id]);
    expect(await leftovers(giver)).toEqual({ intents: 0, outbox: 0, pending: 0 });
  });

  it('records an action with nothing to charge, and an SP change without a user', async () => {
    const grace = 'tel:+15551230009' as Identity;
    const before = chf.requests.length;
    const { answer } = await ctx.services.chargedActions.run({
      user: grace,
      actor: grace,
      channel: 'sip',
      prepare: () => ({ kind: 'copy-online' as const, charge: null, answer: { result: 'already-owned' } }),
    });
    expect(answer).toEqual({ result: 'already-owned' });
    expect(chf.requests.length).toBe(before);
    expect((await activities(grace))[0]).toMatchObject({ kind: 'copy-online', chargeId: null, result: 'success' });

    const catalog = await ctx.services.activities.record({ actor: 'sp:portal-admin', subject: null, kind: 'catalog', channel: 'portal', detail: { resourceId: 'r-1' } });
    const privacy = await ctx.services.activities.record({ actor: grace, subject: grace, kind: 'privacy', channel: 'rest' });
    const ids = (await feed()).map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining([catalog.id, privacy.id]));
    expect((await activities(grace)).map((a) => a.id)).toContain(privacy.id);
  });
});

describe('granted but not applied', () => {
  it('keeps the granted charge pending, answers 503, and the recoverer applies it once with its answer', async () => {
    const henry = 'tel:+15551230010' as Identity;
    chf.setBalance(henry, 1000);
    // The library key holds another type of data: the apply fails after the grant.
    await redis().set(userKeys(henry).library, 'broken');
    const idempotency = { key: 'k-pending', fingerprint: 'f' };
    const err = await failure(ctx.services.chargedActions.run(subscribe(henry, 'r-1', 120, { idempotency })));
    expect(err).toMatchObject({ code: 'dependency-unavailable', status: 503 });
    expect(err.detail).toMatch(/granted and will be applied/);
    const chargeId = err.extra['chargeId'] as string;
    const intent = JSON.parse((await redis().hget(userKeys(henry).intents, chargeId))!);
    expect(intent).toMatchObject({ state: 'granted', chargeId });
    expect(chf.chargesOf(henry)).toBe(1);
    expect(await charges(henry)).toEqual([]);

    await redis().del(userKeys(henry).library);
    const asked = chf.requests.length;
    await eventually(async () => {
      await ctx.services.recoverer.runOnce();
      expect(await redis().hlen(userKeys(henry).intents)).toBe(0);
    });
    expect(chf.requests.length).toBe(asked);
    expect(await library(henry)).toEqual([expect.objectContaining({ chargeId, resourceId: 'r-1' })]);
    expect((await charges(henry)).map((c) => [c.id, c.outcome])).toEqual([[chargeId, 'granted']]);
    expect((await activities(henry)).map((a) => a.chargeId)).toEqual([chargeId]);
    const replay = await ctx.services.chargedActions.run(subscribe(henry, 'r-1', 120, { idempotency }));
    expect(replay).toMatchObject({ replayed: true, answer: { charge: { id: chargeId } } });
    expect(chf.chargesOf(henry)).toBe(1);
    expect(await leftovers(henry)).toEqual({ intents: 0, outbox: 0, pending: 0 });
  });
});
