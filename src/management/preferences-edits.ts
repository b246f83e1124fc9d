/**
 * Changes to a user's preferences as plain data, so a charged action can carry one as its command
 * and apply it to the preferences read at apply time (the `preferences.edit` applier), exactly as
 * it was checked in `prepare` under the user's preferences lock.
 */
import { writes, type Applier } from '../charging/writes.js';
import { defaultPreferences, type FilterRule, type Preferences, type PresentationRule, type PresentTarget, type Privacy } from '../domain/types.js';

export type PreferencesEdit =
  | { op: 'replace'; preferences: Preferences }
  | { op: 'timezone'; timezone: string }
  | { op: 'default'; target: PresentTarget | null }
  | { op: 'put-rule'; rule: PresentationRule }
  | { op: 'delete-rule'; ruleId: string }
  | { op: 'put-filter'; filter: FilterRule }
  | { op: 'delete-filter'; filterId: string }
  | { op: 'privacy'; privacy: Privacy };

export const PREFERENCES_EDIT = 'preferences.edit';

/** The preferences after the edit. A `put` replaces the item with the same id, or appends it. */
export function applyEdit(preferences: Preferences, edit: PreferencesEdit): Preferences {
  switch (edit.op) {
    case 'replace':
      return edit.preferences;
    case 'timezone':
      return { ...preferences, timezone: edit.timezone };
    case 'default':
      return { ...preferences, default: edit.target };
    case 'put-rule':
      return { ...preferences, rules: put(preferences.rules, edit.rule) };
    case 'delete-rule':
      return { ...preferences, rules: preferences.rules.filter((r) => r.id !== edit.ruleId) };
    case 'put-filter':
      return { ...preferences, filters: put(preferences.filters, edit.filter) };
    case 'delete-filter':
      return { ...preferences, filters: preferences.filters.filter((f) => f.id !== edit.filterId) };
    case 'privacy':
      return { ...preferences, privacy: edit.privacy };
  }
}

export const preferencesEditApplier: Applier<PreferencesEdit> = async (edit, context) => {
  const current = await context.readPreferences();
  return [writes.preferences(applyEdit(current.doc ?? defaultPreferences(), edit), current)];
};

function put<T extends { id: string }>(list: readonly T[], item: T): T[] {
  return list.some((x) => x.id === item.id) ? list.map((x) => (x.id === item.id ? item : x)) : [...list, item];
}
