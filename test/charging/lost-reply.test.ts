/**
 * The store's reply lost at the worst moment: the write that starts a charged action (its intent)
 * reaches Redis, but the connection breaks before the answer comes back. The request answers 503
 * saying nothing was done, so nothing may be done later either: the intent is taken back once the
 * store is reachable again, never charged by the recoverer, and its locks are freed.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRequest } from '../../src/charging/charged-actions.js';
import type { Identity } from '../../src/domain/identity.js';
import type { LibraryEntry } from '../../src/domain/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { testConfig } from '../support/context.js';
import { eventually } from '../support/eventually.js';
import { RedisLink } from '../support/redis-link.js';
import { PrivateRedis } from '../support/redis-server.js';
import { TestChf } from '../support/test-chf.js';

const jo = 'tel:+15551232101' as Identity;

let chf: TestChf;
let store: PrivateRedis;
let link: RedisLink;
let direct: Redis;
let services: Services;

beforeAll(async () => {
  chf = await TestChf.start();
  store = await PrivateRedis.start();
  link = await RedisLink.start({ host: '127.0.0.1', port: store.port });
  direct = new Redis(store.url);
  const config = testConfig({ CMR_REDIS_URL: link.url, CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: chf.url, CMR_CHF_TIMEOUT_MS: '2000', CMR_REDIS_COMMAND_TIMEOUT_MS: '300' });
  services = await createServices(config, createLogger(config.log), { charging: { background: false, intentLeaseMs: 1000 } });
});
afterAll(async () => {
  await services?.close();
  direct?.disconnect();
  await link?.close();
  await store?.stop();
  await chf?.stop();
});

function subscribe(key: string, user = jo): ActionRequest<{ entryId: string }> {
  return {
    user,
    actor: user,
    channel: 'rest',
    idempotency: { key, fingerprint: key },
    exclusive: ['resource:r-1'],
    prepare: ({ chargeId, now }) => {
      const entry: LibraryEntry = { id: `le-${chargeId}`, resourceId: 'r-1', origin: 'subscription', acquiredAt: now.toISOString(), expiresAt: now.toISOString(), autoRenew: false, status: 'active', chargeId };
      return { kind: 'subscribe', charge: { amount: 100, currency: 'EUR', resourceIds: ['r-1'] }, command: { type: 'library.add', args: { entries: [entry] } }, answer: { entryId: entry.id } };
    },
  };
}

describe('the reply to the start of an action lost', () => {
  it('answers 503 and never charges or applies that action later; the item can be bought again', async () => {
    // One action first, so the scripts are loaded and the next start is a single command.
    const warm = 'tel:+15551232102' as Identity;
    chf.setBalance(warm, 1000);
    await services.chargedActions.run(subscribe('k-warm', warm));
    const asked = chf.requests.length;
    chf.setBalance(jo, 1000);
    const intents = services.keys.user(jo).intents;
    const cut = link.cutAfter(/"state":"charging"/);
    await expect(services.chargedActions.run(subscribe('k-lost'))).rejects.toMatchObject({ code: 'dependency-unavailable', status: 503 });
    await cut;
    // The write did land: the store holds the intent the request gave up on.
    expect(await direct.hlen(intents)).toBe(1);

    link.heal();
    await eventually(async () => expect(await direct.hlen(intents)).toBe(0), 10_000, 100);
    // Past the intent's lease the recoverer finds nothing left to charge.
    await eventually(async () => {
      await services.recoverer.runOnce();
      expect(await direct.zcard(services.keys.pendingApplies)).toBe(0);
    }, 10_000, 200);
    expect(chf.requests).toHaveLength(asked);
    expect(await services.users.library(jo).all()).toEqual([]);

    const again = await services.chargedActions.run(subscribe('k-again'));
    expect(again.replayed).toBe(false);
    expect(await services.users.library(jo).all()).toHaveLength(1);
    expect(chf.chargesOf(jo)).toBe(1);
  });
});
