/**
 * Fail open (contract §3.1): whatever Redis does — unreachable, asleep, gone mid-service — a call
 * start is answered, at the budget at the latest, with an empty annotation; the outcome is
 * counted; nothing throws; and once Redis answers again the call's events land in order.
 */
import { describe, expect, it } from 'vitest';
import type { CallStart } from '../../src/calls/call-events.js';
import { StoreUnavailableError } from '../../src/domain/errors.js';
import { buildApp } from '../../src/http/app.js';
import { signToken } from '../../src/http/tokens.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { TEST_SECRET, testConfig } from '../support/context.js';
import { ALICE, BOB, entry, resource, seedCatalog, seedUser } from '../support/presentation-fixtures.js';
import { freePort, startRedisServer } from '../support/redis-server.js';

const EMPTY = { toCaller: [], toCalled: [] };

async function servicesOn(url: string, env: Record<string, string> = {}): Promise<Services> {
  const config = testConfig({ CMR_REDIS_URL: url, ...env });
  return createServices(config, createLogger(config.log));
}

async function selections(services: Services): Promise<Record<string, number>> {
  const metric = await services.metrics.selections.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
}

let n = 0;
const callFrom = (caller = ALICE, called = BOB): CallStart => ({ callId: `fail-open-${++n}@192.0.2.1`, fromTag: `t${n}`, caller, called });

/** Waits for a condition, polling, up to a deadline. */
async function until(condition: () => boolean, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('fail open', () => {
  it('answers empty when Redis cannot be reached, never throws, and the REST API answers 503', async () => {
    const services = await servicesOn(`redis://127.0.0.1:${await freePort()}`);
    const app = await buildApp(services);
    try {
      const start = callFrom();
      expect(await services.calls.callStarted(start)).toEqual(EMPTY);
      expect(await selections(services)).toEqual({ 'fail-open-error': 1 });
      await expect(services.calls.callAnswered(start.callId)).resolves.toBeUndefined();
      await expect(services.calls.callEnded(start.callId, 'bye')).resolves.toBeUndefined();
      expect(await services.calls.findCall(start.callId, start.fromTag)).toBeNull();
      await expect(services.calls.getCall(start.callId)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(services.calls.findLiveCallBetween(ALICE, BOB)).rejects.toBeInstanceOf(StoreUnavailableError);

      const headers = { authorization: `Bearer ${signToken(TEST_SECRET, { sub: ALICE, role: 'user' })}` };
      for (const url of [`/v1/users/${ALICE}/presentation?caller=${encodeURIComponent(BOB)}`, `/v1/users/${ALICE}/calls/current`]) {
        const res = await app.inject({ method: 'GET', url, headers });
        expect(res.statusCode, url).toBe(503);
        expect(res.json().code).toBe('dependency-unavailable');
        expect(res.headers['retry-after']).toBeDefined();
      }
    } finally {
      await app.close();
      await services.close();
    }
  });

  it('answers empty at the budget while Redis sleeps, then records the call and its events in order', async () => {
    const server = await startRedisServer();
    // Commands may wait out the sleep: only the budget cuts the call start short.
    const services = await servicesOn(server.url, { CMR_REDIS_COMMAND_TIMEOUT_MS: '5000' });
    try {
      await seedCatalog(services, [resource('r1')]);
      await seedUser(services, BOB, { preferences: { default: { resourceId: 'r1' } }, library: [entry('r1')] });
      // Healthy, the same call would be annotated.
      expect((await services.calls.preview(BOB, ALICE)).presented.map((r) => r.resourceId)).toEqual(['r1']);

      // DEBUG SLEEP blocks the server; the call's reads queue behind it on the same connection.
      // Sent as a pipeline, which is written at once: a lone command waits for the auto-pipelining
      // flush, and the call's own pipeline would reach Redis first.
      const sleeping = services.redis.pipeline().call('DEBUG', 'SLEEP', '1.5').exec();
      const start = callFrom();
      expect(await services.calls.callStarted(start)).toEqual(EMPTY);
      await services.calls.callAnswered(start.callId);
      await services.calls.callEnded(start.callId, 'bye');
      expect((await selections(services))['fail-open-timeout']).toBe(1);

      await sleeping;
      await services.calls.drain();
      // The session says what the front was told (nothing), and the events applied in order.
      const session = await services.calls.getCall(start.callId, start.fromTag);
      expect(session).toMatchObject({ callId: start.callId, state: 'ended', toCaller: [], toCalled: [] });
      expect(session?.answeredAt).toBeDefined();
    } finally {
      await services.close();
      await server.stop();
    }
  });

  it('answers empty when Redis goes away during service', async () => {
    const server = await startRedisServer();
    const services = await servicesOn(server.url);
    try {
      await seedCatalog(services, [resource('r1')]);
      await seedUser(services, BOB, { preferences: { default: { resourceId: 'r1' } }, library: [entry('r1')] });
      expect((await services.calls.preview(BOB, ALICE)).presented).toHaveLength(1);

      await server.kill();
      await until(() => services.redis.status !== 'ready');
      const start = callFrom();
      expect(await services.calls.callStarted(start)).toEqual(EMPTY);
      expect((await selections(services))['fail-open-error']).toBe(1);
      await expect(services.calls.callEnded(start.callId, 'bye')).resolves.toBeUndefined();
      expect(await services.calls.findCall(start.callId)).toBeNull();
    } finally {
      await services.close();
      await server.stop();
    }
  });
});
