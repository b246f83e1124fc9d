/**
 * Property-based fuzzing of every operation of the REST API, derived from its own OpenAPI
 * document (`/openapi.json`): path and query parameters, headers and bodies built from the
 * operation's schemas and bent (fields replaced, dropped, added; bodies that are not JSON), sent
 * as the SP, as users, without a token or with a bad one. Never a 5xx; every status is one the
 * document gives the operation; a 4xx is problem JSON with a stable code and changes nothing in the
 * store (keys and values compared before and after).
 * Two traces of a refusal are allowed, as the product keeps them on purpose: the request's own
 * Idempotency-Key keeps its answer (a repeat must get it again), and a refused copy is recorded
 * in the activity feeds for the portal, as denied — never as a success.
 *
 * Runs per operation: FUZZ_RUNS (default 25); seed: FUZZ_SEED (default fixed, so CI repeats).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import { isWebPageUrl } from '../../src/http/plugins/web-pages.js';
import { createTestContext, type TestContext, withForgedSignature } from '../support/context.js';
import { seedCopyCatalog } from '../support/copy-fixtures.js';
import { RequestArbitraries, operationsOf, type FuzzRequest, type KnownValues, type OpenApiDocument, type Operation } from '../support/openapi-fuzz.js';
import { box, entry, preferences, rule, seedUser } from '../support/presentation-fixtures.js';
import { changesBetween, snapshotOf, type StoreSnapshot } from '../support/store-snapshot.js';
import { recordTrial, tally } from '../support/trial-summary.js';

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 25);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_240_611);
const alice = 'tel:+15551230001' as Identity;
const bob = 'tel:+15551230002' as Identity;

const statuses: number[] = [];

// Built at collection time: the operations to fuzz are read from the app's own document.
const ctx: TestContext = await createTestContext({
  // Background work (sweeper, recoverer) would change the store between two snapshots.
  env: { CMR_HTTP_RATE_LIMIT: '1000000', CMR_HTTP_RATE_LIMIT_ANONYMOUS: '1000000' },
  services: { charging: { background: false }, management: { background: false } },
});
const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApiDocument>();
const operations: Operation[] = operationsOf(doc);
const nameOf = (op: Pick<Operation, 'method' | 'path'>) => `${op.method} ${op.path}`;
let arbitraries: RequestArbitraries;

beforeAll(async () => {
  const { services } = ctx;
  await seedCopyCatalog(services);
  await services.catalogBoxes.put(box('b-chill', ['r-song', 'r-tune'], { price: 450, currency: 'EUR', validityDays: 7 }));
  await seedUser(services, alice, {
    preferences: preferences({ default: { resourceId: 'r-song' }, rules: [rule('ru-1', { resourceId: 'r-tune' }, { conditions: { callers: [bob] } })], filters: [{ id: 'fi-1', ratings: ['mature'] }] }),
    library: [entry('r-song'), entry('r-tune', { autoRenew: true })],
    boxes: [box('pb-1', ['r-song'])],
  });
  await seedUser(services, bob, { library: [entry('r-song')] });
  await services.calls.callStarted({ callId: 'fuzz-call@test', fromTag: 'ft', caller: bob, called: alice });
  await services.calls.drain();

  const known: KnownValues = {
    uid: [alice, bob, 'sip:+15551230001@ims.example.net;user=phone'],
    id: ['r-song', 'r-tune', 'r-locked', 'acme-handset', 'retired-app'],
    entryId: ['e-r-song', 'e-r-tune'],
    boxId: ['b-chill', 'pb-1'],
    ruleId: ['ru-1'],
    filterId: ['fi-1'],
    callId: ['fuzz-call@test'],
    resourceId: ['r-song', 'r-tune', 'r-locked', 'r-dollar'],
    resourceIds: ['r-song', 'r-tune'],
    to: [bob, alice],
    from: [bob, alice],
    peer: [bob, alice],
    caller: [bob, alice],
    callers: [bob],
  };
  // Mostly requests that pass authentication, so the fuzzing reaches validation and the handlers.
  arbitraries = new RequestArbitraries(doc, known, [
    { authorization: ctx.sp.authorization, weight: 4 },
    { authorization: ctx.as(alice).authorization, weight: 4 },
    { authorization: ctx.as(bob).authorization, weight: 1 },
    { authorization: null, weight: 1 },
    { authorization: `Bearer ${withForgedSignature(ctx.token(alice, 'sp'))}`, weight: 1 },
  ]);
}, 60_000);
afterAll(async () => {
  recordTrial({
    test: 'REST fuzzing from the OpenAPI document',
    tried: { operations: operations.length, 'runs per operation': RUNS, requests: statuses.length, seed: SEED },
    outcomes: { ...tally(statuses.map((s) => `${Math.floor(s / 100)}xx`)), ...tally(statuses.filter((s) => s >= 400).map(String)) },
  });
  await ctx.close();
});

/** The activity feeds: a refused copy is recorded there for the portal (as denied), like any attempt. */
const FEEDS = /:\{activity\}:stream$|:activities$|:\{activity\}:seen:/;

/** Activity records added to the global feed between two snapshots. */
function recordsAdded(before: StoreSnapshot, after: StoreSnapshot): Array<{ result: string; kind: string }> {
  const entries = (snapshot: StoreSnapshot) => {
    const value = [...snapshot].find(([key]) => key.endsWith(':{activity}:stream'))?.[1];
    return value ? (JSON.parse(value.slice('stream '.length)) as Array<[string, string[]]>) : [];
  };
  const seen = new Set(entries(before).map(([id]) => id));
  return entries(after)
    .filter(([id]) => !seen.has(id))
    .map(([, fields]) => JSON.parse(fields[fields.indexOf('record') + 1]!) as { result: string; kind: string });
}

/** What changed in the store that a refused request may not change. */
async function refusedChanges(request: FuzzRequest, before: StoreSnapshot): Promise<string[]> {
  const after = await snapshotOf(ctx.services.redis, ctx.config.redis.namespace);
  // What a refusal may leave is a record of itself, never of a success.
  for (const record of recordsAdded(before, after)) expect(record, JSON.stringify(record)).toMatchObject({ result: expect.not.stringMatching(/^success$/) });
  return changesBetween(before, after).filter(
    (change) =>
      !FEEDS.test(change) &&
      // A refusal is the idempotency key's answer: a repeat of the request must get it again.
      !(request.idempotencyKey !== undefined && /:idem:/.test(change)),
  );
}

describe('REST API fuzzing', () => {
  it('documents every route the app serves, so every route is fuzzed', () => {
    // The documentation and the browser pages are pages, not operations of the API.
    const documentation = /^\/($|docs|openapi\.json)/;
    const served = ctx.app.routeTable.filter((r) => !documentation.test(r.url) && !isWebPageUrl(r.url)).map((r) => nameOf({ method: r.method, path: r.url.replace(/:(\w+)/g, '{$1}') }));
    expect(operations.map(nameOf).sort()).toEqual([...new Set(served)].sort());
    expect(operations.length).toBeGreaterThan(40);
  });

  it.each(operations.map(nameOf))('%s: never 5xx; a 4xx is problem JSON and changes nothing', async (name) => {
    const op = operations.find((o) => nameOf(o) === name)!;
    await fc.assert(
      fc.asyncProperty(arbitraries.requests(op), async (request) => {
        const before = await snapshotOf(ctx.services.redis, ctx.config.redis.namespace);
        const res = await ctx.app.inject({ method: request.method, url: request.url, headers: request.headers, ...(request.payload !== undefined ? { payload: request.payload } : {}) });
        statuses.push(res.statusCode);
        expect(res.statusCode, `${request.method} ${request.url}: ${res.body}`).toBeLessThan(500);
        // Every answer the server gives is in the document, with its status.
        expect(op.statuses, `${request.method} ${request.url} → ${res.statusCode} ${res.body}`).toContain(res.statusCode);
        if (res.statusCode >= 400) {
          expect(res.headers['content-type'], res.body).toMatch(/^application\/problem\+json/);
          expect(res.json(), res.body).toMatchObject({ status: res.statusCode, code: expect.any(String) });
          expect((await refusedChanges(request, before)).join("\n"), `${request.method} ${request.url} → ${res.statusCode} ${res.body}`).toBe("");
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  });
});
