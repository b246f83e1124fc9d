/**
 * Crash recovery: an intent left by a server that died between asking the CHF and applying is
 * finished by the recoverer of a fresh server — re-charged as a retransmission of the same
 * invocation (the CHF charges once), then applied, or dropped when refused.
 */
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionStore, type Intent } from '../../src/charging/action-store.js';
import type { Identity } from '../../src/domain/identity.js';
import type { LibraryEntry } from '../../src/domain/types.js';
import { createChargingServices } from '../../src/charging/charging-services.js';
import { managementAppliers } from '../../src/management/management.js';
import { PREFERENCES_EDIT, type PreferencesEdit } from '../../src/management/preferences-edits.js';
import { createLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { PendingWork } from '../../src/store/pending-work.js';
import { createServices, type Services } from '../../src/wiring.js';
import type { TestContext } from '../support/context.js';
import { createChfTestContext, type ChfTestContext } from '../support/chf-context.js';
import type { TestChf } from '../support/test-chf.js';

let chf: TestChf;
let ctx: TestContext;
let sequence = 900_000;

let setup: ChfTestContext;

beforeAll(async () => {
  setup = await createChfTestContext();
  ({ chf, ctx } = setup);
});
afterAll(async () => setup.close());

/** Writes the intent exactly as a request does before charging, optionally lets the CHF charge it, then "crashes". */
async function crashedIntent(user: Identity, options: { chfCharged: boolean; command?: Intent['command'] }): Promise<Intent> {
  const { redis, keys } = ctx.services;
  const chargeId = `ch-${ulid()}`;
  const now = new Date();
  const entry: LibraryEntry = { id: `le-${chargeId}`, resourceId: 'r-1', origin: 'subscription', acquiredAt: now.toISOString(), expiresAt: now.toISOString(), autoRenew: false, status: 'active', chargeId };
  const intent: Intent = {
    chargeId,
    activityId: `ev-${ulid()}`,
    user,
    subject: user,
    actor: user,
    kind: 'subscribe',
    channel: 'rest',
    createdAt: now.toISOString(),
    state: 'charging',
    mode: 'nchf',
    request: { subscriber: user, kind: 'subscribe', amount: 100, currency: 'EUR', resourceIds: ['r-1'], channel: 'rest' },
    invocation: { sequenceNumber: ++sequence, timestamp: now.toISOString() },
    command: options.command ?? { type: 'library.add', args: { entries: [entry] } },
    answer: { entryId: entry.id },
    detail: {},
    locks: [],
  };
  await new PendingWork(redis, keys).announce({ user, id: chargeId }, Date.now() - 1);
  const store = new ActionStore(redis, keys);
  await store.begin(intent, 60_000, null);
  // The crashed server's lease on its work has run out.
  await store.release([store.workLockKey(user, chargeId)], chargeId);
  if (options.chfCharged) {
    const outcome = await ctx.services.charging.charge(intent.request, { chargeId, ...intent.invocation, retransmission: false });
    expect(outcome.status).toBe('granted');
  }
  return intent;
}

async function withFreshServer<T>(work: (services: Services) => Promise<T>): Promise<T> {
  const services = await createServices(ctx.config, createLogger(ctx.config.log), { charging: { background: false } });
  try {
    return await work(services);
  } finally {
    await services.close();
  }
}

const sentFor = (intent: Intent) => chf.requests.filter((r) => r.invocationSequenceNumber === intent.invocation.sequenceNumber);

describe('recovery after a crash', () => {
  it('re-asks the CHF as a retransmission and applies a charge it had granted, charging once', async () => {
    const user = 'tel:+15551231001' as Identity;
    chf.setBalance(user, 1000);
    const intent = await crashedIntent(user, { chfCharged: true });
    await withFreshServer(async (services) => expect(await services.recoverer.runOnce()).toBe(1));
    const sent = sentFor(intent);
    expect(sent.map((r) => r.retransmissionIndicator ?? false)).toEqual([false, true]);
    expect(sent[1]).toMatchObject({ invocationTimeStamp: intent.invocation.timestamp, iMSChargingInformation: { imsChargingIdentifier: intent.chargeId } });
    expect(chf.chargesOf(user)).toBe(1);
    expect(chf.balances.get(user)).toBe(900);
    expect(await ctx.services.users.library(user).all()).toEqual([expect.objectContaining({ chargeId: intent.chargeId })]);
    expect((await ctx.services.charges.forUser(user, 10)).items).toEqual([expect.objectContaining({ id: intent.chargeId, outcome: 'granted' })]);
    const feed = (await ctx.services.activityFeed.after(undefined, 500)).items.map((i) => i.record.id);
    expect(feed).toContain(intent.activityId);
    expect(await ctx.services.redis.hlen(ctx.services.keys.user(user).intents)).toBe(0);
  });

  it('charges an intent the CHF never saw, once, and applies it', async () => {
    const user = 'tel:+15551231002' as Identity;
    chf.setBalance(user, 1000);
    const intent = await crashedIntent(user, { chfCharged: false });
    await withFreshServer(async (services) => expect(await services.recoverer.runOnce()).toBe(1));
    expect(sentFor(intent)).toHaveLength(1);
    expect(chf.chargesOf(user)).toBe(1);
    expect(await ctx.services.users.library(user).all()).toHaveLength(1);
  });

  it('drops an intent the CHF refuses, recording the denial', async () => {
    const user = 'tel:+15551231003' as Identity;
    chf.setBalance(user, 10);
    const intent = await crashedIntent(user, { chfCharged: false });
    await withFreshServer(async (services) => expect(await services.recoverer.runOnce()).toBe(1));
    expect(await ctx.services.users.library(user).all()).toEqual([]);
    expect((await ctx.services.charges.forUser(user, 10)).items).toEqual([expect.objectContaining({ id: intent.chargeId, outcome: 'denied', reason: 'QUOTA_LIMIT_REACHED' })]);
    expect(await ctx.services.redis.hlen(ctx.services.keys.user(user).intents)).toBe(0);
  });

  it('keeps the intent while the CHF stays unavailable, and settles it once the CHF is back', async () => {
    const user = 'tel:+15551231004' as Identity;
    chf.setBalance(user, 1000);
    const intent = await crashedIntent(user, { chfCharged: true });
    chf.failNext(503, 1);
    await withFreshServer(async (services) => {
      expect(await services.recoverer.runOnce()).toBe(0);
      expect(await ctx.services.redis.hlen(ctx.services.keys.user(user).intents)).toBe(1);
      const due = await ctx.services.redis.zscore(ctx.services.keys.pendingApplies, JSON.stringify([user, intent.chargeId]));
      expect(Number(due)).toBeGreaterThan(Date.now());
      // Make it due again now rather than waiting for the backoff.
      await ctx.services.redis.zadd(ctx.services.keys.pendingApplies, Date.now() - 1, JSON.stringify([user, intent.chargeId]));
      expect(await services.recoverer.runOnce()).toBe(1);
    });
    expect(chf.chargesOf(user)).toBe(1);
    expect(await ctx.services.users.library(user).all()).toHaveLength(1);
  });

  it("applies another module's command (a preferences edit) with nothing but the charging services built", async () => {
    const user = 'tel:+15551231005' as Identity;
    chf.setBalance(user, 1000);
    const edit: PreferencesEdit = { op: 'default', target: { resourceId: 'r-1' } };
    await crashedIntent(user, { chfCharged: false, command: { type: PREFERENCES_EDIT, args: edit } });
    const { redis, keys } = ctx.services;
    const charging = await createChargingServices(
      { config: ctx.config, logger: createLogger(ctx.config.log), metrics: new Metrics(), redis, keys, now: () => new Date(), appliers: managementAppliers },
      { background: false },
    );
    try {
      expect(await charging.recoverer.runOnce()).toBe(1);
    } finally {
      await charging.stop();
    }
    expect(chf.chargesOf(user)).toBe(1);
    expect((await ctx.services.users.preferences(user)).default).toEqual(edit.target);
    expect(await redis.hlen(keys.user(user).intents)).toBe(0);
  });
});
