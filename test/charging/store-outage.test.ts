/**
 * The store failing around a charge, on a private redis-server that the test kills: before the
 * intent nothing is charged; after the CHF's grant the action is kept and, once the store is back,
 * re-charged as a retransmission (charged once) and applied.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRequest } from '../../src/charging/charged-actions.js';
import type { Identity } from '../../src/domain/identity.js';
import type { LibraryEntry } from '../../src/domain/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { testConfig } from '../support/context.js';
import { eventually } from '../support/eventually.js';
import { PrivateRedis } from '../support/redis-server.js';
import { TestChf } from '../support/test-chf.js';

const ivan = 'tel:+15551232001' as Identity;

let chf: TestChf;
let store: PrivateRedis;
let services: Services;

beforeAll(async () => {
  chf = await TestChf.start();
  store = await PrivateRedis.start();
  const config = testConfig({ CMR_REDIS_URL: store.url, CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: chf.url, CMR_CHF_TIMEOUT_MS: '2000', CMR_REDIS_COMMAND_TIMEOUT_MS: '300' });
  services = await createServices(config, createLogger(config.log), { charging: { background: false, intentLeaseMs: 1000 } });
});
afterAll(async () => {
  await services.close();
  await store.stop();
  await chf.stop();
});

function subscribe(resourceId: string): ActionRequest<{ entryId: string }> {
  return {
    user: ivan,
    actor: ivan,
    channel: 'rest',
    idempotency: { key: `k-${resourceId}`, fingerprint: resourceId },
    prepare: ({ chargeId, now }) => {
      const entry: LibraryEntry = { id: `le-${chargeId}`, resourceId, origin: 'subscription', acquiredAt: now.toISOString(), expiresAt: now.toISOString(), autoRenew: false, status: 'active', chargeId };
      return { kind: 'subscribe', charge: { amount: 100, currency: 'EUR', resourceIds: [resourceId] }, command: { type: 'library.add', args: { entries: [entry] } }, answer: { entryId: entry.id } };
    },
  };
}

const ready = () => eventually(async () => expect(await services.redis.ping()).toBe('PONG'), 10_000, 100);

describe('store outage around a charge', () => {
  it('answers 503 and charges nothing when the store is down before the intent', async () => {
    chf.setBalance(ivan, 1000);
    await store.kill();
    try {
      await expect(services.chargedActions.run(subscribe('r-1'))).rejects.toMatchObject({ code: 'dependency-unavailable', status: 503 });
      expect(chf.requests).toHaveLength(0);
    } finally {
      await store.launch();
    }
    await ready();
  });

  it('keeps a charge granted while the store died, then re-charges it as a retransmission and applies it once', async () => {
    chf.setBalance(ivan, 1000);
    chf.onCharged = async () => {
      chf.onCharged = null;
      await store.kill();
    };
    const err = await services.chargedActions.run(subscribe('r-2')).then(
      () => null,
      (e: unknown) => e as { code: string; detail: string },
    );
    expect(err).toMatchObject({ code: 'dependency-unavailable', detail: expect.stringMatching(/granted and will be applied/) });

    await store.launch();
    await ready();
    await eventually(async () => {
      await services.recoverer.runOnce();
      expect(await services.users.library(ivan).all()).toHaveLength(1);
    }, 10_000, 100);

    expect(chf.requests.map((r) => r.retransmissionIndicator ?? false)).toEqual([false, true]);
    expect(chf.chargesOf(ivan)).toBe(1);
    expect(chf.balances.get(ivan)).toBe(900);
    expect((await services.charges.forUser(ivan, 10)).items).toEqual([expect.objectContaining({ outcome: 'granted', resourceIds: ['r-2'] })]);
    // The request's key now answers with the applied result.
    const replay = await services.chargedActions.run(subscribe('r-2'));
    expect(replay.replayed).toBe(true);
    expect(chf.requests).toHaveLength(2);
  });
});
