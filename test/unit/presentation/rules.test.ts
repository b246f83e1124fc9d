import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import type { RuleConditions } from '../../../src/domain/types.js';
import { conditionsMatch, localClock, orderedCandidates, specificity } from '../../../src/presentation/rules.js';
import { ALICE, BOB, CAROL, preferences, rule } from '../../support/presentation-fixtures.js';

const matchesAt = (conditions: RuleConditions, iso: string, timezone: string, viewer = ALICE) =>
  conditionsMatch(conditions, viewer, localClock(new Date(iso), timezone));

/** Minutes of one UTC day (from `dayStartIso`, 24 h of instants) at which the conditions match. */
function matchingMinutes(conditions: RuleConditions, dayStartIso: string, timezone: string, hours = 24): number {
  const start = Date.parse(dayStartIso);
  let count = 0;
  for (let minute = 0; minute < hours * 60; minute++) {
    if (conditionsMatch(conditions, ALICE, localClock(new Date(start + minute * 60_000), timezone))) count++;
  }
  return count;
}

describe('time of day', () => {
  it.each([
    ['inside a daytime window', { from: '09:00', to: '17:00' }, '2024-06-03T09:00:00Z', true],
    ['at the exclusive end', { from: '09:00', to: '17:00' }, '2024-06-03T17:00:00Z', false],
    ['one minute before the end', { from: '09:00', to: '17:00' }, '2024-06-03T16:59:00Z', true],
    ['before a daytime window', { from: '09:00', to: '17:00' }, '2024-06-03T08:59:59Z', false],
    ['wrapping: at its start', { from: '22:00', to: '07:00' }, '2024-06-03T22:00:00Z', true],
    ['wrapping: before midnight', { from: '22:00', to: '07:00' }, '2024-06-03T23:59:00Z', true],
    ['wrapping: at midnight', { from: '22:00', to: '07:00' }, '2024-06-04T00:00:00Z', true],
    ['wrapping: just before its end', { from: '22:00', to: '07:00' }, '2024-06-04T06:59:00Z', true],
    ['wrapping: at its exclusive end', { from: '22:00', to: '07:00' }, '2024-06-04T07:00:00Z', false],
    ['wrapping: in the day', { from: '22:00', to: '07:00' }, '2024-06-04T12:00:00Z', false],
    ['wrapping: just before its start', { from: '22:00', to: '07:00' }, '2024-06-04T21:59:00Z', false],
    ['from = to is the whole day', { from: '08:00', to: '08:00' }, '2024-06-04T03:00:00Z', true],
    ['an unreadable window never matches', { from: '25:00', to: '07:00' }, '2024-06-04T03:00:00Z', false],
    ['an unreadable end never matches', { from: '00:00', to: '7h' }, '2024-06-04T03:00:00Z', false],
  ])('%s', (_label, timeOfDay, iso, expected) => {
    expect(matchesAt({ timeOfDay }, iso, 'UTC')).toBe(expected);
  });

  it("reads the window on the owner's wall clock", () => {
    // 12:30 UTC is 08:30 in New York (EDT) and 21:30 in Tokyo.
    expect(matchesAt({ timeOfDay: { from: '08:00', to: '09:00' } }, '2024-06-03T12:30:00Z', 'America/New_York')).toBe(true);
    expect(matchesAt({ timeOfDay: { from: '08:00', to: '09:00' } }, '2024-06-03T12:30:00Z', 'Asia/Tokyo')).toBe(false);
    expect(matchesAt({ timeOfDay: { from: '21:00', to: '22:00' } }, '2024-06-03T12:30:00Z', 'Asia/Tokyo')).toBe(true);
  });

  it('reads an unknown time zone as UTC', () => {
    expect(matchesAt({ timeOfDay: { from: '12:00', to: '13:00' } }, '2024-06-03T12:30:00Z', 'Mars/Olympus_Mons')).toBe(true);
  });
});

describe('DST changes', () => {
  // Europe/Paris: 2024-03-31 02:00 CET → 03:00 CEST (01:00 UTC); 2024-10-27 03:00 CEST → 02:00 CET (01:00 UTC).
  // America/New_York: 2024-03-10 02:00 EST → 03:00 EDT (07:00 UTC); 2024-11-03 02:00 EDT → 01:00 EST (06:00 UTC).
  it.each([
    ['Paris spring forward, 02:30 local does not exist: 01:30 UTC is 03:30 CEST', 'Europe/Paris', { from: '02:30', to: '03:30' }, '2024-03-31T01:30:00Z', false],
    ['Paris spring forward: 01:00 UTC is 03:00 CEST, inside 02:30–03:30', 'Europe/Paris', { from: '02:30', to: '03:30' }, '2024-03-31T01:00:00Z', true],
    ['Paris spring forward: 00:59 UTC is 01:59 CET, outside 02:30–03:30', 'Europe/Paris', { from: '02:30', to: '03:30' }, '2024-03-31T00:59:00Z', false],
    ['Paris fall back: first 02:40 (CEST, 00:40 UTC)', 'Europe/Paris', { from: '02:30', to: '02:45' }, '2024-10-27T00:40:00Z', true],
    ['Paris fall back: second 02:40 (CET, 01:40 UTC)', 'Europe/Paris', { from: '02:30', to: '02:45' }, '2024-10-27T01:40:00Z', true],
    ['New York spring forward: 07:15 UTC is 03:15 EDT', 'America/New_York', { from: '02:30', to: '03:30' }, '2024-03-10T07:15:00Z', true],
    ['New York spring forward: 06:45 UTC is 01:45 EST', 'America/New_York', { from: '02:30', to: '03:30' }, '2024-03-10T06:45:00Z', false],
    ['New York fall back: first 01:30 (EDT, 05:30 UTC)', 'America/New_York', { from: '01:00', to: '02:00' }, '2024-11-03T05:30:00Z', true],
    ['New York fall back: second 01:30 (EST, 06:30 UTC)', 'America/New_York', { from: '01:00', to: '02:00' }, '2024-11-03T06:30:00Z', true],
  ])('%s', (_label, timezone, timeOfDay, iso, expected) => {
    expect(matchesAt({ timeOfDay }, iso, timezone)).toBe(expected);
  });

  it.each([
    ['a window inside the skipped hour never matches (Paris)', 'Europe/Paris', { from: '02:00', to: '02:59' }, '2024-03-31T00:00:00Z', 24, 0],
    ['02:30–03:30 lasts 30 minutes on the spring-forward day (Paris)', 'Europe/Paris', { from: '02:30', to: '03:30' }, '2024-03-31T00:00:00Z', 24, 30],
    ['02:30–02:45 occurs twice on the fall-back day (Paris)', 'Europe/Paris', { from: '02:30', to: '02:45' }, '2024-10-27T00:00:00Z', 24, 30],
    ['22:00–07:00 lasts 8 hours across the spring-forward night (Paris)', 'Europe/Paris', { from: '22:00', to: '07:00' }, '2024-03-30T20:00:00Z', 12, 8 * 60],
    ['22:00–07:00 lasts 10 hours across the fall-back night (Paris)', 'Europe/Paris', { from: '22:00', to: '07:00' }, '2024-10-26T19:00:00Z', 14, 10 * 60],
    ['02:30–03:30 lasts 30 minutes on the spring-forward day (New York)', 'America/New_York', { from: '02:30', to: '03:30' }, '2024-03-10T04:00:00Z', 24, 30],
    ['01:00–02:00 lasts 2 hours on the fall-back day (New York)', 'America/New_York', { from: '01:00', to: '02:00' }, '2024-11-03T04:00:00Z', 24, 120],
  ])('%s', (_label, timezone, timeOfDay, dayStart, hours, minutes) => {
    expect(matchingMinutes({ timeOfDay }, dayStart, timezone, hours)).toBe(minutes);
  });

  it('keeps days of the week on the local calendar across a DST change', () => {
    // 2024-03-31 is a Sunday in Paris from 23:00 UTC Saturday to 22:00 UTC Sunday (23 hours).
    expect(matchingMinutes({ daysOfWeek: [7] }, '2024-03-30T12:00:00Z', 'Europe/Paris', 48)).toBe(23 * 60);
  });
});

describe('days of the week and date ranges', () => {
  it.each([
    ['Monday is 1', [1], '2024-06-03T12:00:00Z', 'UTC', true],
    ['Sunday is 7', [7], '2024-06-02T12:00:00Z', 'UTC', true],
    ['Sunday is not 0', [0], '2024-06-02T12:00:00Z', 'UTC', false],
    ['a weekday list', [1, 2, 3, 4, 5], '2024-06-01T12:00:00Z', 'UTC', false],
    ['the local day counts: Sunday 20:00 UTC is Monday in Tokyo', [1], '2024-06-02T20:00:00Z', 'Asia/Tokyo', true],
    ['the local day counts: and not Sunday there', [7], '2024-06-02T20:00:00Z', 'Asia/Tokyo', false],
    ['an empty list does not constrain', [], '2024-06-02T20:00:00Z', 'UTC', true],
  ])('%s', (_label, daysOfWeek, iso, timezone, expected) => {
    expect(matchesAt({ daysOfWeek }, iso, timezone)).toBe(expected);
  });

  it.each([
    ['first day included', '2024-12-24T00:00:00Z', 'UTC', true],
    ['last day included', '2024-12-26T23:59:59Z', 'UTC', true],
    ['day before', '2024-12-23T23:59:59Z', 'UTC', false],
    ['day after', '2024-12-27T00:00:00Z', 'UTC', false],
    ['local date: 23:30 UTC on the 23rd is the 24th in Paris', '2024-12-23T23:30:00Z', 'Europe/Paris', true],
    ['local date: 23:30 UTC on the 26th is the 27th in Paris', '2024-12-26T23:30:00Z', 'Europe/Paris', false],
  ])('date range %s', (_label, iso, timezone, expected) => {
    expect(matchesAt({ dateRange: { from: '2024-12-24', to: '2024-12-26' } }, iso, timezone)).toBe(expected);
  });

  it('never matches an unreadable date range', () => {
    expect(matchesAt({ dateRange: { from: '24/12/2024', to: '2024-12-26' } }, '2024-12-25T12:00:00Z', 'UTC')).toBe(false);
  });
});

describe('callers and combined conditions', () => {
  it.each([
    ['a listed caller', { callers: [ALICE, CAROL] }, ALICE, true],
    ['an unlisted caller', { callers: [CAROL] }, ALICE, false],
    ['an empty list does not constrain', { callers: [] }, ALICE, true],
    ['all conditions must hold: caller yes, day no', { callers: [ALICE], daysOfWeek: [2] }, ALICE, false],
    ['all conditions must hold: caller and day', { callers: [ALICE], daysOfWeek: [1] }, ALICE, true],
  ])('%s', (_label, conditions, viewer, expected) => {
    expect(matchesAt(conditions, '2024-06-03T12:00:00Z', 'UTC', viewer)).toBe(expected);
  });
});

describe('specificity', () => {
  it.each([
    [{}, 0],
    [{ timeOfDay: { from: '08:00', to: '09:00' } }, 1],
    [{ daysOfWeek: [1] }, 2],
    [{ dateRange: { from: '2024-01-01', to: '2024-01-02' } }, 4],
    [{ callers: [ALICE] }, 8],
    [{ callers: [], timeOfDay: { from: '08:00', to: '09:00' } }, 1],
    [{ daysOfWeek: [1], timeOfDay: { from: '08:00', to: '09:00' }, dateRange: { from: '2024-01-01', to: '2024-01-02' } }, 7],
  ])('%j scores %i', (conditions, score) => {
    expect(specificity(conditions)).toBe(score);
  });

  it('ranks a caller-specific rule above any rule without callers', () => {
    const callerOnly = specificity({ callers: [ALICE] });
    const everythingElse = specificity({ dateRange: { from: '2024-01-01', to: '2024-01-02' }, daysOfWeek: [1], timeOfDay: { from: '08:00', to: '09:00' } });
    expect(callerOnly).toBeGreaterThan(everythingElse);
  });
});

describe('candidate order', () => {
  const at = new Date('2024-06-03T12:00:00Z'); // Monday noon UTC
  const order = (prefs: Parameters<typeof orderedCandidates>[0], viewer = ALICE) =>
    orderedCandidates(prefs, viewer, at).map((c) => (c.source.kind === 'rule' ? c.source.ruleId : 'default'));

  it.each([
    ['lowest priority first', [rule('a', { resourceId: 'r1' }, { priority: 20 }), rule('b', { resourceId: 'r2' }, { priority: 5 })], ['b', 'a']],
    [
      'on a tie, caller-specific before time-only',
      [rule('time', { resourceId: 'r1' }, { conditions: { timeOfDay: { from: '11:00', to: '13:00' } } }), rule('caller', { resourceId: 'r2' }, { conditions: { callers: [ALICE] } })],
      ['caller', 'time'],
    ],
    [
      'on a tie, date range before days of the week before time of day before nothing',
      [
        rule('none', { resourceId: 'r0' }),
        rule('time', { resourceId: 'r1' }, { conditions: { timeOfDay: { from: '11:00', to: '13:00' } } }),
        rule('days', { resourceId: 'r2' }, { conditions: { daysOfWeek: [1] } }),
        rule('dates', { resourceId: 'r3' }, { conditions: { dateRange: { from: '2024-06-01', to: '2024-06-30' } } }),
      ],
      ['dates', 'days', 'time', 'none'],
    ],
    ['priority beats specificity', [rule('caller', { resourceId: 'r1' }, { priority: 2, conditions: { callers: [ALICE] } }), rule('plain', { resourceId: 'r2' }, { priority: 1 })], ['plain', 'caller']],
    ['equal priority and specificity: by rule id', [rule('zz', { resourceId: 'r1' }), rule('aa', { resourceId: 'r2' }), rule('mm', { resourceId: 'r3' })], ['aa', 'mm', 'zz']],
    ['disabled rules are left out', [rule('off', { resourceId: 'r1' }, { priority: 1, enabled: false }), rule('on', { resourceId: 'r2' })], ['on']],
    ['rules whose conditions fail are left out', [rule('bob-only', { resourceId: 'r1' }, { conditions: { callers: [BOB] } }), rule('tuesday', { resourceId: 'r2' }, { conditions: { daysOfWeek: [2] } })], []],
  ])('%s', (_label, rules, expected) => {
    expect(order(preferences({ rules }))).toEqual(expected);
  });

  it('puts the default after every rule, and offers nothing without rules or default', () => {
    expect(order(preferences({ rules: [rule('a', { resourceId: 'r1' })], default: { resourceId: 'r9' } }))).toEqual(['a', 'default']);
    expect(order(preferences({ default: { boxId: 'b1' } }))).toEqual(['default']);
    expect(order(preferences())).toEqual([]);
  });
});

describe('the wall clock, read once per zone and minute', () => {
  it('is what luxon reads for any instant, including the seconds around a minute or a DST change', () => {
    const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Not/AZone'];
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2060-01-01T00:00:00Z') }), fc.constantFrom(...zones), (ms, zone) => {
        const minute = ms - (ms % 60_000);
        for (const at of [ms, minute, minute + 59_999, minute - 1, minute + 60_000]) {
          const zoned = DateTime.fromMillis(at, { zone });
          const local = zoned.isValid ? zoned : DateTime.fromMillis(at, { zone: 'utc' });
          expect(localClock(new Date(at), zone)).toEqual({ minutes: local.hour * 60 + local.minute, weekday: local.weekday, date: local.toISODate() });
        }
      }),
      { numRuns: 500 },
    );
  });
});
