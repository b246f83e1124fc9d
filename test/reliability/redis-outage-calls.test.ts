/**
 * Redis outage under call load: the embedded front and the real services on a private
 * redis-server, a sipp caller placing calls at a steady rate, each copying what it is presented
 * with an INFO. The test kills Redis while calls flow and relaunches it; the app is never
 * restarted. Every call completes (unannotated while Redis is down), a copy asked during the
 * outage is answered 503 with Retry-After and applies nothing, and once Redis is back calls are
 * annotated and copies succeed again. The CHF's ledger is then reconciled with the libraries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import { reconcile } from '../support/charge-reconciliation.js';
import { libraryOf, newUser, owning, seedCopyCatalog } from '../support/copy-fixtures.js';
import { eventually } from '../support/eventually.js';
import { PrivateRedis } from '../support/redis-server.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../support/sip/harness.js';
import { startSipp } from '../support/sip/sipp.js';
import { freePort, waitForListener } from '../support/sip/sockets.js';
import { TestChf } from '../support/test-chf.js';
import { recordTrial, tally } from '../support/trial-summary.js';

const CALLS_PER_SECOND = 5;
/** Calls are placed until the test has seen each phase; this only bounds the run. */
const MAX_CALLS = 300;
/** Calls (and copies) each phase waits for: before the outage, during it, after it. */
const PER_PHASE = { calls: 8, copies: 3 };

let chf: TestChf;
let store: PrivateRedis;
let harness: SipHarness;

beforeAll(async () => {
  [chf, store] = await Promise.all([TestChf.start(), PrivateRedis.start()]);
  harness = await startSipHarness({
    env: {
      CMR_REDIS_URL: store.url,
      CMR_CHARGING_MODE: 'nchf',
      CMR_CHF_URL: chf.url,
      CMR_CHF_TIMEOUT_MS: '2000',
      CMR_REDIS_COMMAND_TIMEOUT_MS: '500',
      // A loaded machine must not turn healthy selections into fail-opens: the outage is under test here.
      CMR_SELECT_BUDGET_MS: '1000',
    },
    // A grant whose apply met the dead store is left to the recoverer; it may take it once the
    // intent's lease is over, so a short lease keeps the test short.
    services: { charging: { recoverer: { intervalMs: 200, maxBackoffMs: 1000 }, intentLeaseMs: 3000 } },
  });
});
afterAll(async () => {
  await harness?.close();
  await Promise.all([store?.stop(), chf?.stop()]);
});

/** One call as the caller's `<log>` lines tell it. */
interface CallLog {
  caller: Identity;
  alert: string;
  copy: string;
  detail: string;
  done: boolean;
}

function callsOf(logs: string[]): Map<number, CallLog> {
  const calls = new Map<number, CallLog>();
  for (const line of logs) {
    const m = /^.*?call (\d+) (\+\d+) (start|done|alert=(?:resource=)?(\S*) copy=(\d+) ?(.*))$/.exec(line);
    if (!m) continue;
    const n = Number(m[1]);
    const call = calls.get(n) ?? { caller: `tel:${m[2]}` as Identity, alert: '', copy: '', detail: '', done: false };
    if (m[3] === 'done') call.done = true;
    else if (m[3] !== 'start') Object.assign(call, { alert: m[4], copy: m[5], detail: m[6]!.replace(/^"result":"([a-z-]+)"$/, '$1') });
    calls.set(n, call);
  }
  return calls;
}

describe('Redis outage under call load', () => {
  it('completes every call, refuses copies with 503 while Redis is down, and resumes without a restart', async () => {
    const { services } = harness.ctx;
    await seedCopyCatalog(services);
    const called = newUser();
    await owning(services, called, ['r-song']);
    const callers = Array.from({ length: MAX_CALLS }, () => newUser());
    for (const caller of callers) chf.setBalance(caller, 1000);

    const selections = async (result: string) => (await services.metrics.selections.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
    const copies = async (result: string) => (await services.metrics.copies.get()).values.find((v) => v.labels.channel === 'sip' && v.labels.result === result)?.value ?? 0;

    const calledPort = await freePort(CALLED_IP);
    const uas = startSipp({ scenario: 'called-answer.xml', transport: 'udp', local: { ip: CALLED_IP, port: calledPort }, calls: MAX_CALLS, timeoutSec: 120 });
    await waitForListener(CALLED_IP, calledPort, 'udp');
    const uac = startSipp({
      scenario: 'caller-load-copy.xml',
      transport: 'udp',
      local: { ip: CALLER_IP, port: await freePort(CALLER_IP) },
      remote: harness.server,
      keys: { called: called.replace(/^tel:/, ''), called_host: CALLED_IP, called_port: String(calledPort) },
      injection: callers.map((c) => [c.replace(/^tel:/, '')]),
      calls: MAX_CALLS,
      rate: CALLS_PER_SECOND,
      timeoutSec: 120,
    });
    // A sipp that ends before it is stopped has failed: its report says why.
    const endedEarly = Promise.race([uac.done, uas.done]).then((run) => {
      throw new Error(`sipp ended before the test stopped it:\n${run.report}`);
    });
    endedEarly.catch(() => undefined);
    const atLeast = (read: () => Promise<number>, n: number) =>
      Promise.race([eventually(async () => expect(await read()).toBeGreaterThanOrEqual(n), 20_000, 50), endedEarly]);

    // Healthy: calls annotated, copies made.
    await atLeast(() => selections('annotated'), PER_PHASE.calls);
    await atLeast(() => copies('copied'), PER_PHASE.copies);
    // Redis goes away while calls keep coming.
    await store.kill();
    const failOpenBefore = await selections('fail-open-error');
    const refusedBefore = await copies('dependency-unavailable');
    await atLeast(() => selections('fail-open-error'), failOpenBefore + PER_PHASE.calls);
    await atLeast(() => copies('dependency-unavailable'), refusedBefore + PER_PHASE.copies);
    // Redis is back; the same app finds it again.
    await store.launch();
    const [annotatedBefore, copiedBefore] = [await selections('annotated'), await copies('copied')];
    await atLeast(() => selections('annotated'), annotatedBefore + PER_PHASE.calls);
    await atLeast(() => copies('copied'), copiedBefore + PER_PHASE.copies);

    uac.stop();
    const caller = await uac.done;
    uas.stop();
    const answerer = await uas.done;

    const calls = [...callsOf(caller.logs).values()];
    expect(calls.length).toBeGreaterThanOrEqual(3 * PER_PHASE.calls);
    expect(calls.filter((c) => !c.done), caller.report).toEqual([]);
    expect(caller.errors.trim(), caller.report).toBe('');
    expect(answerer.errors.trim(), answerer.report).toBe('');
    const unannotated = calls.filter((c) => c.alert === '');
    expect(unannotated.length).toBeGreaterThanOrEqual(PER_PHASE.calls);
    expect(calls.filter((c) => c.alert !== '').every((c) => c.alert === 'r-song')).toBe(true);

    // Every 503 asks the handset to retry later.
    const refused = calls.filter((c) => c.copy === '503');
    expect(refused.length).toBeGreaterThanOrEqual(PER_PHASE.copies);
    for (const call of refused) expect(call.detail).toMatch(/^retry-after=[1-9]\d* /);
    expect(calls.every((c) => ['200', '404', '503'].includes(c.copy)), JSON.stringify(tally(calls.map((c) => c.copy)))).toBe(true);

    // Nothing applied for a refused copy (unless the CHF had granted it as Redis died: then it is
    // applied once the store is back), exactly one copy for each copied answer, and the ledger agrees.
    await eventually(async () => {
      for (const call of calls) expect(await services.redis.hlen(services.keys.user(call.caller).intents)).toBe(0);
    }, 15_000, 200);
    for (const call of calls) {
      const library = await libraryOf(services, call.caller);
      if (call.copy === '200') expect({ call, copied: library.map((e) => e.resourceId) }).toEqual({ call, copied: ['r-song'] });
      if (call.copy === '404' || (call.copy === '503' && !/granted/.test(call.detail))) {
        expect({ call, library, charged: chf.chargesOf(call.caller) }).toEqual({ call, library: [], charged: 0 });
      }
    }
    const ledger = await reconcile(services, chf, calls.map((c) => c.caller));
    expect(ledger.problems).toEqual([]);

    recordTrial({
      test: 'Redis outage under call load (sipp)',
      tried: { calls: calls.length, 'calls per second': CALLS_PER_SECOND, 'copy INFOs': calls.length, 'Redis kills': 1, 'app restarts': 0 },
      outcomes: {
        completed: calls.filter((c) => c.done).length,
        annotated: calls.length - unannotated.length,
        unannotated: unannotated.length,
        ...Object.fromEntries(Object.entries(tally(calls.map((c) => `${c.copy}${c.copy === '200' ? ` ${c.detail}` : ''}`))).map(([k, v]) => [`copy ${k}`, v])),
        'CHF charges': ledger.charged,
        discrepancies: ledger.problems.length,
      },
    });
  }, 60_000);
});
