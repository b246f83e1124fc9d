/**
 * The figures of a run (the JSON written), the goals of the issue judged against them, and the
 * one table printed (Markdown, so the README's Performance section can quote it as it is).
 */
import type { MachineFacts } from './machine.js';
import type { CallFigures, CallStepFigures, FrontStep } from './parts/calls.js';
import { LATENCY_GOAL_CPS } from './parts/calls.js';
import type { DrachtioFigures } from './parts/drachtio.js';
import type { CopyFigures, CopyModeFigures, SipCopyStep } from './parts/copies.js';
import type { GrowthFigures, LibraryGrowth } from './parts/growth.js';
import type { Sustained } from './parts/load-figures.js';
import type { ManagementFigures } from './parts/management.js';
import type { MediaFigures, MediaVariantFigures } from './parts/media.js';
import type { ParserFigures } from './parts/parser.js';
import { OVERLOAD_GOAL_SHARE, type OverloadFigures } from './parts/overload.js';
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
  parser?: ParserFigures;
  overload?: OverloadFigures;
  drachtio?: DrachtioFigures;
  goals?: Goal[];
}

export interface Goal {
  goal: string;
  figure: string;
  /** null: not measured in this run (no step at the goal's rate, or no baseline step sustained). */
  met: boolean | null;
}

/** The goals of the performance issue, as far as this bench measures them (see the README). */
const GOALS = { cpuRatio: 1.25, rateRatio: 1, addedP99Ms: 10, copiesPerSec: 1000, serviceRatio: 0.5, flatGrowth: 1.1, sessionBytes: 300 };

export function goalsOf(results: BenchResults): Goal[] {
  const goals: Goal[] = [];
  const { calls, copies, management, growth, overload } = results;
  if (calls) {
    goals.push(cpuGoal('calls: server CPU per call', "the null proxy's (sip package)", calls.steps.map((s) => ({ targetCps: s.targetCps, front: s.cmr, anchor: s.nullProxy }))));
    goals.push(rateGoal("calls: highest rate with zero failures ≥ the null proxy's", calls.nullRatio, calls.cmr, calls.nullProxy));
    const atGoalRate = calls.steps.find((s) => s.targetCps === LATENCY_GOAL_CPS);
    goals.push({
      goal: `calls: INVITE→180 p99 added by CMR ≤ ${GOALS.addedP99Ms} ms at ${LATENCY_GOAL_CPS} CPS`,
      figure: atGoalRate ? `${signed(atGoalRate.addedMs.p99)} ms` : `no ${LATENCY_GOAL_CPS} CPS step`,
      met: atGoalRate?.addedMs.p99 == null ? null : atGoalRate.addedMs.p99 <= GOALS.addedP99Ms,
    });
  }
  if (results.drachtio) {
    const { drachtio } = results;
    goals.push(cpuGoal('drachtio: app CPU per call', "the null drachtio-srf B2BUA's", drachtio.steps.map((s) => ({ targetCps: s.targetCps, front: s.cmr, anchor: s.nullB2bua }))));
    goals.push(rateGoal("drachtio: highest rate with zero failures ≥ the null drachtio-srf B2BUA's", drachtio.ratio, drachtio.cmr, drachtio.nullB2bua));
  }
  if (copies) {
    goals.push({
      goal: `copies: ≥ ${GOALS.copiesPerSec} online copies/s over REST (cdr)`,
      figure: `${copies.cdr.rest.perSec}/s`,
      met: copies.cdr.rest.failed === 0 && copies.cdr.rest.perSec >= GOALS.copiesPerSec,
    });
    goals.push({
      goal: 'copies: SIP copy calls limited only by call capacity (cdr copy calls sustained ≥ the calls sustained)',
      figure: `${sustained(copies.cdr.sip.sustained)}${calls ? ` vs calls ${sustained(calls.cmr)}` : ''}`,
      met: calls?.cmr.targetCps == null || copies.cdr.sip.sustained.targetCps === null ? null : copies.cdr.sip.sustained.targetCps >= calls.cmr.targetCps,
    });
  }
  if (management) {
    goals.push({
      goal: `management: service info ≥ ${GOALS.serviceRatio}× a route with the same JWT check, Redis read and serialisation`,
      figure: `${management.fairRatio}× (${management.service.perSec}/s vs ${management.fair.perSec}/s; ${management.ratio}× the bare route)`,
      met: management.service.failed === 0 && management.fairRatio >= GOALS.serviceRatio,
    });
  }
  if (growth) {
    const [smallest, largest] = [growth.library[0], growth.library[growth.library.length - 1]];
    if (smallest && largest && smallest !== largest) {
      const ratio = largest.bytesIn / smallest.bytesIn;
      goals.push({
        goal: `selection: flat in the called party's library size (bytes read at ${largest.entries} entries ≤ ${GOALS.flatGrowth}× at ${smallest.entries})`,
        figure: `${round(ratio, 2)}× (${smallest.bytesIn} → ${largest.bytesIn} B; p50 ${smallest.ms?.p50} → ${largest.ms?.p50} ms)`,
        met: ratio <= GOALS.flatGrowth,
      });
    }
    goals.push({
      goal: `memory: ≤ ${GOALS.sessionBytes} bytes per presenting session`,
      figure: `${growth.memory.bytesPerSession} B (${growth.memory.bytesPerSessionWithIndexes} B with call indexes)`,
      met: growth.memory.bytesPerSession <= GOALS.sessionBytes,
    });
  }
  if (overload) {
    const c = overload.copies;
    goals.push({
      goal: 'overload: no copy applied without a charge or charged twice (copy calls at the highest factor, test CHF)',
      figure: `${c.problems.length} discrepancies (${c.charged} charged, ${c.paidEntries} applied, ${c.calls.asked} copy calls offered)`,
      met: c.problems.length === 0,
    });
  }
  for (const step of overload?.steps ?? []) {
    goals.push({
      goal: `overload: at ${step.factor}× the sustained rate, completed calls ≥ ${OVERLOAD_GOAL_SHARE * 100} % of the null proxy's`,
      figure: step.ratio === null ? 'the null proxy completed none' : `${round(step.ratio * 100, 1)} % (${step.cmr.successful} vs ${step.nullProxy.successful} of ${step.cmr.asked})`,
      met: step.ratio === null ? null : step.ratio >= OVERLOAD_GOAL_SHARE,
    });
  }
  return goals;
}

interface CpuPair {
  targetCps: number;
  front: FrontStep;
  anchor: FrontStep;
}

/** CPU per call of a front over its anchor's, judged at the worst step both carried without a failure. */
function cpuGoal(measure: string, anchor: string, steps: readonly CpuPair[]): Goal {
  const carried = steps.filter((s) => s.front.failed === 0 && s.anchor.failed === 0 && s.anchor.serverCpuMsPerCall > 0);
  const worst = carried.map((s) => ({ s, ratio: s.front.serverCpuMsPerCall / s.anchor.serverCpuMsPerCall })).sort((a, b) => b.ratio - a.ratio)[0];
  return {
    goal: `${measure} ≤ ${GOALS.cpuRatio}× ${anchor}, at every step both carried`,
    figure: worst ? `worst ${round(worst.ratio, 2)}× at ${worst.s.targetCps}/s (${worst.s.front.serverCpuMsPerCall} vs ${worst.s.anchor.serverCpuMsPerCall} ms)` : 'no step both carried',
    met: worst ? worst.ratio <= GOALS.cpuRatio : null,
  };
}

/** A front's CPU per call over its anchor's, as the table writes it. */
function cpuRatio(front: FrontStep, anchor: FrontStep): string {
  return anchor.serverCpuMsPerCall > 0 ? `${round(front.serverCpuMsPerCall / anchor.serverCpuMsPerCall, 2)}×` : '–';
}

/** A front's highest sustained rate against its anchor's. */
function rateGoal(goal: string, ratio: number | null, front: Sustained, anchor: Sustained): Goal {
  return {
    goal,
    figure: ratio === null ? 'the anchor sustained no step' : `${round(ratio, 2)}× (${sustained(front)} vs ${sustained(anchor)})`,
    met: ratio === null ? null : ratio >= GOALS.rateRatio,
  };
}

type Row = [part: string, measure: string, figure: string, compared: string, ratio: string];

export function renderTable(results: BenchResults): string {
  const rows: Row[] = [];
  if (results.calls) rows.push(...callRows(results.calls));
  if (results.drachtio) rows.push(...drachtioRows(results.drachtio));
  if (results.copies) rows.push(...copyRows(results.copies));
  if (results.management) rows.push(...managementRows(results.management));
  if (results.growth) rows.push(...growthRows(results.growth));
  if (results.media) rows.push(mediaRow(results.media));
  if (results.parser) rows.push(...parserRows(results.parser));
  if (results.overload) rows.push(...overloadRows(results.overload));
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
  rows.push(
    ...calls.steps.map((step): Row => [
      'calls',
      `${step.targetCps}/s for the step: achieved, failed, INVITE→180 p50/p99, server CPU per call`,
      cpuCell(step.cmr),
      `null proxy (sip package): ${cpuCell(step.nullProxy)}`,
      `CPU ${cpuRatio(step.cmr, step.nullProxy)} (${cpuRatio(step.cmr, step.baseline)} the plain proxy's)`,
    ]),
  );
  rows.push(['calls', 'highest rate sustained with zero failures', sustained(calls.cmr), `plain proxy: ${sustained(calls.baseline)}`, ratioCell(calls.ratio)]);
  rows.push(['calls', 'highest rate sustained with zero failures', sustained(calls.cmr), `null proxy (sip package): ${sustained(calls.nullProxy)}`, ratioCell(calls.nullRatio)]);
  return rows;
}

function drachtioRows(drachtio: DrachtioFigures): Row[] {
  const cell = (step: FrontStep & { peerCpuMsPerCall: number }) => `${cpuCell(step)} (its scripted drachtio peer ${step.peerCpuMsPerCall} ms)`;
  return [
    ...drachtio.steps.map((step): Row => [
      'drachtio',
      `${step.targetCps}/s for the step: achieved, failed, INVITE→180 p50/p99, app CPU per call`,
      cell(step.cmr),
      `null drachtio-srf B2BUA: ${cell(step.nullB2bua)}`,
      `CPU ${cpuRatio(step.cmr, step.nullB2bua)}`,
    ]),
    ['drachtio', 'highest rate sustained with zero failures', sustained(drachtio.cmr), `null drachtio-srf B2BUA: ${sustained(drachtio.nullB2bua)}`, ratioCell(drachtio.ratio)],
  ];
}

function cpuCell(step: FrontStep): string {
  return `${loadCell(step)}, ${step.serverCpuMsPerCall} ms/call`;
}

function ratioCell(ratio: number | null): string {
  return ratio === null ? '–' : `${round(ratio, 2)}×`;
}

/** One row per measure: `cdr` charging in the CMR column, the test CHF (`nchf`) beside it. */
function copyRows(copies: CopyFigures): Row[] {
  const { cdr, nchf } = copies;
  const infoCell = (step: SipCopyStep | undefined) => {
    if (!step) return '–';
    const info = step.responseTimes['2'];
    // A call whose selection presented nothing (empty, failed open, shed) has nothing to copy: its copy is a 404.
    const presentedNothing = Object.entries(step.selections).filter(([result]) => result !== 'annotated').reduce((sum, [, n]) => sum + n, 0);
    const why = presentedNothing > 0 ? ` (${presentedNothing} calls presented nothing to copy)` : '';
    return `${step.achievedCps ?? '–'}/s, ${step.failed} failed${why}, ${ms(info?.p50)}/${ms(info?.p99)} ms, ${step.serverCpuMsPerCall} ms CPU`;
  };
  const restCell = (rest: CopyModeFigures['rest']) => `${rest.perSec}/s, ${rest.latencyMs.p50}/${rest.latencyMs.p99} ms, ${rest.serverCpuMsPerCopy} ms CPU${rest.failed ? `, ${rest.failed} failed` : ''}`;
  const ratio = (a: number | null, b: number | null) => (a && b ? `nchf ${round(b / a, 2)}×` : '');
  const costCell = (c: CopyModeFigures['perCopy']) => `${c.roundTrips}, ${c.commands} commands, ${c.bytesOut} B out, ${c.bytesIn} B in`;
  return [
    ...cdr.sip.steps.map((step, i): Row => [
      'copies',
      `SIP INFO, ${step.targetCps} copy calls/s: achieved, failed, INFO→200 p50/p99, server CPU per copy call`,
      `cdr: ${infoCell(step)}`,
      `nchf: ${infoCell(nchf.sip.steps[i])}`,
      '',
    ]),
    ['copies', 'SIP INFO copies/s sustained with zero failures', `cdr: ${sustained(cdr.sip.sustained)}`, `nchf: ${sustained(nchf.sip.sustained)}`, ratio(cdr.sip.sustained.targetCps, nchf.sip.sustained.targetCps)],
    ['copies', 'REST online copies/s, p50/p99, server CPU per copy', `cdr: ${restCell(cdr.rest)}`, `nchf: ${restCell(nchf.rest)}`, ratio(cdr.rest.perSec, nchf.rest.perSec)],
    ['cost', 'Redis round trips per REST online copy (request to answer)', `cdr: ${costCell(cdr.perCopy)}`, `nchf: ${costCell(nchf.perCopy)}`, ''],
  ];
}

function managementRows(figures: ManagementFigures): Row[] {
  const cell = (r: ManagementFigures['service']) => `${r.perSec}/s, p50/p99 ${r.latencyMs.p50}/${r.latencyMs.p99} ms${r.failed ? `, ${r.failed} failed` : ''}`;
  const measure = `GET /v1/users/{uid}/service (${figures.answerBytes} B answer)`;
  return [
    ['management', measure, cell(figures.service), `same JWT check, one Redis GET, same schema: ${cell(figures.fair)}`, `${figures.fairRatio}×`],
    ['management', measure, cell(figures.service), `bare route, same answer bytes: ${cell(figures.bare)}`, `${figures.ratio}×`],
    [
      'management',
      `${measure}, answers kept under the data version vs read on every request (CMR_SELECT_CACHED_USERS=0)`,
      cell(figures.service),
      `read every request: ${cell(figures.readEveryRequest)}`,
      `${round(figures.service.perSec / figures.readEveryRequest.perSec, 2)}×`,
    ],
  ];
}

function growthRows(growth: GrowthFigures): Row[] {
  const { memory, perCall } = growth;
  return [
    ['memory', `Redis bytes per presenting session (${memory.sessions})`, `${memory.bytesPerSession} B`, `with both call-index entries: ${memory.bytesPerSessionWithIndexes} B`, ''],
    ['memory', `Redis bytes per library entry (${memory.libraryEntries})`, `${memory.bytesPerLibraryEntry} B`, '', ''],
    ['cost', 'Redis round trips per call (started, answered, ended)', `${perCall.roundTrips} (${perCall.startRoundTrips} at call start), ${perCall.commands} commands`, `${perCall.bytesOut} B out, ${perCall.bytesIn} B in`, ''],
    ...growth.library.map((g, i): Row => {
      const every = growth.libraryReadEveryCall[i];
      const cell = (f: LibraryGrowth) => `${ms(f.ms?.p50)}/${ms(f.ms?.p99)} ms, ${f.roundTrips} round trips, ${f.bytesIn} B read`;
      return [
        'growth',
        `call start (selection), called party with ${g.entries} library entries: p50/p99, round trips, bytes read`,
        `data kept: ${cell(g)}`,
        every ? `read every call: ${cell(every)}` : '',
        every?.ms && g.ms && g.ms.p50 > 0 ? `p50 ${round(every.ms.p50 / g.ms.p50, 1)}× faster kept` : '',
      ];
    }),
  ];
}

function mediaRow(media: MediaFigures): Row {
  const cell = (v: MediaVariantFigures) => `${v.callsPerSec} calls/s, ${v.failed}/${v.calls} failed, INVITE→18x p50/p99 ${ms(v.progressMs.p50 ?? undefined)}/${ms(v.progressMs.p99 ?? undefined)} ms`;
  const played = `tones ${Object.entries(media.withTone.plays).map(([result, n]) => `${result} ${n}`).join(', ') || 'none'}`;
  return ['media', 'drachtio front, one call after another: caller hears the tone (rtpengine)', `${cell(media.withTone)}; ${played}`, `announcement only: ${cell(media.without)}`, media.ratio === null ? '–' : `${media.ratio}×`];
}

function parserRows(parser: ParserFigures): Row[] {
  const cells = (t: ParserFigures['invite']): [string, string] => [`${t.strict} ns`, `sip package alone: ${t.packageOnly} ns; drachtio-srf parser: ${t.drachtioSrf} ns`];
  return [
    ['parser', 'reading an initial INVITE with SDP (strict check, then the sip package)', ...cells(parser.invite), `${parser.ratio}× the package alone`],
    ['parser', `reading the ${parser.archive.messages} messages of RFC 4475's archive that read as SIP, per message`, ...cells(parser.archive), `${round(parser.archive.strict / parser.archive.packageOnly, 2)}×`],
  ];
}

function overloadRows(overload: OverloadFigures): Row[] {
  const completed = (r: LoadResult) => `${r.successful}/${r.asked} completed (${r.asked === 0 ? 0 : round((100 * r.successful) / r.asked, 1)} %), ${r.failed} failed, ${r.retransmissions} retransmissions`;
  const c = overload.copies;
  return [
    ...overload.steps.map((step): Row => [
      'overload',
      `${step.factor}× the sustained ${overload.baseCps}/s (${overload.baseFrom}): ${step.targetCps}/s offered (selections shed)`,
      `${completed(step.cmr)} (${step.cmr.selections['shed'] ?? 0} shed)`,
      `null proxy: ${completed(step.nullProxy)}`,
      step.ratio === null ? '–' : `${round(step.ratio * 100, 1)} % of the null proxy`,
    ]),
    [
      'overload',
      `copy calls at ${c.targetCps}/s, charged online (test CHF): calls, copies by result, charges`,
      `${completed(c.calls)}; copies ${Object.entries(c.copies).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
      `${c.charged} charged at the CHF, ${c.paidEntries} entries applied, ${c.grantedRecords} granted records`,
      `${c.problems.length} discrepancies`,
    ],
  ];
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
