/**
 * Part 7, overload: calls offered at 2× and 3× the front's sustained rate, through the embedded
 * front with CMR (and its load shedding on the event loop's real lag) and through the calls
 * part's null anchor, a record-routing proxy on the bare `sip` package that sheds nothing, in
 * the same run, alternating which goes first. The figure is the share of the
 * offered calls each completes; the goal is CMR completing at least 90 % of what the null proxy
 * completes at each rate. The sustained rate is the calls part's, when it ran in this run, else
 * `--overload-base`. Then copy calls (each copying once answered) are offered at the highest
 * factor, charged online against the HTTP/2 test CHF, and the CHF's ledger is reconciled with
 * what was applied: under overload a copy may be refused (503) but never applied without a
 * charge, nor charged twice.
 */
import { EventLoopLoad } from '../../src/overload/load-shedder.js';
import type { Identity } from '../../src/domain/identity.js';
import { reconcile } from '../../test/support/charge-reconciliation.js';
import { SERVER_IP, startSipHarness } from '../../test/support/sip/harness.js';
import { NullSipProxy } from '../anchors/null-sip-proxy.js';
import { TestChf } from '../../test/support/test-chf.js';
import { callers } from '../bench-data.js';
import { copyCalls } from './copies.js';
import { BENCH_CALLED, seedCalledParty, seedCatalogFor } from '../bench-data.js';
import type { BenchOptions } from '../options.js';
import { benchEnv, type Progress } from '../run.js';
import type { LoadResult } from '../sipp-load.js';
import { round } from '../stats.js';
import { alternating, cmrStep, frontStep, LIBRARY_SIZE, stepSummary, type CmrStep, type FrontStep } from './calls.js';
import { copyCounts, delta, untilQuiet } from './load-figures.js';

/** Multiples of the sustained rate offered. */
export const OVERLOAD_FACTORS = [2, 3] as const;
/** CMR must complete at least this share of what the null proxy completes. */
export const OVERLOAD_GOAL_SHARE = 0.9;

export interface OverloadStep {
  factor: number;
  targetCps: number;
  cmr: CmrStep;
  nullProxy: FrontStep;
  /** Completed calls, CMR over the null proxy (null when the null proxy completed none). */
  ratio: number | null;
}

/** Copy calls offered at the highest factor, and the reconciliation of their charges. */
export interface OverloadCopies {
  targetCps: number;
  calls: LoadResult;
  /** `cmr_copies_total` during the step, by channel/result. */
  copies: Record<string, number>;
  /** Events the test CHF charged, library entries paid for, granted charge records. */
  charged: number;
  paidEntries: number;
  grantedRecords: number;
  /** Copies applied without a charge, charged twice, or charged and not applied (none: []). */
  problems: string[];
}

export interface OverloadFigures {
  /** The sustained rate the factors multiply, and where it came from. */
  baseCps: number;
  baseFrom: 'calls part' | 'option';
  steps: OverloadStep[];
  copies: OverloadCopies;
}

/** Balance each copying caller gets at the test CHF: far more than one copy. */
const BALANCE = 1_000_000;

export async function benchOverload(options: BenchOptions, progress: Progress, sustainedCps: number | null): Promise<OverloadFigures> {
  const baseCps = sustainedCps ?? options.overloadBaseCps;
  // The product's own shedding, on the event loop's real lag (test contexts otherwise see none).
  const chf = await TestChf.start();
  const cmr = await startSipHarness({ env: benchEnv(options, { CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: chf.url }), services: { loadSignal: new EventLoopLoad() } });
  const nullProxy = await NullSipProxy.start(SERVER_IP);
  try {
    await seedCatalogFor(cmr.ctx.services, LIBRARY_SIZE);
    await seedCalledParty(cmr.ctx.services, BENCH_CALLED, LIBRARY_SIZE);
    // As the server does once it listens: the start-up's and the seeding's work was not load.
    cmr.ctx.services.load.measureFromNow();
    const steps: OverloadStep[] = [];
    for (const [index, factor] of OVERLOAD_FACTORS.entries()) {
      const rate = baseCps * factor;
      const results: Partial<{ cmr: CmrStep; nullProxy: FrontStep }> = {};
      for (const variant of alternating(['cmr', 'null'] as const, index)) {
        if (variant === 'cmr') results.cmr = await cmrStep(cmr.ctx.services, cmr.server, rate, options.stepSec);
        else results.nullProxy = await frontStep(nullProxy, rate, options.stepSec);
        const step = variant === 'cmr' ? results.cmr! : results.nullProxy!;
        progress(`overload ${factor}× (${rate}/s) ${variant === 'cmr' ? 'cmr' : 'null proxy'}: ${stepSummary(step)}${variant === 'cmr' ? `, selections ${JSON.stringify(results.cmr!.selections)}` : ''}`);
        await untilQuiet([cmr.ctx.services.metrics, nullProxy]);
      }
      steps.push({ factor, targetCps: rate, cmr: results.cmr!, nullProxy: results.nullProxy!, ratio: completedRatio(results.cmr!, results.nullProxy!) });
    }
    const copies = await overloadCopies(cmr, chf, baseCps * Math.max(...OVERLOAD_FACTORS), options.stepSec);
    progress(`overload copies ${copies.targetCps}/s: ${stepSummary(copies.calls)}, copies ${JSON.stringify(copies.copies)}, ${copies.charged} charged, ${copies.paidEntries} applied, ${copies.problems.length} discrepancies`);
    return { baseCps, baseFrom: sustainedCps === null ? 'option' : 'calls part', steps, copies };
  } finally {
    await cmr.close(); // stops its load signal too
    nullProxy.close();
    await chf.stop();
  }
}

async function overloadCopies(cmr: Awaited<ReturnType<typeof startSipHarness>>, chf: TestChf, rate: number, stepSec: number): Promise<OverloadCopies> {
  const { services } = cmr.ctx;
  const who: Identity[] = callers(700, rate * stepSec);
  for (const uid of who) chf.setBalance(uid, BALANCE);
  const before = await copyCounts(services.metrics);
  const calls = await copyCalls(cmr, rate, who);
  await untilQuiet([services.metrics]);
  // Whatever was left to the recoverer (a CHF answer not seen in time) is settled before counting.
  while ((await services.recoverer.runOnce()) > 0);
  const copies = delta(before, await copyCounts(services.metrics));
  const { charged, paidEntries, grantedRecords, problems } = await reconcile(services, chf, who);
  return { targetCps: rate, calls, copies, charged, paidEntries, grantedRecords, problems };
}

function completedRatio(cmr: LoadResult, nullProxy: LoadResult): number | null {
  return nullProxy.successful === 0 ? null : round(cmr.successful / nullProxy.successful, 3);
}
