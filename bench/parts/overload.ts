/**
 * Part 7, overload: calls offered at 2× and 3× the front's sustained rate, through the embedded
 * front with CMR (and its load shedding on the event loop's real lag) and through a null
 * record-routing proxy on the same `sip` package (the same front with CMR switched off and
 * nothing shed), in the same run, alternating which goes first. The figure is the share of the
 * offered calls each completes; the goal is CMR completing at least 90 % of what the null proxy
 * completes at each rate. The sustained rate is the calls part's, when it ran in this run, else
 * `--overload-base`.
 */
import { passThroughCopy } from '../../src/copy/pass-through-copy.js';
import { unannotatedCalls } from '../../src/calls/unannotated-calls.js';
import { EventLoopLoad } from '../../src/overload/load-shedder.js';
import { startSipHarness } from '../../test/support/sip/harness.js';
import { BENCH_CALLED, seedCalledParty, seedCatalogFor } from '../bench-data.js';
import type { BenchOptions } from '../options.js';
import { benchEnv, type Progress } from '../run.js';
import type { LoadResult } from '../sipp-load.js';
import { round } from '../stats.js';
import { cmrStep, frontStep, LIBRARY_SIZE, stepSummary, type CmrStep, type FrontStep } from './calls.js';
import { untilQuiet } from './load-figures.js';

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

export interface OverloadFigures {
  /** The sustained rate the factors multiply, and where it came from. */
  baseCps: number;
  baseFrom: 'calls part' | 'option';
  steps: OverloadStep[];
}

export async function benchOverload(options: BenchOptions, progress: Progress, sustainedCps: number | null): Promise<OverloadFigures> {
  const baseCps = sustainedCps ?? options.overloadBaseCps;
  // The product's own shedding, on the event loop's real lag (test contexts otherwise see none).
  const cmr = await startSipHarness({ env: benchEnv(options), services: { loadSignal: new EventLoopLoad() } });
  const nullProxy = await startSipHarness({ env: benchEnv(options), ports: () => ({ calls: unannotatedCalls, copy: passThroughCopy }) });
  try {
    await seedCatalogFor(cmr.ctx.services, LIBRARY_SIZE);
    await seedCalledParty(cmr.ctx.services, BENCH_CALLED, LIBRARY_SIZE);
    const steps: OverloadStep[] = [];
    for (const [index, factor] of OVERLOAD_FACTORS.entries()) {
      const rate = baseCps * factor;
      const order = index % 2 === 0 ? (['cmr', 'null'] as const) : (['null', 'cmr'] as const);
      const results: Partial<{ cmr: CmrStep; nullProxy: FrontStep }> = {};
      for (const variant of order) {
        if (variant === 'cmr') results.cmr = await cmrStep(cmr, rate, options.stepSec);
        else results.nullProxy = await frontStep(nullProxy, rate, options.stepSec);
        const step = variant === 'cmr' ? results.cmr! : results.nullProxy!;
        progress(`overload ${factor}× (${rate}/s) ${variant === 'cmr' ? 'cmr' : 'null proxy'}: ${stepSummary(step)}${variant === 'cmr' ? `, selections ${JSON.stringify(results.cmr!.selections)}` : ''}`);
        await untilQuiet([cmr.ctx.services.metrics, nullProxy.ctx.services.metrics]);
      }
      steps.push({ factor, targetCps: rate, cmr: results.cmr!, nullProxy: results.nullProxy!, ratio: completedRatio(results.cmr!, results.nullProxy!) });
    }
    return { baseCps, baseFrom: sustainedCps === null ? 'option' : 'calls part', steps };
  } finally {
    await cmr.close(); // stops its load signal too
    await nullProxy.close();
  }
}

function completedRatio(cmr: LoadResult, nullProxy: LoadResult): number | null {
  return nullProxy.successful === 0 ? null : round(cmr.successful / nullProxy.successful, 3);
}
