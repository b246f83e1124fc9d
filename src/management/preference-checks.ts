/**
 * Checks on preferences beyond their JSON shape (which the route schemas enforce), and their
 * canonical form. Pure: what the user holds is given.
 *
 * - `timezone` is an IANA zone name (stored as the zone spells it); times are "HH:MM"; weekdays ISO 1–7 (kept
 *   sorted); date ranges real dates with `from` ≤ `to`.
 * - Identities (callers, contacts, blocked, owners) are stored in canonical form, once each.
 * - Rule and filter ids are unique; a filter sets at least one criterion.
 * - References: the default and each rule present a resource the user holds actively or a box the
 *   user may use (an own personal box, or a catalog box the user is subscribed to). A reference the
 *   stored preferences already make is kept even when it no longer resolves (a subscription ran
 *   out): presentation skips it, and the user is never stopped from editing something else.
 */
import { DateTime } from 'luxon';
import { CmrError } from '../domain/errors.js';
import { parseIdentity, type Identity } from '../domain/identity.js';
import { canonicalTimeZone, timeZoneProblem } from '../domain/time-zone.js';
import type { FilterRule, Preferences, PresentationRule, PresentTarget, Privacy, RuleConditions } from '../domain/types.js';

/** Preferences as asked for: identities as given, to be canonicalised. */
export type ConditionsInput = Omit<RuleConditions, 'callers'> & { callers?: readonly string[] };
export type RuleInput = Omit<PresentationRule, 'conditions'> & { conditions: ConditionsInput };
export type FilterInput = Omit<FilterRule, 'owners'> & { owners?: readonly string[] };
export type PrivacyInput = Omit<Privacy, 'contacts' | 'blocked'> & { contacts: readonly string[]; blocked: readonly string[] };
export type PreferencesInput = Omit<Preferences, 'rules' | 'filters' | 'privacy'> & { rules: readonly RuleInput[]; filters: readonly FilterInput[]; privacy: PrivacyInput };

export const MAX_RULES = 100;
export const MAX_FILTERS = 50;

export interface ValidationProblem {
  path: string;
  message: string;
}

/** Collects every problem of a document, then fails once with all of them. */
export class Problems {
  private readonly list: ValidationProblem[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  throwIfAny(): void {
    if (this.list.length === 0) return;
    throw new CmrError('validation-failed', this.list.map((p) => `${p.path} ${p.message}`).join('; '), { errors: this.list });
  }
}

/** Runs `check` with a fresh collector and throws what it found. */
export function checked<T>(check: (problems: Problems) => T): T {
  const problems = new Problems();
  const result = check(problems);
  problems.throwIfAny();
  return result;
}

export function canonicalPreferences(input: PreferencesInput, problems: Problems): Preferences {
  const timezone = checkedTimeZone(input.timezone, problems);
  const rules = input.rules.map((rule, i) => canonicalRule(rule, `/rules/${i}`, problems));
  const filters = input.filters.map((filter, i) => canonicalFilter(filter, `/filters/${i}`, problems));
  const result: Preferences = {
    timezone,
    default: input.default,
    rules,
    filters,
    privacy: canonicalPrivacy(input.privacy, '/privacy', problems),
  };
  checkCounts(result, problems);
  return result;
}

/** The zone's canonical name; a name that is no IANA zone is a problem at `/timezone`. */
export function checkedTimeZone(name: string, problems: Problems): string {
  const problem = timeZoneProblem(name);
  if (problem) problems.add('/timezone', problem);
  return canonicalTimeZone(name) ?? name;
}

export function canonicalRule(rule: RuleInput, path: string, problems: Problems): PresentationRule {
  return { id: rule.id, priority: rule.priority, enabled: rule.enabled, conditions: canonicalConditions(rule.conditions, `${path}/conditions`, problems), present: rule.present };
}

function canonicalConditions(conditions: ConditionsInput, path: string, problems: Problems): RuleConditions {
  const result: RuleConditions = {};
  if (conditions.callers) result.callers = canonicalIdentities(conditions.callers, `${path}/callers`, problems);
  if (conditions.timeOfDay) {
    for (const end of ['from', 'to'] as const) {
      if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(conditions.timeOfDay[end])) problems.add(`${path}/timeOfDay/${end}`, 'must be a time HH:MM (00:00–23:59)');
    }
    result.timeOfDay = { from: conditions.timeOfDay.from, to: conditions.timeOfDay.to };
  }
  if (conditions.daysOfWeek) {
    conditions.daysOfWeek.forEach((day, i) => {
      if (!Number.isInteger(day) || day < 1 || day > 7) problems.add(`${path}/daysOfWeek/${i}`, 'must be an ISO weekday 1 (Monday) to 7 (Sunday)');
    });
    result.daysOfWeek = [...new Set(conditions.daysOfWeek)].sort((a, b) => a - b);
  }
  if (conditions.dateRange) {
    const { from, to } = conditions.dateRange;
    const fromOk = isDate(from);
    const toOk = isDate(to);
    if (!fromOk) problems.add(`${path}/dateRange/from`, 'must be a date YYYY-MM-DD');
    if (!toOk) problems.add(`${path}/dateRange/to`, 'must be a date YYYY-MM-DD');
    if (fromOk && toOk && from > to) problems.add(`${path}/dateRange`, 'from must not be after to');
    result.dateRange = { from, to };
  }
  return result;
}

export function canonicalFilter(filter: FilterInput, path: string, problems: Problems): FilterRule {
  const result: FilterRule = { id: filter.id };
  if (filter.categories?.length) result.categories = [...new Set(filter.categories)];
  if (filter.ratings?.length) result.ratings = [...new Set(filter.ratings)];
  if (filter.types?.length) result.types = [...new Set(filter.types)];
  if (filter.providers?.length) result.providers = [...new Set(filter.providers)];
  if (filter.owners?.length) result.owners = canonicalIdentities(filter.owners, `${path}/owners`, problems);
  if (Object.keys(result).length === 1) problems.add(path, 'must set at least one of categories, ratings, types, providers, owners');
  return result;
}

export function canonicalPrivacy(privacy: PrivacyInput, path: string, problems: Problems): Privacy {
  return {
    copy: privacy.copy,
    contacts: canonicalIdentities(privacy.contacts, `${path}/contacts`, problems),
    blocked: canonicalIdentities(privacy.blocked, `${path}/blocked`, problems),
    gifts: privacy.gifts,
  };
}

/** Canonical identities, each once, in the order given. */
function canonicalIdentities(list: readonly string[], path: string, problems: Problems): Identity[] {
  const result: Identity[] = [];
  list.forEach((raw, i) => {
    const parsed = parseIdentity(raw);
    if (!parsed.ok) problems.add(`${path}/${i}`, `is not an identity: ${parsed.reason}`);
    else if (!result.includes(parsed.identity)) result.push(parsed.identity);
  });
  return result;
}

/** Unique ids and the size limits, on a whole document (after an edit too). */
export function checkCounts(preferences: Preferences, problems: Problems): void {
  if (preferences.rules.length > MAX_RULES) problems.add('/rules', `at most ${MAX_RULES} rules`);
  if (preferences.filters.length > MAX_FILTERS) problems.add('/filters', `at most ${MAX_FILTERS} filters`);
  duplicates(preferences.rules.map((r) => r.id)).forEach((id) => problems.add('/rules', `rule id ${id} is used twice`));
  duplicates(preferences.filters.map((f) => f.id)).forEach((id) => problems.add('/filters', `filter id ${id} is used twice`));
}

/** Where a preferences document presents something: the default and each rule. */
export function targetsOf(preferences: Preferences): Array<{ target: PresentTarget; path: string; where: string }> {
  const found: Array<{ target: PresentTarget; path: string; where: string }> = [];
  if (preferences.default) found.push({ target: preferences.default, path: '/default', where: 'the default' });
  preferences.rules.forEach((rule, i) => found.push({ target: rule.present, path: `/rules/${i}/present`, where: `rule ${rule.id}` }));
  return found;
}

/** What the user may present: held resources and usable boxes (see the note above). */
export interface Usable {
  resource(resourceId: string): boolean;
  box(boxId: string): boolean;
}

/** Every target of `next` must be usable, unless `stored` already presents it. */
export function checkReferences(next: Preferences, stored: Preferences, usable: Usable, problems: Problems): void {
  const kept = new Set(targetsOf(stored).map(({ target }) => targetKey(target)));
  for (const { target, path } of targetsOf(next)) {
    if (kept.has(targetKey(target))) continue;
    if ('resourceId' in target && !usable.resource(target.resourceId)) problems.add(path, `resource ${target.resourceId} is not held actively`);
    if ('boxId' in target && !usable.box(target.boxId)) problems.add(path, `box ${target.boxId} is neither a personal box nor a subscribed catalog box`);
  }
}

function targetKey(target: PresentTarget): string {
  return 'resourceId' in target ? `r:${target.resourceId}` : `b:${target.boxId}`;
}

function isDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && DateTime.fromISO(value, { zone: 'utc' }).isValid;
}

function duplicates(ids: readonly string[]): string[] {
  return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
}
