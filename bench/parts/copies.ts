/**
 * Part 2, copies, once with `cdr` charging and once against the HTTP/2 test CHF (`nchf`):
 * - over SIP: sipp calls through the embedded front, each copying what it hears with a cmr-copy
 *   INFO once answered (the server answers it), stepped like the calls; each call by another
 *   caller, so every copy is new and charged;
 * - over REST: `POST /v1/users/{uid}/copies` online copies with autocannon, each request by
 *   another user with a live call to the called party (set up through the call service first);
 *   before them, the Redis cost of one such copy: a few copies one after another, counted on the
 *   service's own connection (`RedisTraffic`) with the background work (recoverer, sweeper) paused.
 */
import path from 'node:path';
import { ulid } from 'ulid';
import type { Identity } from '../../src/domain/identity.js';
import type { Services } from '../../src/wiring.js';
import { RedisTraffic } from '../redis-traffic.js';
import { round } from '../stats.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../../test/support/sip/harness.js';
import { SCENARIOS } from '../../test/support/sip/sipp.js';
import { freePort } from '../../test/support/sip/sockets.js';
import { TestChf } from '../../test/support/test-chf.js';
import { BENCH_CALLED, callers, CLIENT, seedCalledParty, seedCatalogFor } from '../bench-data.js';
import { httpLoad, type HttpLoadResult, type PlannedRequest } from '../http-load.js';
import { BENCH_DIR, type BenchOptions } from '../options.js';
import { benchEnv, type Progress } from '../run.js';
import { runLoadStep, type LoadResult } from '../sipp-load.js';
import { LIBRARY_SIZE, number, stepSummary, withServerCpu } from './calls.js';
import { copyCounts, delta, selectionCounts, sustainedRate, untilQuiet, type Sustained } from './load-figures.js';

export type ChargingMode = 'cdr' | 'nchf';

export interface SipCopyStep extends LoadResult {
  /** `cmr_copies_total` during the step, by channel/result. */
  copies: Record<string, number>;
  /** `cmr_selections_total` during the step, by result: a call that presented nothing has nothing to copy. */
  selections: Record<string, number>;
  /** This process's CPU time (where the front and the copies run) per copy call. */
  serverCpuMsPerCall: number;
}

/** Averages over `copies` REST online copies made one after another, each new and charged. */
export interface PerCopy {
  copies: number;
  roundTrips: number;
  commands: number;
  bytesOut: number;
  bytesIn: number;
}

export interface CopyModeFigures {
  sip: { steps: SipCopyStep[]; sustained: Sustained };
  /**
   * With the CPU time of the server's thread per REST copy: the load generator runs in a worker
   * thread and is not counted; the test CHF (`nchf`) runs in the server's thread and is.
   */
  rest: HttpLoadResult & { serverCpuMsPerCopy: number };
  perCopy: PerCopy;
}

export type CopyFigures = Record<ChargingMode, CopyModeFigures>;

/** Balance each caller gets at the test CHF: far more than the copies it makes. */
const BALANCE = 1_000_000;
/** Live calls set up at once before the REST copies, and attempts for each to present something. */
const SETUP_CONCURRENCY = 8;
const SETUP_ATTEMPTS = 5;
/** REST copies counted for the cost of one: every copy takes the same path, so a few suffice. */
const COST_COPIES = 20;

export async function benchCopies(options: BenchOptions, progress: Progress): Promise<CopyFigures> {
  const cdr = await copiesWith('cdr', null, options, progress);
  const chf = await TestChf.start();
  try {
    return { cdr, nchf: await copiesWith('nchf', chf, options, progress) };
  } finally {
    await chf.stop();
  }
}

async function copiesWith(mode: ChargingMode, chf: TestChf | null, options: BenchOptions, progress: Progress): Promise<CopyModeFigures> {
  const harness = await startSipHarness({ env: benchEnv(options, { CMR_CHARGING_MODE: mode, ...(chf ? { CMR_CHF_URL: chf.url } : {}) }) });
  // Callers never repeat within a run: each step and the REST run take their own series.
  let series = mode === 'cdr' ? 100 : 500;
  const newCallers = (count: number) => {
    const who = callers(series++, count);
    for (const uid of who) chf?.setBalance(uid, BALANCE);
    return who;
  };
  try {
    await seedCatalogFor(harness.ctx.services, LIBRARY_SIZE);
    await seedCalledParty(harness.ctx.services, BENCH_CALLED, LIBRARY_SIZE);

    const steps: SipCopyStep[] = [];
    for (const rate of options.copySteps) {
      const { metrics } = harness.ctx.services;
      const [copiesBefore, selectionsBefore] = [await copyCounts(metrics), await selectionCounts(metrics)];
      const result = await withServerCpu(() => copyCalls(harness, rate, newCallers(rate * options.stepSec)));
      const copies = delta(copiesBefore, await copyCounts(metrics));
      const selections = delta(selectionsBefore, await selectionCounts(metrics));
      steps.push({ ...result, copies, selections });
      const info = result.responseTimes['2'];
      progress(`copies ${mode} SIP ${rate}/s: ${stepSummary(result)}, INFO→200 p50 ${info?.p50 ?? '-'} p99 ${info?.p99 ?? '-'} ms, copies ${JSON.stringify(copies)}, selections ${JSON.stringify(selections)}`);
      await untilQuiet([harness.ctx.services.metrics]);
    }

    const address = await harness.ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const perCopy = await restCopyCost(harness, address, newCallers(COST_COPIES));
    progress(`copies ${mode} REST: ${perCopy.roundTrips} Redis round trips per copy, ${perCopy.commands} commands`);
    const rest = await restCopies(harness, address, newCallers(options.restCopies), options.connections);
    progress(`copies ${mode} REST: ${rest.ok}/${rest.requests} ok, ${rest.perSec}/s, p50 ${rest.latencyMs.p50} p99 ${rest.latencyMs.p99} ms`);
    return { sip: { steps, sustained: sustainedRate(steps) }, rest, perCopy };
  } finally {
    await harness.close();
  }
}

/**
 * A live call from `caller` to the called party that presents something to the caller. On a busy
 * machine a selection may fail open (nothing presented, nothing to copy): the caller calls again,
 * and the copy takes the most recent call.
 */
async function callPresenting(services: Services, caller: Identity): Promise<void> {
  for (let attempt = 1; attempt <= SETUP_ATTEMPTS; attempt++) {
    const callId = `bench-rest-${attempt}-${ulid()}@127.0.0.1`;
    const annotation = await services.calls.callStarted({ callId, fromTag: `rest-${attempt}`, caller, called: BENCH_CALLED });
    if (annotation.toCaller.length > 0) return;
  }
  throw new Error(`no call from ${caller} presented anything in ${SETUP_ATTEMPTS} attempts: every selection failed open`);
}

/** Calls by `who` (one each) at `rate`, each copying once with INFO. */
/** sipp calls that each copy what they hear with a cmr-copy INFO once answered, one per caller of `who`. */
export async function copyCalls(harness: SipHarness, rate: number, who: Identity[]): Promise<LoadResult> {
  const calledPort = await freePort(CALLED_IP);
  return runLoadStep({
    rate,
    calls: who.length,
    server: { ip: harness.server.ip, port: harness.server.port },
    called: { scenario: path.join(SCENARIOS, 'called-answer.xml'), ip: CALLED_IP, port: calledPort },
    caller: {
      scenario: path.join(BENCH_DIR, 'scenarios', 'caller-copy.xml'),
      ip: CALLER_IP,
      port: await freePort(CALLER_IP),
      keys: { called: number(BENCH_CALLED), called_host: CALLED_IP, called_port: String(calledPort) },
    },
    injection: who.map((uid) => `${number(uid)};`),
  });
}

const COPY_BODY = JSON.stringify({ mode: 'online', peer: BENCH_CALLED, client: CLIENT });

function copyRequest(harness: SipHarness, uid: Identity): PlannedRequest {
  return {
    method: 'POST',
    path: `/v1/users/${encodeURIComponent(uid)}/copies`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${harness.ctx.token(uid)}` },
    body: COPY_BODY,
  };
}

/** Each of `who` gets a live call to the called party presenting something. */
async function callsPresenting(services: Services, who: Identity[]): Promise<void> {
  for (let i = 0; i < who.length; i += SETUP_CONCURRENCY) await Promise.all(who.slice(i, i + SETUP_CONCURRENCY).map((caller) => callPresenting(services, caller)));
  await services.calls.drain();
}

/**
 * The Redis traffic of one REST online copy, from the request to its answer (the outbox relayed):
 * `who` copy one after another, counted on the service's connection with the recoverer and the
 * sweeper paused, so nothing else is counted.
 */
async function restCopyCost(harness: SipHarness, address: string, who: Identity[]): Promise<PerCopy> {
  const { services } = harness.ctx;
  await callsPresenting(services, who);
  await Promise.all([services.recoverer.stop(), services.management.sweeper.stop()]);
  const traffic = new RedisTraffic(services.redis);
  try {
    const start = traffic.snapshot();
    for (const uid of who) {
      const { method, path: route, headers, body } = copyRequest(harness, uid);
      const response = await fetch(`${address}${route}`, { method, headers, body: body ?? null });
      if (response.status !== 201) throw new Error(`REST copy by ${uid} answered ${response.status}: ${await response.text()}`);
    }
    const total = traffic.since(start);
    const per = (n: number) => round(n / who.length, 2);
    return { copies: who.length, roundTrips: per(total.roundTrips), commands: per(total.commands), bytesOut: round(total.bytesOut / who.length), bytesIn: round(total.bytesIn / who.length) };
  } finally {
    traffic.stop();
    services.recoverer.start();
    services.management.sweeper.start();
  }
}

/** Each of `who` has a live call to the called party, then copies from it over REST once. */
async function restCopies(harness: SipHarness, address: string, who: Identity[], connections: number): Promise<CopyModeFigures['rest']> {
  const { services } = harness.ctx;
  await callsPresenting(services, who);
  const restCopies = async () => Object.entries(await copyCounts(services.metrics)).reduce((sum, [key, count]) => (key.startsWith('rest/') ? sum + count : sum), 0);
  const cpu = process.threadCpuUsage();
  const result = await httpLoad({
    url: address,
    connections,
    completions: restCopies,
    requests: who.map((uid) => copyRequest(harness, uid)),
  });
  const used = process.threadCpuUsage(cpu);
  return { ...result, serverCpuMsPerCopy: result.ok > 0 ? round((used.user + used.system) / 1000 / result.ok, 3) : 0 };
}
