/**
 * The live tail of the activity feed (SSE, live readers) across a store outage: its blocking
 * reader waits for the link to come back and goes on with the records written after it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FeedItem } from '../../src/activity/activity-feed.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { testConfig } from '../support/context.js';
import { eventually } from '../support/eventually.js';
import { PrivateRedis } from '../support/redis-server.js';

let store: PrivateRedis;
let services: Services;

beforeAll(async () => {
  store = await PrivateRedis.start();
  const config = testConfig({ CMR_REDIS_URL: store.url, CMR_REDIS_COMMAND_TIMEOUT_MS: '300' });
  services = await createServices(config, createLogger(config.log), { charging: { background: false } });
});
afterAll(async () => {
  await services.close();
  await store.stop();
});

describe('activity feed tail', () => {
  it('resumes after the store was lost and relaunched, missing nothing written after', async () => {
    const seen: FeedItem[] = [];
    const unsubscribe = await services.activityFeed.follow((items) => seen.push(...items));
    const before = await services.activities.record({ actor: 'sp:portal-admin', subject: null, kind: 'catalog', channel: 'portal', detail: { n: 1 } });
    await eventually(() => expect(seen.map((i) => i.record.id)).toContain(before.id));

    await store.kill();
    await store.launch();
    await eventually(async () => expect(await services.redis.ping()).toBe('PONG'));

    const after = await services.activities.record({ actor: 'sp:portal-admin', subject: null, kind: 'catalog', channel: 'portal', detail: { n: 2 } });
    await eventually(() => expect(seen.map((i) => i.record.id)).toContain(after.id), 15_000);
    unsubscribe();
  });
});
