/**
 * The same charged actions, feeds and deliveries on a real three-master Redis Cluster: every
 * script stays within one user's slot, and what crosses slots goes through the outbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRequest } from '../../src/charging/charged-actions.js';
import type { Identity } from '../../src/domain/identity.js';
import type { LibraryEntry } from '../../src/domain/types.js';
import type { FeedItem } from '../../src/activity/activity-feed.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { testConfig } from '../support/context.js';
import { eventually } from '../support/eventually.js';
import { PrivateRedisCluster } from '../support/redis-cluster.js';
import { TestChf } from '../support/test-chf.js';
import { TestPortal } from '../support/test-portal.js';

const alice = 'tel:+15551236001' as Identity;
const bob = 'sip:bob@ims.example.net' as Identity;

let cluster: PrivateRedisCluster;
let chf: TestChf;
let portal: TestPortal;
let services: Services;

beforeAll(async () => {
  [cluster, chf, portal] = await Promise.all([PrivateRedisCluster.start(), TestChf.start(), TestPortal.start()]);
  const config = testConfig({ CMR_REDIS_URL: cluster.url, CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: chf.url, CMR_PORTAL_WEBHOOK_URL: portal.url });
  services = await createServices(config, createLogger(config.log), { charging: { portalWebhook: { initialBackoffMs: 20 } } });
}, 60_000);
afterAll(async () => {
  await services?.close();
  await Promise.all([cluster?.stop(), chf?.stop(), portal?.stop()]);
});

function add(user: Identity, resourceId: string, to?: Identity): ActionRequest<{ entryId: string }> {
  return {
    user,
    actor: user,
    channel: 'rest',
    idempotency: { key: `k-${resourceId}`, fingerprint: resourceId },
    prepare: ({ chargeId, now }) => {
      const entry: LibraryEntry = { id: `le-${chargeId}`, resourceId, origin: to ? 'gift' : 'subscription', acquiredAt: now.toISOString(), expiresAt: now.toISOString(), autoRenew: false, status: 'active', chargeId };
      return {
        kind: to ? 'gift' : 'subscribe',
        ...(to ? { subject: to } : {}),
        charge: { amount: 100, currency: 'EUR', resourceIds: [resourceId] },
        command: { type: 'library.add', args: { entries: [entry], ...(to ? { to } : {}) } },
        answer: { entryId: entry.id },
      };
    },
  };
}

describe('on Redis Cluster', () => {
  it('keeps each user in one slot and the users apart', async () => {
    const slot = async (key: string) => Number(await services.redis.call('CLUSTER', 'KEYSLOT', key));
    expect(await slot(services.keys.user(alice).library)).toBe(await slot(services.keys.user(alice).intents));
    expect(await slot(services.keys.user(alice).library)).not.toBe(await slot(services.keys.user(bob).library));
  });

  it('charges and applies once under concurrent repeats, relays a gift to the receiver, and feeds the portal', async () => {
    chf.setBalance(alice, 1000);
    const live: FeedItem[] = [];
    const unfollow = await services.activityFeed.follow((items) => live.push(...items));

    const results = await Promise.all(Array.from({ length: 10 }, () => services.chargedActions.run(add(alice, 'r-1'))));
    expect(new Set(results.map((r) => r.answer.entryId)).size).toBe(1);
    await services.chargedActions.run(add(alice, 'r-2', bob));
    const catalog = await services.activities.record({ actor: 'sp:portal-admin', subject: null, kind: 'catalog', channel: 'rest' });

    expect(chf.chargesOf(alice)).toBe(2);
    expect(await services.users.library(alice).all()).toHaveLength(1);
    expect(await services.users.library(bob).all()).toEqual([expect.objectContaining({ resourceId: 'r-2', origin: 'gift' })]);
    expect((await services.charges.forUser(alice, 10)).items).toHaveLength(2);
    expect((await services.charges.all(10)).items).toHaveLength(2);
    expect((await services.activityFeed.forUser(bob, 10)).items.map((i) => i.record.kind)).toEqual(['gift']);
    const feed = (await services.activityFeed.after(undefined, 100)).items.map((i) => i.record.id);
    expect(feed).toHaveLength(3);
    expect(feed).toContain(catalog.id);
    await eventually(() => expect([...portal.delivered()].sort()).toEqual([...feed].sort()), 10_000);
    await eventually(() => expect(live.map((i) => i.record.id)).toEqual(expect.arrayContaining(feed)));
    unfollow();
  });
});
