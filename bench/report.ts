/**
 * The figures of a run (the JSON written), the goals of the issue judged against them, and the
 * one table printed (Markdown, so the README's Performance section can quote it as it is).
 */
import type { MachineFacts } from './machine.js';
import type { CallFigures, CallStepFigures } from './parts/calls.js';
import { LATENCY_GOAL_CPS } from './parts/calls.js';
import type { CopyFigures, CopyModeFigures, SipCopyStep } from './parts/copies.js';
import type { GrowthFigures } from './parts/growth.js';
import type { Sustained } from './parts/load-figures.js';
import type { ManagementFigures } from './parts/management.js';
import type { MediaFigures, MediaVariantFigures } from './parts/media.js';
import type { LoadResult } from './sipp-load.js';
import { round } from './stats.js';

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  smoke: boolean;
  machine: MachineFacts;
  options: Record<string, unknown>;
  calls?: CallFigures;
  copies?: CopyFigures;
  management?: ManagementFigures;
  growth?: GrowthFigures;
  media?: MediaFigures;
  goals?: Goal[];
}

export interface Goal {
  goal: string;
  figure: string;
  /** null: not measured in this run (no step at the goal's rate, or no baseline step sustained). */
  met: boolean | null;
}

const GOALS = { cps: 500, ratio: 0.8, addedP99Ms: 5, copiesPerSec: 1000, serviceRatio: 0.5, sessionBytes: 300 };

export function goalsOf(results: BenchResults): Goal[] {
  const goals: Goal[] = [];
  const { calls, copies, management, growth } = results;
  if (calls) {
    goals.push({
      goal: `calls: ≥ ${GOALS.cps} CPS sustained with zero failures`,
      figure: sustained(calls.cmr),
      met: calls.cmr.targetCps !== null && calls.cmr.targetCps >= GOALS.cps,
    });
    goals.push({
      goal: `calls: ≥ ${GOALS.ratio}× the plain proxy's sustained rate`,
      figure: calls.ratio === null ? 'baseline sustained no step' : `${round(calls.ratio, 2)}× (${sustained(calls.cmr)} vs ${sustained(calls.baseline)})`,
      met: calls.ratio === null ? null : calls.ratio >= GOALS.ratio,
    });
    const atGoalRate = calls.steps.find((s) => s.targetCps === LATENCY_GOAL_CPS);
    goals.push({
      goal: `calls: INVITE→180 p99 added by CMR ≤ ${GOALS.addedP99Ms} ms at ${LATENCY_GOAL_CPS} CPS`,
      figure: atGoalRate ? `${signed(atGoalRate.addedMs.p99)} ms` : `no ${LATENCY_GOAL_CPS} CPS step`,
      met: atGoalRate?.addedMs.p99 == null ? null : atGoalRate.addedMs.p99 <= GOALS.addedP99Ms,
    });
  }
  if (copies) {
    goals.push({
      goal: `copies: ≥ ${GOALS.copiesPerSec} copies/s over SIP INFO (cdr)`,
      figure: sustained(copies.cdr.sip.sustained),
      met: copies.cdr.sip.sustained.achievedCps !== null && copies.cdr.sip.sustained.achievedCps >= GOALS.copiesPerSec,
    });
    goals.push({
      goal: `copies: ≥ ${GOALS.copiesPerSec} copies/s over REST (cdr)`,
      figure: `${copies.cdr.rest.perSec}/s`,
      met: copies.cdr.rest.failed === 0 && copies.cdr.rest.perSec >= GOALS.copiesPerSec,
    });
  }
  if (management) {
    goals.push({
      goal: `management: service info ≥ ${GOALS.serviceRatio}× the bare route`,
      figure: `${management.ratio}× (${management.service.perSec}/s vs ${management.bare.perSec}/s)`,
      met: management.service.failed === 0 && management.ratio >= GOALS.serviceRatio,
    });
  }
  if (growth) {
    goals.push({
      goal: `memory: ≤ ${GOALS.sessionBytes} bytes per presenting session`,
      figure: `${growth.memory.bytesPerSession} B (${growth.memory.bytesPerSessionWithIndexes} B with call indexes)`,
      met: growth.memory.bytesPerSession <= GOALS.sessionBytes,
    });
  }
  return goals;
}

type Row = [part: string, measure: string, figure: string, compared: string, ratio: string];

export function renderTable(results: BenchResults): string {
  const rows: Row[] = [];
  if (results.calls) rows.push(...callRows(results.calls));
  if (results.copies) rows.push(...copyRows(results.copies));
  if (results.management) rows.push(managementRow(results.management));
  if (results.growth) rows.push(...growthRows(results.growth));
  if (results.media) rows.push(mediaRow(results.media));
  for (const goal of results.goals ?? []) rows.push(['goal', goal.goal, goal.figure, '', goal.met === null ? 'not measured' : goal.met ? 'met' : 'missed']);
  const header: Row = ['part', 'measure', 'CMR', 'compared with', 'ratio / verdict'];
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function callRows(calls: CallFigures): Row[] {
  const rows = calls.steps.map((step): Row => [
    'calls',
    `${step.targetCps}/s for the step: achieved, failed, INVITE→180 p50/p99 (selections annotated)`,
    `${loadCell(step.cmr)} (${annotatedShare(step)})`,
    `plain proxy: ${loadCell(step.baseline)}`,
    `added p50 ${signed(step.addedMs.p50)}, p99 ${signed(step.addedMs.p99)} ms`,
  ]);
  rows.push(['calls', 'highest rate sustained with zero failures', sustained(calls.cmr), `plain proxy: ${sustained(calls.baseline)}`, calls.ratio === null ? '–' : `${round(calls.ratio, 2)}×`]);
  return rows;
}

/** One row per measure: `cdr` charging in the CMR column, the test CHF (`nchf`) beside it. */
function copyRows(copies: CopyFigures): Row[] {
  const { cdr, nchf } = copies;
  const infoCell = (step: SipCopyStep | undefined) => {
    if (!step) return '–';
    const info = step.responseTimes['2'];
    return `${step.achievedCps ?? '–'}/s, ${step.failed} failed, ${ms(info?.p50)}/${ms(info?.p99)} ms`;
  };
  const restCell = (rest: CopyModeFigures['rest']) => `${rest.perSec}/s, ${rest.latencyMs.p50}/${rest.latencyMs.p99} ms${rest.failed ? `, ${rest.failed} failed` : ''}`;
  const ratio = (a: number | null, b: number | null) => (a && b ? `nchf ${round(b / a, 2)}×` : '');
  return [
    ...cdr.sip.steps.map((step, i): Row => [
      'copies',
      `SIP INFO, ${step.targetCps} copy calls/s: achieved, failed, INFO→200 p50/p99`,
      `cdr: ${infoCell(step)}`,
      `nchf: ${infoCell(nchf.sip.steps[i])}`,
      '',
    ]),
    ['copies', 'SIP INFO copies/s sustained with zero failures', `cdr: ${sustained(cdr.sip.sustained)}`, `nchf: ${sustained(nchf.sip.sustained)}`, ratio(cdr.sip.sustained.targetCps, nchf.sip.sustained.targetCps)],
    ['copies', 'REST online copies/s, p50/p99', `cdr: ${restCell(cdr.rest)}`, `nchf: ${restCell(nchf.rest)}`, ratio(cdr.rest.perSec, nchf.rest.perSec)],
  ];
}

function managementRow(figures: ManagementFigures): Row {
  const cell = (r: ManagementFigures['service']) => `${r.perSec}/s, p50/p99 ${r.latencyMs.p50}/${r.latencyMs.p99} ms${r.failed ? `, ${r.failed} failed` : ''}`;
  return ['management', `GET /v1/users/{uid}/service (${figures.answerBytes} B answer)`, cell(figures.service), `bare route, same answer: ${cell(figures.bare)}`, `${figures.ratio}×`];
}

function growthRows(growth: GrowthFigures): Row[] {
  const { memory, perCall } = growth;
  return [
    ['memory', `Redis bytes per presenting session (${memory.sessions})`, `${memory.bytesPerSession} B`, `with both call-index entries: ${memory.bytesPerSessionWithIndexes} B`, ''],
    ['memory', `Redis bytes per library entry (${memory.libraryEntries})`, `${memory.bytesPerLibraryEntry} B`, '', ''],
    ['cost', 'Redis round trips per call (started, answered, ended)', `${perCall.roundTrips} (${perCall.startRoundTrips} at call start), ${perCall.commands} commands`, `${perCall.bytesOut} B out, ${perCall.bytesIn} B in`, ''],
    ...growth.library.map((g): Row => [
      'growth',
      `call start (selection), called party with ${g.entries} library entries: p50/p99, round trips, bytes read`,
      `${ms(g.ms?.p50)}/${ms(g.ms?.p99)} ms`,
      `${g.roundTrips} round trips, ${g.bytesIn} B read`,
      '',
    ]),
  ];
}

function mediaRow(media: MediaFigures): Row {
  const cell = (v: MediaVariantFigures) => `${v.callsPerSec} calls/s, ${v.failed}/${v.calls} failed, INVITE→18x p50/p99 ${ms(v.progressMs.p50 ?? undefined)}/${ms(v.progressMs.p99 ?? undefined)} ms`;
  const played = `tones ${Object.entries(media.withTone.plays).map(([result, n]) => `${result} ${n}`).join(', ') || 'none'}`;
  return ['media', 'drachtio front, one call after another: caller hears the tone (rtpengine)', `${cell(media.withTone)}; ${played}`, `announcement only: ${cell(media.without)}`, media.ratio === null ? '–' : `${media.ratio}×`];
}

function loadCell(result: LoadResult): string {
  const rt = result.responseTimes['1'];
  return `${result.achievedCps ?? '–'}/s, ${result.failed} failed, ${ms(rt?.p50)}/${ms(rt?.p99)} ms`;
}

function annotatedShare(step: CallStepFigures): string {
  const total = Object.values(step.cmr.selections).reduce((a, b) => a + b, 0);
  const annotated = step.cmr.selections['annotated'] ?? 0;
  return total === 0 ? 'no selection' : `${round((100 * annotated) / total, 1)}% annotated`;
}

function sustained(s: Sustained): string {
  if (s.targetCps === null) return 'no step';
  return `${s.targetCps}/s step (${s.achievedCps}/s achieved)${s.beyondSteps ? ', the highest tried' : ''}`;
}

function ms(value: number | undefined): string {
  return value === undefined ? '–' : String(value);
}

function signed(value: number | null): string {
  if (value === null) return '–';
  return value > 0 ? `+${value}` : String(value);
}
