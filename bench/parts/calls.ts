/**
 * Part 1, calls: sipp caller → embedded front → sipp called UA, full INVITE/180/200/ACK/BYE
 * calls to a called party with rules, a 50-entry library and a box, at each rate step; the
 * same steps through the same front with CMR selection switched off (unannotated calls and
 * pass-through INFO: a plain record-routing proxy) as the baseline, and through the null
 * anchor, a record-routing proxy on the bare `sip` package (`bench/anchors/null-sip-proxy.ts`),
 * in the same run and the same process (CPU per call is that process's). The three take turns
 * going first and last, step by step, so none always runs behind another's leftovers.
 */
import path from 'node:path';
import { passThroughCopy } from '../../src/copy/pass-through-copy.js';
import { unannotatedCalls } from '../../src/calls/unannotated-calls.js';
import type { Services } from '../../src/wiring.js';
import { CALLED_IP, CALLER_IP, SERVER_IP, startSipHarness } from '../../test/support/sip/harness.js';
import { SCENARIOS } from '../../test/support/sip/sipp.js';
import { freePort } from '../../test/support/sip/sockets.js';
import { NullSipProxy } from '../anchors/null-sip-proxy.js';
import { BENCH_CALLED, BENCH_CALLER, seedCalledParty, seedCatalogFor } from '../bench-data.js';
import { BENCH_DIR, type BenchOptions } from '../options.js';
import { runLoadStep, type LoadResult } from '../sipp-load.js';
import { benchEnv, type Progress } from '../run.js';
import { round } from '../stats.js';
import { delta, selectionCounts, sustainedRate, untilQuiet, type Sustained } from './load-figures.js';

export const LIBRARY_SIZE = 50;
/** The rate at which the issue sets the latency goal. */
export const LATENCY_GOAL_CPS = 200;

/** Where the sipp callers send: the front, or the scripted drachtio peer in front of the app. */
export interface SipTarget {
  ip: string;
  port: number;
}

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
  nullProxy: FrontStep;
  /** CMR minus baseline, INVITE→180, ms. */
  addedMs: { p50: number | null; p99: number | null };
}

export interface CallFigures {
  libraryEntries: number;
  steps: CallStepFigures[];
  cmr: Sustained;
  baseline: Sustained;
  nullProxy: Sustained;
  /** CMR's highest sustained rate over the baseline's (null when the baseline sustained none). */
  ratio: number | null;
  /** CMR's highest sustained rate over the null proxy's (null when the null proxy sustained none). */
  nullRatio: number | null;
}

type Variant = 'cmr' | 'baseline' | 'nullProxy';
const VARIANTS: readonly Variant[] = ['cmr', 'baseline', 'nullProxy'];

export async function benchCalls(options: BenchOptions, progress: Progress): Promise<CallFigures> {
  const cmr = await startSipHarness({ env: benchEnv(options) });
  const baseline = await startSipHarness({ env: benchEnv(options), ports: () => ({ calls: unannotatedCalls, copy: passThroughCopy }) });
  const nullProxy = await NullSipProxy.start(SERVER_IP);
  try {
    await seedCatalogFor(cmr.ctx.services, LIBRARY_SIZE);
    await seedCalledParty(cmr.ctx.services, BENCH_CALLED, LIBRARY_SIZE);
    const steps: CallStepFigures[] = [];
    for (const [index, rate] of options.callSteps.entries()) {
      const results: Partial<{ cmr: CmrStep; baseline: FrontStep; nullProxy: FrontStep }> = {};
      for (const variant of alternating(VARIANTS, index)) {
        if (variant === 'cmr') results.cmr = await cmrStep(cmr.ctx.services, cmr.server, rate, options.stepSec);
        else results[variant] = await frontStep(variant === 'baseline' ? baseline.server : nullProxy, rate, options.stepSec);
        progress(`calls ${variant} ${rate}/s: ${stepSummary(results[variant]!)}`);
        await untilQuiet([cmr.ctx.services.metrics, baseline.ctx.services.metrics, nullProxy]);
      }
      const { cmr: cmrResult, baseline: baselineResult, nullProxy: nullResult } = results as Required<typeof results>;
      steps.push({ targetCps: rate, cmr: cmrResult, baseline: baselineResult, nullProxy: nullResult, addedMs: addedLatency(cmrResult, baselineResult) });
    }
    const sustained = (variant: Variant) => sustainedRate(steps.map((s) => s[variant]));
    const [cmrSustained, baselineSustained, nullSustained] = VARIANTS.map(sustained) as [Sustained, Sustained, Sustained];
    return {
      libraryEntries: LIBRARY_SIZE,
      steps,
      cmr: cmrSustained,
      baseline: baselineSustained,
      nullProxy: nullSustained,
      ratio: sustainedRatio(cmrSustained, baselineSustained),
      nullRatio: sustainedRatio(cmrSustained, nullSustained),
    };
  } finally {
    await cmr.close();
    await baseline.close();
    nullProxy.close();
  }
}

/** The variants in order at step `index`: as given on even steps, reversed on odd ones. */
export function alternating<T>(variants: readonly T[], index: number): T[] {
  return index % 2 === 0 ? [...variants] : [...variants].reverse();
}

/** INVITE→180 of `a` minus `b`, ms. */
export function addedLatency(a: LoadResult, b: LoadResult): { p50: number | null; p99: number | null } {
  const added = (p: 'p50' | 'p99') => {
    const [x, y] = [a.responseTimes['1']?.[p], b.responseTimes['1']?.[p]];
    return x === undefined || y === undefined ? null : x - y;
  };
  return { p50: added('p50'), p99: added('p99') };
}

/** One highest sustained rate over another (null when the other sustained none). */
export function sustainedRatio(a: Sustained, b: Sustained): number | null {
  return a.targetCps && b.targetCps ? a.targetCps / b.targetCps : null;
}

/** One step through a front with CMR: sipp's figures, the server's CPU per call and its selections by result. */
export async function cmrStep(services: Services, target: SipTarget, rate: number, seconds: number): Promise<CmrStep> {
  const before = await selectionCounts(services.metrics);
  const step = await frontStep(target, rate, seconds);
  await services.calls.drain();
  return { ...step, selections: delta(before, await selectionCounts(services.metrics)) };
}

/** One step through a front: sipp's figures and the CPU time of this process (where the front runs) per call. */
export async function frontStep(target: SipTarget, rate: number, seconds: number): Promise<FrontStep> {
  return withServerCpu(() => placeCalls(target, rate, seconds));
}

/** A load step's figures and the CPU time this process (where the front runs) spent per call during it. */
export async function withServerCpu<R extends LoadResult>(step: () => Promise<R>): Promise<R & { serverCpuMsPerCall: number }> {
  const cpu = process.cpuUsage();
  const result = await step();
  const used = process.cpuUsage(cpu);
  return { ...result, serverCpuMsPerCall: msPerCall((used.user + used.system) / 1000, result) };
}

async function placeCalls(target: SipTarget, rate: number, seconds: number): Promise<LoadResult> {
  const calledPort = await freePort(CALLED_IP);
  return runLoadStep({
    rate,
    calls: rate * seconds,
    server: { ip: target.ip, port: target.port },
    called: { scenario: path.join(SCENARIOS, 'called-answer.xml'), ip: CALLED_IP, port: calledPort },
    caller: {
      scenario: path.join(BENCH_DIR, 'scenarios', 'caller-call.xml'),
      ip: CALLER_IP,
      port: await freePort(CALLER_IP),
      keys: { caller: number(BENCH_CALLER), called: number(BENCH_CALLED), called_host: CALLED_IP, called_port: String(calledPort) },
    },
  });
}

/** CPU time over the calls placed, ms (0 when none was). */
export function msPerCall(cpuMs: number, result: LoadResult): number {
  return result.calls === 0 ? 0 : round(cpuMs / result.calls, 3);
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
