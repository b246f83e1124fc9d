/**
 * A user's preferences: the whole document, the time zone, the default, presentation rules,
 * filter rules and privacy. Every change is checked (`preference-checks.ts`) against the stored preferences and
 * what the user holds, under the user's preferences lock, then applied as a zero-priced action.
 */
import type { ActionOutcome, ChargedActions } from '../charging/charged-actions.js';
import { CmrError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { Box, FilterRule, Preferences, PresentationRule, PresentTarget, Privacy } from '../domain/types.js';
import { isActiveEntry } from '../presentation/select.js';
import type { JsonHash } from '../store/json-hash.js';
import type { UserStore } from '../store/user-store.js';
import { holdsActively } from './library-entries.js';
import { chargeView, freeEvent, idSuffix, locks, runAction, type ChargeView, type Requester } from './management-action.js';
import {
  canonicalFilter,
  canonicalPreferences,
  canonicalPrivacy,
  canonicalRule,
  checkCounts,
  checked,
  checkedTimeZone,
  checkReferences,
  Problems,
  targetsOf,
  type FilterInput,
  type PreferencesInput,
  type PrivacyInput,
  type RuleInput,
  type Usable,
} from './preference-checks.js';
import { applyEdit, PREFERENCES_EDIT, type PreferencesEdit } from './preferences-edits.js';

export type NewRule = Omit<RuleInput, 'id'>;
export type NewFilter = Omit<FilterInput, 'id'>;

export interface PreferencesDeps {
  actions: ChargedActions;
  users: UserStore;
  catalogBoxes: JsonHash<Box>;
}

/** What `plan` decides for one change: the edit, the answer it gives, what the activity notes. */
interface EditPlan<R> {
  edit: PreferencesEdit;
  answer: (charge: ChargeView) => R;
  detail: Record<string, unknown>;
}

export class PreferencesService {
  constructor(private readonly deps: PreferencesDeps) {}

  get(uid: Identity): Promise<Preferences> {
    return this.deps.users.preferences(uid);
  }

  replace(requester: Requester, input: PreferencesInput): Promise<ActionOutcome<{ preferences: Preferences; charge: ChargeView }>> {
    const preferences = checked((problems) => canonicalPreferences(input, problems));
    return this.change(requester, 'preferences', () => ({
      edit: { op: 'replace', preferences },
      answer: (charge) => ({ preferences, charge }),
      detail: { action: 'replace' },
    }));
  }

  setTimezone(requester: Requester, name: string): Promise<ActionOutcome<{ timezone: string; charge: ChargeView }>> {
    const timezone = checked((problems) => checkedTimeZone(name, problems));
    return this.change(requester, 'preferences', () => ({
      edit: { op: 'timezone', timezone },
      answer: (charge) => ({ timezone, charge }),
      detail: { action: 'timezone', timezone },
    }));
  }

  setDefault(requester: Requester, target: PresentTarget | null): Promise<ActionOutcome<{ default: PresentTarget | null; charge: ChargeView }>> {
    return this.change(requester, 'preferences', () => ({
      edit: { op: 'default', target },
      answer: (charge) => ({ default: target, charge }),
      detail: { action: 'default', target },
    }));
  }

  addRule(requester: Requester, input: NewRule & { id?: string }): Promise<ActionOutcome<{ rule: PresentationRule; charge: ChargeView }>> {
    return this.change(requester, 'preferences', (stored, chargeId) => {
      const rule = checked((problems) => canonicalRule({ ...input, id: input.id ?? `ru-${idSuffix(chargeId)}` }, '', problems));
      if (stored.rules.some((r) => r.id === rule.id)) throw new CmrError('conflict', `rule ${rule.id} exists already`);
      return { edit: { op: 'put-rule', rule }, answer: (charge) => ({ rule, charge }), detail: { action: 'add-rule', ruleId: rule.id } };
    });
  }

  replaceRule(requester: Requester, ruleId: string, input: NewRule): Promise<ActionOutcome<{ rule: PresentationRule; charge: ChargeView }>> {
    const rule = checked((problems) => canonicalRule({ ...input, id: ruleId }, '', problems));
    return this.change(requester, 'preferences', (stored) => {
      ruleOrThrow(stored, ruleId);
      return { edit: { op: 'put-rule', rule }, answer: (charge) => ({ rule, charge }), detail: { action: 'replace-rule', ruleId } };
    });
  }

  deleteRule(requester: Requester, ruleId: string): Promise<ActionOutcome<null>> {
    return this.change(requester, 'preferences', (stored) => {
      ruleOrThrow(stored, ruleId);
      return { edit: { op: 'delete-rule', ruleId }, answer: () => null, detail: { action: 'delete-rule', ruleId } };
    });
  }

  addFilter(requester: Requester, input: NewFilter & { id?: string }): Promise<ActionOutcome<{ filter: FilterRule; charge: ChargeView }>> {
    return this.change(requester, 'preferences', (stored, chargeId) => {
      const filter = checked((problems) => canonicalFilter({ ...input, id: input.id ?? `fi-${idSuffix(chargeId)}` }, '', problems));
      if (stored.filters.some((f) => f.id === filter.id)) throw new CmrError('conflict', `filter ${filter.id} exists already`);
      return { edit: { op: 'put-filter', filter }, answer: (charge) => ({ filter, charge }), detail: { action: 'add-filter', filterId: filter.id } };
    });
  }

  replaceFilter(requester: Requester, filterId: string, input: NewFilter): Promise<ActionOutcome<{ filter: FilterRule; charge: ChargeView }>> {
    const filter = checked((problems) => canonicalFilter({ ...input, id: filterId }, '', problems));
    return this.change(requester, 'preferences', (stored) => {
      filterOrThrow(stored, filterId);
      return { edit: { op: 'put-filter', filter }, answer: (charge) => ({ filter, charge }), detail: { action: 'replace-filter', filterId } };
    });
  }

  deleteFilter(requester: Requester, filterId: string): Promise<ActionOutcome<null>> {
    return this.change(requester, 'preferences', (stored) => {
      filterOrThrow(stored, filterId);
      return { edit: { op: 'delete-filter', filterId }, answer: () => null, detail: { action: 'delete-filter', filterId } };
    });
  }

  setPrivacy(requester: Requester, input: PrivacyInput): Promise<ActionOutcome<{ privacy: Privacy; charge: ChargeView }>> {
    const privacy = checked((problems) => canonicalPrivacy(input, '', problems));
    return this.change(requester, 'privacy', () => ({ edit: { op: 'privacy', privacy }, answer: (charge) => ({ privacy, charge }), detail: { action: 'privacy' } }));
  }

  /** Plans the edit on the stored preferences, checks the result, and applies it as a free action. */
  private change<R>(requester: Requester, kind: 'preferences' | 'privacy', plan: (stored: Preferences, chargeId: string) => EditPlan<R>): Promise<ActionOutcome<R>> {
    const uid = requester.user;
    return runAction(this.deps.actions, requester, [locks.preferences], async ({ chargeId, now }) => {
      const stored = await this.deps.users.preferences(uid);
      const { edit, answer, detail } = plan(stored, chargeId);
      const next = applyEdit(stored, edit);
      const problems = new Problems();
      checkCounts(next, problems);
      checkReferences(next, stored, await this.usable(uid, next, now), problems);
      problems.throwIfAny();
      const charge = freeEvent();
      return { kind, charge, command: { type: PREFERENCES_EDIT, args: edit }, answer: answer(chargeView(chargeId, charge)), detail };
    });
  }

  /** What `uid` may present at `now`, read for the boxes `preferences` names. */
  private async usable(uid: Identity, preferences: Preferences, now: Date): Promise<Usable> {
    const { users, catalogBoxes } = this.deps;
    const boxIds = [...new Set(targetsOf(preferences).flatMap(({ target }) => ('boxId' in target ? [target.boxId] : [])))];
    const [library, personal, catalog] = await Promise.all([users.library(uid).all(), users.boxes(uid).all(), catalogBoxes.getMany(boxIds)]);
    const personalIds = new Set(personal.map((box) => box.id));
    const catalogIds = new Set(catalog.filter((box): box is Box => box !== null).map((box) => box.id));
    const subscribed = (boxId: string) => library.some((entry) => entry.boxId === boxId && isActiveEntry(entry, now));
    return {
      resource: (resourceId) => holdsActively(library, resourceId, now),
      box: (boxId) => personalIds.has(boxId) || (catalogIds.has(boxId) && subscribed(boxId)),
    };
  }
}

function ruleOrThrow(preferences: Preferences, ruleId: string): void {
  if (!preferences.rules.some((r) => r.id === ruleId)) throw new CmrError('not-found', `no rule ${ruleId}`);
}

function filterOrThrow(preferences: Preferences, filterId: string): void {
  if (!preferences.filters.some((f) => f.id === filterId)) throw new CmrError('not-found', `no filter ${filterId}`);
}
