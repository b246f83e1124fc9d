/**
 * Which of an owner's presentation rules apply to a viewer at an instant, and in which order they
 * are tried (contract §2, "presenting priority"). Pure: the instant is given.
 *
 * Conditions are read on the owner's wall clock, in the owner's IANA time zone (luxon), so a rule
 * follows the owner across DST changes: on a spring-forward day the skipped local hour never
 * occurs (a 02:30–03:30 window matches from 03:00 local), and on a fall-back day the repeated hour
 * matches both times it occurs. An unknown time zone is read as UTC.
 *
 * - `callers[]`: the viewer is one of them (the other party of the call, whoever dialled).
 * - `timeOfDay {from, to}`: local "HH:MM", `from` inclusive, `to` exclusive; `from` > `to` wraps
 *   midnight (22:00–07:00); `from` = `to` is the whole day.
 * - `daysOfWeek[]`: ISO weekdays, 1 = Monday … 7 = Sunday.
 * - `dateRange {from, to}`: local dates "YYYY-MM-DD", both inclusive.
 * A condition that is absent or an empty list does not constrain; one that cannot be read
 * (e.g. "25:00") never matches, so a damaged rule stays silent instead of matching every call.
 */
import { DateTime } from 'luxon';
import type { Identity } from '../domain/identity.js';
import type { PresentationRule, PresentTarget, Preferences, RuleConditions } from '../domain/types.js';

/** The owner's wall clock at one instant. */
export interface LocalClock {
  /** Minutes since local midnight. */
  minutes: number;
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** Local date "YYYY-MM-DD". */
  date: string;
}

/**
 * Wall clocks recently read, by time zone and minute: a call reads its parties' clocks several
 * times, and calls in the same minute share them, where each luxon conversion costs tens of
 * microseconds. Keyed by the minute because every offset in use is a whole number of minutes, so
 * the local minute, weekday and date are the same for every instant of a UTC minute.
 */
const recentClocks = new Map<string, LocalClock>();
const RECENT_CLOCKS_MAX = 256;
const MINUTE_MS = 60_000;

export function localClock(at: Date, timezone: string): LocalClock {
  const key = `${Math.floor(at.getTime() / MINUTE_MS)}|${timezone}`;
  let clock = recentClocks.get(key);
  if (clock === undefined) {
    if (recentClocks.size >= RECENT_CLOCKS_MAX) recentClocks.clear();
    recentClocks.set(key, (clock = readClock(at, timezone)));
  }
  return clock;
}

function readClock(at: Date, timezone: string): LocalClock {
  const zoned = DateTime.fromJSDate(at, { zone: timezone });
  const local = zoned.isValid ? zoned : DateTime.fromJSDate(at, { zone: 'utc' });
  return { minutes: local.hour * 60 + local.minute, weekday: local.weekday, date: local.toISODate() ?? '' };
}

/** Where a candidate comes from: a rule, or the owner's default. */
export type CandidateSource = { kind: 'rule'; ruleId: string } | { kind: 'default' };

export interface Candidate {
  target: PresentTarget;
  source: CandidateSource;
}

/**
 * The targets to try for `viewer` at `at`, best first: enabled rules whose conditions all match,
 * by lowest priority, then highest specificity, then rule id (so the order never depends on
 * storage order); then the default.
 */
export function orderedCandidates(preferences: Preferences, viewer: Identity, at: Date): Candidate[] {
  const clock = localClock(at, preferences.timezone);
  const rules = preferences.rules
    .filter((rule) => rule.enabled && conditionsMatch(rule.conditions, viewer, clock))
    .sort(compareRules);
  const candidates: Candidate[] = rules.map((rule) => ({ target: rule.present, source: { kind: 'rule', ruleId: rule.id } }));
  if (preferences.default) candidates.push({ target: preferences.default, source: { kind: 'default' } });
  return candidates;
}

/**
 * How specific a rule is, to break priority ties: a caller-specific rule beats any rule without
 * callers, then a date range beats days of the week, which beat a time of day. The weights are
 * powers of two, so the score orders rules by their most specific condition first
 * (callers 8 > dateRange 4 > daysOfWeek 2 > timeOfDay 1).
 */
export function specificity(conditions: RuleConditions): number {
  return (
    (isSet(conditions.callers) ? 8 : 0) +
    (conditions.dateRange ? 4 : 0) +
    (isSet(conditions.daysOfWeek) ? 2 : 0) +
    (conditions.timeOfDay ? 1 : 0)
  );
}

function compareRules(a: PresentationRule, b: PresentationRule): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const bySpecificity = specificity(b.conditions) - specificity(a.conditions);
  if (bySpecificity !== 0) return bySpecificity;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function conditionsMatch(conditions: RuleConditions, viewer: Identity, clock: LocalClock): boolean {
  const { callers, timeOfDay, daysOfWeek, dateRange } = conditions;
  if (isSet(callers) && !callers.includes(viewer)) return false;
  if (isSet(daysOfWeek) && !daysOfWeek.includes(clock.weekday)) return false;
  if (dateRange && !withinDates(dateRange, clock.date)) return false;
  if (timeOfDay && !withinTimeOfDay(timeOfDay, clock.minutes)) return false;
  return true;
}

function withinTimeOfDay(window: { from: string; to: string }, minutes: number): boolean {
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  if (from === null || to === null) return false;
  if (from < to) return minutes >= from && minutes < to;
  // Wraps midnight (or, when from = to, covers the whole day).
  return minutes >= from || minutes < to;
}

function withinDates(range: { from: string; to: string }, date: string): boolean {
  if (!isDate(range.from) || !isDate(range.to)) return false;
  // "YYYY-MM-DD" strings order like the dates they name.
  return date >= range.from && date <= range.to;
}

function minutesOf(hhmm: string): number | null {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

function isDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value);
}

function isSet<T>(list: readonly T[] | undefined): list is readonly T[] {
  return list !== undefined && list.length > 0;
}
