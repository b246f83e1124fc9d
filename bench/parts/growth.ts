/**
 * Part 4, memory and cost growth, in-process against the run's Redis (one `bench-…` namespace,
 * deleted at the end), with background charging work off so only the measured work talks to Redis:
 * - Redis bytes per presenting session and per library entry: `MEMORY USAGE … SAMPLES 0` (exact)
 *   summed over every key written, divided by the sessions or entries written through the stores;
 *   sessions also with their entries in both parties' call indexes;
 * - Redis round trips (and commands) per call: a call driven through the call service as a front
 *   drives it (started, answered, ended), counted on the service's own connection (`RedisTraffic`);
 * - selection time and round trips as the called party's library grows, with the parties' data
 *   kept between calls (as configured by default) and, beside it in the same run, read on every
 *   call (`CMR_SELECT_CACHED_USERS=0`, a second server on the same namespace).
 */
import { ulid } from 'ulid';
import type { Identity } from '../../src/domain/identity.js';
import type { LibraryEntry } from '../../src/domain/types.js';
import { SessionStore, type StoredSession } from '../../src/presentation/session-store.js';
import type { Services } from '../../src/wiring.js';
import { createTestContext } from '../../test/support/context.js';
import { BENCH_CALLED, BENCH_CALLER, callers, resourceId, seedCalledParty, seedCatalogFor } from '../bench-data.js';
import type { BenchOptions } from '../options.js';
import { RedisTraffic, type TrafficCounts } from '../redis-traffic.js';
import { benchEnv, type Progress } from '../run.js';
import { percentiles, round, type Percentiles } from '../stats.js';
import { LIBRARY_SIZE } from './calls.js';

export interface MemoryFigures {
  sessions: number;
  /** The session record itself (one string per Call-ID). */
  bytesPerSession: number;
  /** With the session's entries in the caller's and the called party's call indexes. */
  bytesPerSessionWithIndexes: number;
  libraryEntries: number;
  bytesPerLibraryEntry: number;
}

export interface PerCall {
  calls: number;
  /** Averages per call: started (selection and the session write), answered, ended. */
  roundTrips: number;
  commands: number;
  bytesOut: number;
  bytesIn: number;
  /**
   * Of those, the ones sent by the time `callStarted` answers: the selection's reads, which the
   * front waits for, and the session write, sent as the answer goes out (the front does not wait).
   */
  startRoundTrips: number;
}

export interface LibraryGrowth {
  entries: number;
  selections: number;
  /** `callStarted` until it answers, ms. */
  ms: Percentiles | null;
  /** Sent by the time it answers: the selection's reads and the session write (see `PerCall`). */
  roundTrips: number;
  commands: number;
  bytesIn: number;
}

export interface GrowthFigures {
  memory: MemoryFigures;
  perCall: PerCall;
  /** With the parties' data kept between calls. */
  library: LibraryGrowth[];
  /** The same selections with the data read on every call. */
  libraryReadEveryCall: LibraryGrowth[];
}

/** Called parties the memory sessions are spread over (each caller calls once). */
const CALLED_PARTIES = 100;
/** Library entries per user for the memory figure (the benchmark's library size). */
const ENTRIES_PER_USER = LIBRARY_SIZE;
const BATCH = 200;
/** Untimed selections first, so the timed ones run warm. */
const WARM_UP = 10;

export async function benchGrowth(options: BenchOptions, progress: Progress): Promise<GrowthFigures> {
  const ctx = await createTestContext({
    // A selection is timed to its end: no fail-open budget cuts it short.
    env: benchEnv(options, { CMR_SELECT_BUDGET_MS: '10000' }),
    services: { charging: { background: false } },
  });
  const readEveryCall = await createTestContext({
    env: benchEnv(options, { CMR_SELECT_BUDGET_MS: '10000', CMR_SELECT_CACHED_USERS: '0', CMR_REDIS_NAMESPACE: ctx.config.redis.namespace }),
    services: { charging: { background: false } },
  });
  try {
    const { services } = ctx;
    await seedCatalogFor(services, Math.max(LIBRARY_SIZE, ...options.librarySizes));
    const memory = { ...(await sessionMemory(services, options.memorySamples)), ...(await libraryMemory(services, options.memorySamples)) };
    progress(`memory: ${memory.bytesPerSession} B per presenting session (${memory.bytesPerSessionWithIndexes} B with call indexes), ${memory.bytesPerLibraryEntry} B per library entry`);

    await seedCalledParty(services, BENCH_CALLED, LIBRARY_SIZE);
    const traffic = new RedisTraffic(services.redis);
    const trafficReadEveryCall = new RedisTraffic(readEveryCall.services.redis);
    try {
      const perCall = await callCost(services, traffic, options.costCalls);
      progress(`per call: ${perCall.roundTrips} round trips (${perCall.startRoundTrips} at call start), ${perCall.commands} commands`);
      const library: LibraryGrowth[] = [];
      const libraryReadEveryCall: LibraryGrowth[] = [];
      for (const entries of options.librarySizes) {
        await seedCalledParty(services, growthOwner(entries), entries);
        for (const [kept, list, server, counter] of [
          [true, library, services, traffic],
          [false, libraryReadEveryCall, readEveryCall.services, trafficReadEveryCall],
        ] as const) {
          const growth = await selectionWithLibrary(server, counter, entries, options.selections);
          list.push(growth);
          progress(`selection with ${entries} entries, data ${kept ? 'kept' : 'read every call'}: p50 ${growth.ms?.p50} p99 ${growth.ms?.p99} ms, ${growth.roundTrips} round trips, ${growth.bytesIn} B read`);
        }
      }
      return { memory, perCall, library, libraryReadEveryCall };
    } finally {
      traffic.stop();
      trafficReadEveryCall.stop();
    }
  } finally {
    await readEveryCall.close();
    await ctx.close();
  }
}

async function sessionMemory(services: Services, count: number): Promise<Pick<MemoryFigures, 'sessions' | 'bytesPerSession' | 'bytesPerSessionWithIndexes'>> {
  const store = new SessionStore(services.redis, services.keys, services.config.sessions);
  const who = callers(900, count);
  const called = callers(901, CALLED_PARTIES);
  const startedAt = Date.now();
  const sessions: StoredSession[] = who.map((caller, i) => ({
    // A Call-ID as IMS user agents write them.
    callId: `${ulid().toLowerCase()}-${i}@ims.example.net`,
    fromTag: Math.random().toString(36).slice(2, 12),
    caller,
    called: called[i % called.length]!,
    toCaller: [resourceId(3)],
    toCalled: [],
    state: 'early',
    startedAt,
  }));
  await inBatches(sessions, (s) => store.create(s));
  // Measured as a live call: answered.
  await inBatches(sessions, (s) => store.transition(s.callId, 'confirmed', startedAt + 4000));
  const sessionBytes = await memoryUsage(services, sessions.map((s) => services.keys.callSession(s.callId)));
  const indexBytes = await memoryUsage(services, [...who, ...called].map((uid) => services.keys.user(uid).calls));
  return { sessions: count, bytesPerSession: round(sessionBytes / count), bytesPerSessionWithIndexes: round((sessionBytes + indexBytes) / count) };
}

async function libraryMemory(services: Services, count: number): Promise<Pick<MemoryFigures, 'libraryEntries' | 'bytesPerLibraryEntry'>> {
  const owners = callers(902, Math.ceil(count / ENTRIES_PER_USER));
  const acquiredAt = new Date();
  const entries = Array.from({ length: count }, (_, i): { owner: Identity; entry: LibraryEntry } => {
    const chargeId = `ch-${ulid()}`;
    return {
      owner: owners[Math.floor(i / ENTRIES_PER_USER)]!,
      // As a copy writes them (the longest kind: with `from` and the charge).
      entry: {
        id: `le-${chargeId.slice(3)}-1`,
        resourceId: resourceId((i % LIBRARY_SIZE) + 1),
        origin: 'copy-online',
        from: BENCH_CALLED,
        acquiredAt: acquiredAt.toISOString(),
        expiresAt: new Date(acquiredAt.getTime() + 30 * 86_400_000).toISOString(),
        autoRenew: false,
        status: 'active',
        chargeId,
      },
    };
  });
  await inBatches(entries, ({ owner, entry }) => services.users.library(owner).put(entry));
  const bytes = await memoryUsage(services, owners.map((uid) => services.keys.user(uid).library));
  return { libraryEntries: count, bytesPerLibraryEntry: round(bytes / count) };
}

/** One call as a front drives it, `calls` times, counted on the service's connection. */
async function callCost(services: Services, traffic: RedisTraffic, calls: number): Promise<PerCall> {
  let startRoundTrips = 0;
  const start = traffic.snapshot();
  for (let i = 0; i < calls; i++) {
    const callId = `bench-cost-${i}-${Date.now()}@127.0.0.1`;
    const before = traffic.snapshot();
    await services.calls.callStarted({ callId, fromTag: `cost-${i}`, caller: BENCH_CALLER, called: BENCH_CALLED });
    startRoundTrips += traffic.since(before).roundTrips;
    await services.calls.callAnswered(callId);
    await services.calls.callEnded(callId, 'bye');
    await services.calls.drain();
  }
  const total = traffic.since(start);
  const per = (n: number) => round(n / calls, 2);
  return {
    calls,
    roundTrips: per(total.roundTrips),
    commands: per(total.commands),
    bytesOut: round(total.bytesOut / calls),
    bytesIn: round(total.bytesIn / calls),
    startRoundTrips: per(startRoundTrips),
  };
}

const growthOwner = (entries: number) => `tel:+15557${String(entries).padStart(6, '0')}` as Identity;

/** `callStarted` to a called party holding `entries` library entries: time and traffic until it answers. */
async function selectionWithLibrary(services: Services, traffic: RedisTraffic, entries: number, selections: number): Promise<LibraryGrowth> {
  const owner = growthOwner(entries);
  const times: number[] = [];
  const counted: TrafficCounts = { roundTrips: 0, commands: 0, bytesOut: 0, bytesIn: 0 };
  for (let i = 0; i < WARM_UP + selections; i++) {
    const before = traffic.snapshot();
    const started = performance.now();
    await services.calls.callStarted({ callId: `bench-growth-${entries}-${i}-${Date.now()}@127.0.0.1`, fromTag: `g-${i}`, caller: BENCH_CALLER, called: owner });
    const ms = performance.now() - started;
    const used = traffic.since(before);
    // The session write runs after the answer: let it finish outside the measure.
    await services.calls.drain();
    if (i < WARM_UP) continue;
    times.push(round(ms, 3));
    counted.roundTrips += used.roundTrips;
    counted.commands += used.commands;
    counted.bytesIn += used.bytesIn;
  }
  const p = percentiles(times);
  return {
    entries,
    selections,
    ms: p && { count: p.count, p50: round(p.p50, 2), p99: round(p.p99, 2), max: round(p.max, 2) },
    roundTrips: round(counted.roundTrips / selections, 2),
    commands: round(counted.commands / selections, 2),
    bytesIn: round(counted.bytesIn / selections),
  };
}

/** Sum of `MEMORY USAGE key SAMPLES 0` (every element counted) over `keys`. */
async function memoryUsage(services: Services, keys: string[]): Promise<number> {
  let total = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const replies = await services.redis.pipeline(keys.slice(i, i + 1000).map((key) => ['memory', 'usage', key, 'samples', '0'])).exec();
    for (const [err, bytes] of replies ?? []) {
      if (err) throw err;
      total += Number(bytes ?? 0);
    }
  }
  return total;
}

async function inBatches<T>(items: readonly T[], write: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += BATCH) await Promise.all(items.slice(i, i + BATCH).map(write));
}
