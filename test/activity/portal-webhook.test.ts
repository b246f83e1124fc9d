/**
 * Portal delivery through the consumer group: every record POSTed with its event id, retried with
 * backoff while the portal fails, and delivered after a restart by the next server — none lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { deleteNamespace, testConfig } from '../support/context.js';
import { eventually } from '../support/eventually.js';
import { TestPortal } from '../support/test-portal.js';

const fastRetries = { initialBackoffMs: 20, maxBackoffMs: 100, claimIdleMs: 300 };

let portal: TestPortal;
let config: Config;
const running: Services[] = [];

async function start(): Promise<Services> {
  const services = await createServices(config, createLogger(config.log), { charging: { portalWebhook: fastRetries } });
  running.push(services);
  return services;
}

beforeAll(async () => {
  portal = await TestPortal.start();
  config = testConfig({ CMR_PORTAL_WEBHOOK_URL: portal.url });
});
afterAll(async () => {
  const any = running[running.length - 1]!;
  await deleteNamespace(any.redis, config.redis.namespace);
  for (const services of running.splice(0)) await services.close();
  await portal.stop();
});

async function record(services: Services, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const activity = await services.activities.record({ actor: 'sp:portal-admin', subject: null, kind: 'catalog', channel: 'portal', detail: { i } });
    ids.push(activity.id);
  }
  return ids;
}

describe('portal webhook', () => {
  it('POSTs every record with its event id and cursor', async () => {
    const services = await start();
    const ids = await record(services, 3);
    await eventually(() => expect([...portal.delivered()]).toEqual(expect.arrayContaining(ids)));
    const first = portal.deliveries.find((d) => d.eventId === ids[0])!;
    expect(first.body).toMatchObject({ id: ids[0], kind: 'catalog', detail: { i: 0 } });
    expect(first.cursor).toMatch(/^\d+-\d+$/);
    // The portal has the POST a moment before the server has read its answer and counted it.
    await eventually(async () =>
      expect(await services.metrics.registry.getSingleMetricAsString('cmr_portal_deliveries_total')).toMatch(/result="delivered"} [3-9]/),
    );
  });

  it('retries a failing delivery with backoff until the portal accepts it', async () => {
    const services = running[0]!;
    portal.fail(3);
    const [id] = await record(services, 1);
    await eventually(() => expect(portal.delivered().has(id!)).toBe(true));
    expect(portal.attempts.filter((a) => a === id).length).toBe(4);
    expect(await services.metrics.registry.getSingleMetricAsString('cmr_portal_deliveries_total')).toMatch(/result="failed"} 3/);
  });

  it('delivers after a restart what the stopped server could not', async () => {
    portal.fail();
    const first = running[0]!;
    const ids = await record(first, 3);
    await eventually(() => expect(portal.attempts).toContain(ids[0]));
    await first.close();
    running.splice(0, 1);

    portal.recover();
    await start();
    await eventually(() => expect([...portal.delivered()]).toEqual(expect.arrayContaining(ids)), 10_000);
    // At least once: a record may come twice, and the event id tells the portal so.
    const counts = ids.map((id) => portal.deliveries.filter((d) => d.eventId === id).length);
    expect(counts.every((n) => n >= 1)).toBe(true);
  });
});
