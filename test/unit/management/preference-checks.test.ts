/** The pure checks behind preferences: canonical form, problems with their paths, references. */
import { describe, expect, it } from 'vitest';
import type { CmrError } from '../../../src/domain/errors.js';
import { defaultPreferences, type Preferences, type PresentTarget } from '../../../src/domain/types.js';
import type { Identity } from '../../../src/domain/identity.js';
import {
  canonicalPreferences,
  checked,
  checkReferences,
  Problems,
  targetsOf,
  type PreferencesInput,
  type Usable,
} from '../../../src/management/preference-checks.js';
import { applyEdit } from '../../../src/management/preferences-edits.js';
import { audienceAdmits } from '../../../src/domain/privacy.js';
import { effectiveStatus, libraryView } from '../../../src/management/library-entries.js';
import { entry } from '../../support/presentation-fixtures.js';

const rule = (id: string, present: PresentTarget, conditions: Record<string, unknown> = {}) => ({ id, priority: 1, enabled: true, conditions, present });

/** The paths of the problems `check` finds, in order; empty when it finds none. */
function pathsOf(check: (problems: Problems) => void): string[] {
  try {
    checked(check);
    return [];
  } catch (err) {
    return ((err as CmrError).extra['errors'] as Array<{ path: string }>).map((e) => e.path);
  }
}

const problemsOf = (input: PreferencesInput) => pathsOf((p) => canonicalPreferences(input, p));

describe('canonicalPreferences', () => {
  it('canonicalises identities once each, sorts weekdays, keeps only set filter criteria', () => {
    const result = checked((p) =>
      canonicalPreferences(
        {
          ...defaultPreferences(),
          rules: [rule('a', { resourceId: 'r-1' }, { callers: ['sip:+15551230002@x.net;user=phone', 'tel:+1-555-123-0002'], daysOfWeek: [5, 1, 3] })],
          filters: [{ id: 'f', ratings: ['mature', 'mature'], categories: [], owners: ['sip:Dave@EXAMPLE.net;transport=tcp'] }],
          privacy: { copy: 'everyone', contacts: ['sip:a@b.c', 'sip:a@B.C'], blocked: [], gifts: 'nobody' },
        },
        p,
      ),
    );
    expect(result.rules[0]!.conditions).toEqual({ callers: ['tel:+15551230002'], daysOfWeek: [1, 3, 5] });
    expect(result.filters[0]).toEqual({ id: 'f', ratings: ['mature'], owners: ['sip:Dave@example.net'] });
    expect(result.privacy.contacts).toEqual(['sip:a@b.c']);
  });

  it.each<[string, Partial<PreferencesInput>, string[]]>([
    ['an unknown zone', { timezone: 'Europe/Atlantis' }, ['/timezone']],
    ['a zone offset name', { timezone: 'UTC+25' }, ['/timezone']],
    ['a time of 24:00', { rules: [rule('a', { resourceId: 'r' }, { timeOfDay: { from: '24:00', to: '01:00' } })] }, ['/rules/0/conditions/timeOfDay/from']],
    ['reversed dates', { rules: [rule('a', { resourceId: 'r' }, { dateRange: { from: '2025-12-31', to: '2025-01-01' } })] }, ['/rules/0/conditions/dateRange']],
    ['a 13th month', { rules: [rule('a', { resourceId: 'r' }, { dateRange: { from: '2025-13-01', to: '2025-12-01' } })] }, ['/rules/0/conditions/dateRange/from']],
    ['bad identities', { privacy: { copy: 'everyone', contacts: ['x'], blocked: ['tel:+1'], gifts: 'everyone' } }, ['/privacy/contacts/0', '/privacy/blocked/0']],
    ['duplicate ids', { rules: [rule('a', { resourceId: 'r' }), rule('a', { resourceId: 's' })], filters: [{ id: 'f', types: ['audio'] }, { id: 'f', types: ['video'] }] }, ['/rules', '/filters']],
    ['an empty filter', { filters: [{ id: 'f', categories: [] }] }, ['/filters/0']],
  ])('reports %s', (_label, changes, paths) => {
    expect(problemsOf({ ...defaultPreferences(), ...changes })).toEqual(paths);
  });

  it('accepts a window wrapping midnight, a whole-day window and a one-day range', () => {
    expect(
      problemsOf({
        ...defaultPreferences(),
        timezone: 'America/New_York',
        rules: [
          rule('night', { resourceId: 'r' }, { timeOfDay: { from: '22:00', to: '07:00' } }),
          rule('day', { resourceId: 'r' }, { timeOfDay: { from: '00:00', to: '00:00' }, dateRange: { from: '2024-02-29', to: '2024-02-29' } }),
        ],
      }),
    ).toEqual([]);
  });
});

describe('checkReferences', () => {
  const usable: Usable = { resource: (id) => id === 'held', box: (id) => id === 'mine' };
  const prefs = (changes: Partial<Preferences>): Preferences => ({ ...defaultPreferences(), ...changes });
  const problems = (next: Preferences, stored: Preferences) => pathsOf((p) => checkReferences(next, stored, usable, p));

  it('accepts held resources and usable boxes, refuses the others with their paths', () => {
    const next = prefs({ default: { boxId: 'theirs' }, rules: [rule('a', { resourceId: 'held' }), rule('b', { resourceId: 'other' }), rule('c', { boxId: 'mine' })] });
    expect(problems(next, prefs({}))).toEqual(['/default', '/rules/1/present']);
  });

  it('keeps what the stored preferences already present', () => {
    const stored = prefs({ rules: [rule('a', { resourceId: 'lapsed' })] });
    expect(problems(prefs({ default: { resourceId: 'lapsed' }, rules: stored.rules }), stored)).toEqual([]);
  });

  it('lists targets with where they are', () => {
    expect(targetsOf(prefs({ default: { resourceId: 'x' }, rules: [rule('a', { boxId: 'b' })] })).map((t) => t.where)).toEqual(['the default', 'rule a']);
  });
});

describe('applyEdit', () => {
  const base = { ...defaultPreferences(), rules: [rule('a', { resourceId: 'r' })] };
  it('replaces an item by id or appends it, and deletes by id', () => {
    const replaced = applyEdit(base, { op: 'put-rule', rule: { ...rule('a', { resourceId: 's' }), priority: 9 } });
    expect(replaced.rules).toEqual([{ ...rule('a', { resourceId: 's' }), priority: 9 }]);
    expect(applyEdit(base, { op: 'put-rule', rule: rule('b', { resourceId: 's' }) }).rules.map((r) => r.id)).toEqual(['a', 'b']);
    expect(applyEdit(base, { op: 'delete-rule', ruleId: 'a' }).rules).toEqual([]);
    expect(applyEdit(base, { op: 'default', target: null }).default).toBeNull();
  });
});

describe('audienceAdmits', () => {
  const bob = 'tel:+15551230002' as Identity;
  const privacy = (changes: Record<string, unknown>) => ({ copy: 'everyone' as const, contacts: [], blocked: [], gifts: 'everyone' as const, ...changes });
  it.each([
    ['everyone', privacy({}), true],
    ['nobody', privacy({}), false],
    ['contacts', privacy({ contacts: [bob] }), true],
    ['contacts', privacy({}), false],
    ['everyone', privacy({ blocked: [bob] }), false],
  ] as const)('%s with %j → %s', (audience, settings, admitted) => {
    expect(audienceAdmits(settings, audience, bob)).toBe(admitted);
  });
});

describe('library entries as reported', () => {
  const at = new Date('2025-01-01T00:00:00Z');
  it('reads an active entry past its expiry as expired, and lists newest first', () => {
    const lapsed = entry('r-1', { id: 'e-1', expiresAt: '2024-12-31T23:59:59.999Z', acquiredAt: '2024-12-01T00:00:00.000Z' });
    const live = entry('r-2', { id: 'e-2', acquiredAt: '2024-12-15T00:00:00.000Z' });
    const cancelled = entry('r-3', { id: 'e-3', status: 'cancelled', acquiredAt: '2024-11-01T00:00:00.000Z' });
    expect([lapsed, live, cancelled].map((e) => effectiveStatus(e, at))).toEqual(['expired', 'active', 'cancelled']);
    expect(libraryView([lapsed, cancelled, live], at).map((e) => e.id)).toEqual(['e-2', 'e-1', 'e-3']);
    expect(libraryView([lapsed, cancelled, live], at, 'expired').map((e) => e.id)).toEqual(['e-1']);
  });
});
