/**
 * The whole product on a three-master Redis Cluster started on loopback by the test: the
 * management API over REST (catalog, clients, boxes, subscriptions, gifts, preferences, privacy),
 * call presentation through the call service and the embedded front (sipp), the lookups of
 * presenting sessions, and copies over REST and SIP INFO, charged against the test CHF. Users'
 * data lands on several masters; every action is applied once and the CHF's ledger agrees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import type { RedisClient } from '../../src/store/redis.js';
import { reconcile } from '../support/charge-reconciliation.js';
import { HANDSET, newUser } from '../support/copy-fixtures.js';
import { storeNodes } from '../support/context.js';
import { clientBody, resourceBody } from '../support/fixtures.js';
import { PrivateRedisCluster } from '../support/redis-cluster.js';
import { startSipHarness, type SipHarness } from '../support/sip/harness.js';
import { TestChf } from '../support/test-chf.js';
import { recordTrial, tally } from '../support/trial-summary.js';

let cluster: PrivateRedisCluster;
let chf: TestChf;
let harness: SipHarness;
const statuses: number[] = [];

beforeAll(async () => {
  [cluster, chf] = await Promise.all([PrivateRedisCluster.start(), TestChf.start()]);
  harness = await startSipHarness({ env: { CMR_REDIS_URL: cluster.url, CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: chf.url, CMR_CHF_TIMEOUT_MS: '2000' } });
}, 60_000);
afterAll(async () => {
  await harness?.close();
  await Promise.all([cluster?.stop(), chf?.stop()]);
});

/** A REST request as `as` (an identity, or 'sp'); the status must be `expected`. */
async function call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, as: string, body?: unknown, expected = method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200) {
  const { ctx } = harness;
  const res = await ctx.app.inject({ method, url, headers: as === 'sp' ? ctx.sp : ctx.as(as), ...(body === undefined ? {} : { payload: body as object }) });
  statuses.push(res.statusCode);
  expect({ request: `${method} ${url}`, status: res.statusCode, body: res.statusCode === expected ? '' : res.body }).toEqual({ request: `${method} ${url}`, status: expected, body: '' });
  return res.statusCode === 204 ? null : res.json();
}
const user = (uid: string, rest = '') => `/v1/users/${encodeURIComponent(uid)}${rest}`;

/** How many masters hold keys of this test's namespace. */
async function mastersHoldingData(redis: RedisClient, namespace: string): Promise<number> {
  let holding = 0;
  for (const node of storeNodes(redis)) {
    let cursor = '0';
    let found = 0;
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      [cursor, found] = [next, found + keys.length];
    } while (cursor !== '0' && found === 0);
    if (found > 0) holding += 1;
  }
  return holding;
}

describe('on a three-master Redis Cluster', () => {
  it('manages, presents and copies, each action applied once', async () => {
    const { services } = harness.ctx;
    const [alice, bob] = [newUser(), newUser()];
    const carol = newUser();
    const dave = 'sip:dave@ims.example.net' as Identity;
    for (const uid of [alice, bob, carol, dave]) chf.setBalance(uid, 100_000);

    // The SP's catalog and clients.
    for (const id of ['r-song', 'r-tune', 'r-jazz']) await call('POST', '/v1/resources', 'sp', resourceBody({ id, title: `Tone ${id}` }));
    await call('POST', '/v1/clients', 'sp', clientBody());
    await call('POST', '/v1/boxes', 'sp', { id: 'b-chill', name: 'Chill', resourceIds: ['r-tune', 'r-jazz'], mode: 'sequential', price: 450, currency: 'EUR', validityDays: 7 });

    // Users manage their service: subscriptions, a box subscription, a gift across users, preferences, privacy.
    const subscribed = await call('POST', user(bob, '/library'), bob, { resourceId: 'r-song' });
    await call('PATCH', user(bob, `/library/${subscribed.entry.id}`), bob, { autoRenew: true });
    await call('PUT', user(bob, '/preferences/default'), bob, { resourceId: 'r-song' });
    await call('POST', user(carol, '/box-subscriptions'), carol, { boxId: 'b-chill' });
    await call('PUT', user(carol, '/preferences/default'), carol, { boxId: 'b-chill' });
    await call('POST', user(dave, '/gifts'), dave, { to: carol, resourceId: 'r-song' });
    const mine = await call('POST', user(carol, '/boxes'), carol, { name: 'Mine', resourceIds: ['r-song'], mode: 'random' });
    await call('POST', user(carol, '/preferences/rules'), carol, { priority: 1, enabled: true, conditions: { callers: [dave] }, present: { boxId: mine.box.id } });
    await call('POST', user(alice, '/preferences/filters'), alice, { ratings: ['mature'] });
    await call('PUT', user(bob, '/privacy'), bob, { copy: 'everyone', contacts: [], blocked: [], gifts: 'everyone' });
    const carolService = await call('GET', user(carol, '/service'), carol);
    expect(carolService.library.map((e: { resourceId: string; origin: string }) => [e.resourceId, e.origin]).sort()).toEqual([
      ['r-jazz', 'box'],
      ['r-song', 'gift'],
      ['r-tune', 'box'],
    ]);

    // Presenting: a call through the call service, then its lookups.
    const callId = `cluster-${Date.now()}@test`;
    const annotation = await services.calls.callStarted({ callId, fromTag: 'ft', caller: dave, called: carol });
    expect(annotation.toCaller.map((r) => r.resourceId)).toEqual(['r-song']);
    await services.calls.callAnswered(callId);
    expect(await services.calls.getCall(callId, 'ft')).toMatchObject({ caller: dave, called: carol, state: 'confirmed' });
    expect(await services.calls.findLiveCallBetween(dave, carol)).toMatchObject({ callId });
    expect((await call('GET', `/v1/calls/${encodeURIComponent(callId)}`, 'sp')).toCaller).toEqual([expect.objectContaining({ resourceId: 'r-song' })]);
    expect((await call('GET', user(dave, '/calls/current'), dave)).map((c: { callId: string }) => c.callId)).toEqual([callId]);
    expect((await call('GET', `${user(carol, '/presentation')}?caller=${encodeURIComponent(alice)}`, carol)).presented).toEqual([expect.objectContaining({ resourceId: 'r-tune' })]);

    // Copies: online over REST from that call, offline over REST, and over SIP INFO in a sipp call.
    const online = await call('POST', user(dave, '/copies'), dave, { mode: 'online', peer: carol, client: HANDSET });
    expect(online).toMatchObject({ result: 'copied', entries: [{ resourceId: 'r-song' }] });
    await services.calls.callEnded(callId, 'bye');
    const offline = await call('POST', user(dave, '/copies'), dave, { mode: 'offline', from: carol, resourceIds: ['r-tune', 'r-song'] });
    expect(offline).toMatchObject({ result: 'copied', entries: [{ resourceId: 'r-tune' }] });
    await harness.call({ transport: 'udp', caller: 'caller-copy-confirmed.xml', called: 'called-answer.xml', parties: { caller: alice, called: bob }, expect: { toCaller: 'r-song' } });
    expect((await call('GET', user(alice, '/library'), alice)).map((e: { resourceId: string; from: string }) => [e.resourceId, e.from])).toEqual([['r-song', bob]]);

    // Records: charges, the SP's feeds; every user's data spread over the masters.
    const users = [alice, bob, carol, dave];
    const ledger = await reconcile(services, chf, users);
    expect(ledger.problems).toEqual([]);
    expect(ledger.charged).toBe(6); // subscribe, box, gift, online copy, offline copy, SIP copy
    // Free changes are recorded as offline events; the priced ones went to the CHF.
    expect((await call('GET', '/v1/charges', 'sp')).items.filter((c: { mode: string }) => c.mode === 'nchf')).toHaveLength(6);
    const kinds = (await call('GET', '/v1/activities', 'sp')).items.map((i: { record: { kind: string } }) => i.record.kind);
    expect(kinds).toEqual(expect.arrayContaining(['catalog', 'client', 'subscribe', 'box-subscribe', 'gift', 'copy-online', 'copy-offline']));
    expect(await mastersHoldingData(services.redis, services.config.redis.namespace)).toBeGreaterThanOrEqual(2);

    recordTrial({
      test: 'Redis Cluster: management, presenting, copies',
      tried: { masters: cluster.ports.length, 'REST requests': statuses.length, 'calls through the call service': 1, 'sipp calls with copy': 1 },
      outcomes: { ...tally(statuses), 'CHF charges': ledger.charged, discrepancies: ledger.problems.length },
    });
  }, 60_000);
});
