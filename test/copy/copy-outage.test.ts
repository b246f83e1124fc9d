/**
 * A copy over SIP INFO while the store fails, on a private redis-server the test kills: down
 * before the copy → 503 with Retry-After and nothing charged; down right after the CHF's grant →
 * 503, nothing applied, and once the store is back the recoverer applies the copy exactly once
 * (the CHF is asked again as a retransmission and charges nothing more); the INFO repeated then
 * gets the copy's answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CopyResult } from '../../src/copy/copy-outcomes.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { testConfig } from '../support/context.js';
import { copyInfo, libraryOf, newUser, owning, seedCopyCatalog, startCall } from '../support/copy-fixtures.js';
import { eventually } from '../support/eventually.js';
import { PrivateRedis } from '../support/redis-server.js';
import { TestChf } from '../support/test-chf.js';

let chf: TestChf;
let store: PrivateRedis;
let services: Services;

beforeAll(async () => {
  chf = await TestChf.start();
  store = await PrivateRedis.start();
  const config = testConfig({
    CMR_REDIS_URL: store.url,
    CMR_CHARGING_MODE: 'nchf',
    CMR_CHF_URL: chf.url,
    CMR_CHF_TIMEOUT_MS: '2000',
    CMR_REDIS_COMMAND_TIMEOUT_MS: '300',
    CMR_SELECT_BUDGET_MS: '5000',
  });
  services = await createServices(config, createLogger(config.log), { charging: { background: false, intentLeaseMs: 1000 } });
  await seedCopyCatalog(services);
});
afterAll(async () => {
  await services.close();
  await store.stop();
  await chf.stop();
});

const ready = () => eventually(async () => expect(await services.redis.ping()).toBe('PONG'), 10_000, 100);

async function callPresentingSong() {
  const [caller, called] = [newUser(), newUser()];
  chf.setBalance(caller, 1000);
  await owning(services, called, ['r-song']);
  return { caller, session: await startCall(services, caller, called) };
}

describe('copy while the store fails', () => {
  it('answers 503 with Retry-After and charges nothing when the store is down', async () => {
    const { caller, session } = await callPresentingSong();
    await store.kill();
    try {
      const answer = await services.sipCopy.handleInfo(copyInfo(session));
      expect(answer).toMatchObject({ status: 503, headers: { 'Retry-After': expect.stringMatching(/^[1-9]\d*$/) } });
      expect(chf.requests).toHaveLength(0);
    } finally {
      await store.launch();
    }
    await ready();
    expect(await libraryOf(services, caller)).toEqual([]);
  });

  it('applies a copy granted while the store died exactly once, through the recoverer', async () => {
    const { caller, session } = await callPresentingSong();
    chf.onCharged = async () => {
      chf.onCharged = null;
      await store.kill();
    };
    const info = copyInfo(session);
    const answer = await services.sipCopy.handleInfo(info);
    expect(answer).toMatchObject({ status: 503, headers: { 'Retry-After': expect.stringMatching(/^[1-9]\d*$/) } });
    expect(answer?.headers['Warning']).toMatch(/granted and will be applied/);

    await store.launch();
    await ready();
    expect(await libraryOf(services, caller)).toEqual([]);
    await eventually(async () => {
      await services.recoverer.runOnce();
      expect(await libraryOf(services, caller)).toHaveLength(1);
    }, 10_000, 100);
    await services.recoverer.runOnce();

    const [copied] = await libraryOf(services, caller);
    expect(copied).toMatchObject({ resourceId: 'r-song', origin: 'copy-online' });
    expect(chf.requests.map((r) => r.retransmissionIndicator ?? false)).toEqual([false, true]);
    expect(chf.chargesOf(caller)).toBe(1);
    expect(chf.balances.get(caller)).toBe(1000 - 99);
    expect((await services.charges.forUser(caller, 10)).items).toEqual([expect.objectContaining({ id: copied!.chargeId, outcome: 'granted', kind: 'copy-online' })]);

    // The same INFO again (same dialog and CSeq) now gets the copy's answer, with nothing more charged.
    const repeated = await services.sipCopy.handleInfo(info);
    expect(repeated?.status).toBe(200);
    expect(JSON.parse(repeated!.body!) as CopyResult).toEqual({
      result: 'copied',
      entries: [{ resourceId: 'r-song', libraryEntryId: copied!.id, expiresAt: copied!.expiresAt }],
      charge: { id: copied!.chargeId, amount: 99, currency: 'EUR' },
    });
    expect(chf.requests).toHaveLength(2);
    expect(await libraryOf(services, caller)).toHaveLength(1);
  });
});
