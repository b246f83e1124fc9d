/**
 * Part 1, calls: sipp caller → embedded front → sipp called UA, full INVITE/180/200/ACK/BYE
 * calls to a called party with rules, a 50-entry library and a box, at each rate step; the
 * same steps through the same front with CMR selection switched off (unannotated calls and
 * pass-through INFO: a plain record-routing proxy) as the baseline, in the same run. The two
 * alternate which goes first at each step, so neither always runs behind the other's leftovers.
 */
import path from 'node:path';
import { passThroughCopy } from '../../src/copy/pass-through-copy.js';
import { unannotatedCalls } from '../../src/calls/unannotated-calls.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../../test/support/sip/harness.js';
import { SCENARIOS } from '../../test/support/sip/sipp.js';
import { freePort } from '../../test/support/sip/sockets.js';
import { BENCH_CALLED, BENCH_CALLER, seedCalledParty, seedCatalogFor } from '../bench-data.js';
import { BENCH_DIR, type BenchOptions } from '../options.js';
import { runLoadStep, type LoadResult } from '../sipp-load.js';
import { benchEnv, type Progress } from '../run.js';
import { round } from '../stats.js';
import { delta, selectionCounts, sustainedRate, untilQuiet, type Sustained } from './load-figures.js';

export const LIBRARY_SIZE = 50;
/** The rate at which the issue sets the latency goal. */
export const LATENCY_GOAL_CPS = 200;

export interface FrontStep extends LoadResult {
  /** CPU time of the server process (user + system) during the step, per call placed. */
  serverCpuMsPerCall: number;
}

export interface CmrStep extends FrontStep {
  /** Selections during the step by result (annotated, empty, fail-open-…). */
  selections: Record<string, number>;
}

export interface CallStepFigures {
  targetCps: number;
  cmr: CmrStep;
  baseline: FrontStep;
  /** CMR minus baseline, INVITE→180, ms. */
  addedMs: { p50: number | null; p99: number | null };
}

export interface CallFigures {
  libraryEntries: number;
  steps: CallStepFigures[];
  cmr: Sustained;
  baseline: Sustained;
  /** CMR's highest sustained rate over the baseline's (null when the baseline sustained none). */
  ratio: number | null;
}

export async function benchCalls(options: BenchOptions, progress: Progress): Promise<CallFigures> {
  const cmr = await startSipHarness({ env: benchEnv(options) });
  const baseline = await startSipHarness({ env: benchEnv(options), ports: () => ({ calls: unannotatedCalls, copy: passThroughCopy }) });
  try {
    await seedCatalogFor(cmr.ctx.services, LIBRARY_SIZE);
    await seedCalledParty(cmr.ctx.services, BENCH_CALLED, LIBRARY_SIZE);
    const steps: CallStepFigures[] = [];
    for (const [index, rate] of options.callSteps.entries()) {
      const order = index % 2 === 0 ? (['cmr', 'baseline'] as const) : (['baseline', 'cmr'] as const);
      const results: Partial<{ cmr: CmrStep; baseline: FrontStep }> = {};
      for (const variant of order) {
        if (variant === 'cmr') results.cmr = await cmrStep(cmr, rate, options.stepSec);
        else results.baseline = await frontStep(baseline, rate, options.stepSec);
        progress(`calls ${variant} ${rate}/s: ${stepSummary(variant === 'cmr' ? results.cmr! : results.baseline!)}`);
        await untilQuiet([cmr.ctx.services.metrics, baseline.ctx.services.metrics]);
      }
      const added = (p: 'p50' | 'p99') => {
        const [a, b] = [results.cmr!.responseTimes['1']?.[p], results.baseline!.responseTimes['1']?.[p]];
        return a === undefined || b === undefined ? null : a - b;
      };
      steps.push({ targetCps: rate, cmr: results.cmr!, baseline: results.baseline!, addedMs: { p50: added('p50'), p99: added('p99') } });
    }
    const cmrSustained = sustainedRate(steps.map((s) => s.cmr));
    const baselineSustained = sustainedRate(steps.map((s) => s.baseline));
    return {
      libraryEntries: LIBRARY_SIZE,
      steps,
      cmr: cmrSustained,
      baseline: baselineSustained,
      ratio: cmrSustained.targetCps && baselineSustained.targetCps ? cmrSustained.targetCps / baselineSustained.targetCps : null,
    };
  } finally {
    await cmr.close();
    await baseline.close();
  }
}

/** One step through the front with CMR: sipp's figures, the server's CPU per call and its selections by result. */
export async function cmrStep(harness: SipHarness, rate: number, seconds: number): Promise<CmrStep> {
  const before = await selectionCounts(harness.ctx.services.metrics);
  const step = await frontStep(harness, rate, seconds);
  await harness.ctx.services.calls.drain();
  return { ...step, selections: delta(before, await selectionCounts(harness.ctx.services.metrics)) };
}

/** One step through a front: sipp's figures and the server's CPU per call. */
export async function frontStep(harness: SipHarness, rate: number, seconds: number): Promise<FrontStep> {
  const cpu = process.cpuUsage();
  const result = await placeCalls(harness, rate, seconds);
  return { ...result, serverCpuMsPerCall: cpuMsPerCall(cpu, result) };
}

async function placeCalls(harness: SipHarness, rate: number, seconds: number): Promise<LoadResult> {
  const calledPort = await freePort(CALLED_IP);
  return runLoadStep({
    rate,
    calls: rate * seconds,
    server: { ip: harness.server.ip, port: harness.server.port },
    called: { scenario: path.join(SCENARIOS, 'called-answer.xml'), ip: CALLED_IP, port: calledPort },
    caller: {
      scenario: path.join(BENCH_DIR, 'scenarios', 'caller-call.xml'),
      ip: CALLER_IP,
      port: await freePort(CALLER_IP),
      keys: { caller: number(BENCH_CALLER), called: number(BENCH_CALLED), called_host: CALLED_IP, called_port: String(calledPort) },
    },
  });
}

function cpuMsPerCall(since: NodeJS.CpuUsage, result: LoadResult): number {
  const used = process.cpuUsage(since);
  return result.calls === 0 ? 0 : round((used.user + used.system) / 1000 / result.calls, 3);
}

/** `tel:+1555…` → `+1555…`, as the scenarios write numbers. */
export function number(identity: string): string {
  return identity.slice('tel:'.length);
}

export function stepSummary(result: LoadResult & { serverCpuMsPerCall?: number }): string {
  const rt = result.responseTimes['1'];
  const cpu = result.serverCpuMsPerCall === undefined ? '' : `, server CPU ${result.serverCpuMsPerCall} ms/call`;
  return `${result.successful}/${result.calls} ok, ${result.failed} failed, ${result.retransmissions} retransmissions, ${result.achievedCps ?? '-'}/s achieved, INVITE→180 p50 ${rt?.p50 ?? '-'} p99 ${rt?.p99 ?? '-'} ms${cpu}`;
}
