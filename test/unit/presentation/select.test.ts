import { describe, expect, it } from 'vitest';
import type { Box, FilterRule, LibraryEntry, Preferences, Resource } from '../../../src/domain/types.js';
import { catalogNeeds, selectPresentation, type OwnerData, type SelectionInput } from '../../../src/presentation/select.js';
import { ALICE, BOB, CAROL, box, entry, preferences, resource, rule, seededRandom } from '../../support/presentation-fixtures.js';

const AT = new Date('2024-06-03T12:00:00Z'); // Monday noon UTC

/** The catalog every case draws from. */
const CATALOG: Resource[] = [
  resource('r1'),
  resource('r2'),
  resource('r3'),
  resource('r4'),
  resource('rock', { categories: ['rock'] }),
  resource('mature', { rating: 'mature' }),
  resource('video', { type: 'video', mimeType: 'video/mp4' }),
  resource('indie', { provider: 'indie-label' }),
  resource('gone', { status: 'withdrawn' }),
];
const CATALOG_BOXES: Box[] = [box('cb', ['r1', 'r2', 'r3']), box('cb-random', ['r1', 'r2', 'r3', 'r4'], { mode: 'random' })];

interface Case {
  prefs?: Partial<Preferences>;
  library?: LibraryEntry[];
  boxes?: Box[];
  filters?: FilterRule[];
  viewer?: typeof ALICE;
  rotation?: number;
  at?: Date;
}

/** BOB presents to the viewer (ALICE unless told); by default BOB holds r1…r4 and nothing else. */
function select(c: Case) {
  const owner: OwnerData = {
    identity: BOB,
    preferences: preferences(c.prefs),
    library: c.library ?? ['r1', 'r2', 'r3', 'r4'].map((id) => entry(id)),
    boxes: c.boxes ?? [],
  };
  const input: SelectionInput = {
    owner,
    viewer: { identity: c.viewer ?? ALICE, filters: c.filters ?? [] },
    catalog: { resources: new Map(CATALOG.map((r) => [r.id, r])), boxes: new Map(CATALOG_BOXES.map((b) => [b.id, b])) },
    at: c.at ?? AT,
    rotation: c.rotation ?? 0,
    random: () => 0,
  };
  return selectPresentation(input);
}

const presentedIds = (c: Case) => select(c).presented.map((p) => p.resourceId);

describe('selectPresentation: candidates', () => {
  it.each<[string, Case, string[]]>([
    ['the default when no rule matches', { prefs: { default: { resourceId: 'r1' }, rules: [rule('carol', { resourceId: 'r2' }, { conditions: { callers: [CAROL] } })] } }, ['r1']],
    ['nothing without rules or default', {}, []],
    ['the matching rule before the default', { prefs: { default: { resourceId: 'r1' }, rules: [rule('any', { resourceId: 'r2' })] } }, ['r2']],
    [
      'the lowest priority among matching rules',
      { prefs: { rules: [rule('high', { resourceId: 'r1' }, { priority: 50 }), rule('low', { resourceId: 'r2' }, { priority: 1 })] } },
      ['r2'],
    ],
    [
      'on a priority tie, the caller-specific rule',
      {
        prefs: {
          rules: [
            rule('a-time', { resourceId: 'r1' }, { conditions: { timeOfDay: { from: '11:00', to: '13:00' } } }),
            rule('z-caller', { resourceId: 'r2' }, { conditions: { callers: [ALICE] } }),
          ],
        },
      },
      ['r2'],
    ],
    ['a disabled rule is ignored', { prefs: { default: { resourceId: 'r1' }, rules: [rule('off', { resourceId: 'r2' }, { enabled: false })] } }, ['r1']],
    ['a rule for another caller is ignored', { prefs: { default: { resourceId: 'r1' }, rules: [rule('carol', { resourceId: 'r2' }, { conditions: { callers: [CAROL] } })] } }, ['r1']],
    [
      'a time rule applies inside its window only',
      { prefs: { timezone: 'Europe/Paris', default: { resourceId: 'r1' }, rules: [rule('night', { resourceId: 'r2' }, { conditions: { timeOfDay: { from: '22:00', to: '07:00' } } })] }, at: new Date('2024-06-03T21:30:00Z') },
      ['r2'],
    ],
    [
      'a time rule outside its window falls to the default',
      { prefs: { timezone: 'Europe/Paris', default: { resourceId: 'r1' }, rules: [rule('night', { resourceId: 'r2' }, { conditions: { timeOfDay: { from: '22:00', to: '07:00' } } })] }, at: new Date('2024-06-03T19:30:00Z') },
      ['r1'],
    ],
  ])('presents %s', (_label, c, expected) => {
    expect(presentedIds(c)).toEqual(expected);
  });

  it('presents the resource with its content URI and says which candidate gave it', () => {
    expect(select({ prefs: { rules: [rule('any', { resourceId: 'r2' })] } })).toEqual({
      presented: [{ resourceId: 'r2', contentUri: 'https://media.example.net/tones/r2.mp3' }],
      source: { kind: 'rule', ruleId: 'any' },
    });
    expect(select({ prefs: { default: { resourceId: 'r1' } } }).source).toEqual({ kind: 'default' });
    expect(select({}).source).toEqual({ kind: 'none', reason: 'no-candidate' });
  });
});

describe('selectPresentation: only active entries of available resources', () => {
  const prefs = { rules: [rule('first', { resourceId: 'r2' }, { priority: 1 })], default: { resourceId: 'r1' } };
  it.each<[string, LibraryEntry[], string[]]>([
    ['an active entry is presented', [entry('r1'), entry('r2')], ['r2']],
    ['an expired entry (past expiresAt) is skipped', [entry('r1'), entry('r2', { expiresAt: '2024-06-03T11:59:59.999Z' })], ['r1']],
    ['an entry expiring exactly now is skipped', [entry('r1'), entry('r2', { expiresAt: AT.toISOString() })], ['r1']],
    ['an entry marked expired is skipped', [entry('r1'), entry('r2', { status: 'expired' })], ['r1']],
    ['a cancelled entry is skipped', [entry('r1'), entry('r2', { status: 'cancelled' })], ['r1']],
    ['a resource not in the library is skipped', [entry('r1')], ['r1']],
    ['one active entry among dead ones is enough', [entry('r1'), entry('r2', { id: 'old', status: 'cancelled' }), entry('r2', { id: 'new' })], ['r2']],
    ['nothing when no candidate is held', [entry('r3')], []],
  ])('%s', (_label, library, expected) => {
    expect(presentedIds({ prefs, library })).toEqual(expected);
  });

  it('skips a withdrawn resource and one missing from the catalog', () => {
    const library = [entry('gone'), entry('unknown'), entry('r1')];
    const rules = [rule('a', { resourceId: 'gone' }, { priority: 1 }), rule('b', { resourceId: 'unknown' }, { priority: 2 })];
    expect(presentedIds({ prefs: { rules, default: { resourceId: 'r1' } }, library })).toEqual(['r1']);
    expect(select({ prefs: { rules }, library }).source).toEqual({ kind: 'none', reason: 'nothing-usable' });
  });
});

describe("selectPresentation: the viewer's filters", () => {
  const library = ['r1', 'rock', 'mature', 'video', 'indie'].map((id) => entry(id));
  const chain = (first: string) => ({ rules: [rule('first', { resourceId: first }, { priority: 1 })], default: { resourceId: 'r1' } });

  it.each<[string, string, FilterRule[], string[]]>([
    ['by category', 'rock', [{ id: 'f', categories: ['rock', 'metal'] }], ['r1']],
    ['by rating', 'mature', [{ id: 'f', ratings: ['mature'] }], ['r1']],
    ['by type', 'video', [{ id: 'f', types: ['video'] }], ['r1']],
    ['by provider', 'indie', [{ id: 'f', providers: ['indie-label'] }], ['r1']],
    ['by owner (everything the owner presents)', 'rock', [{ id: 'f', owners: [BOB] }], []],
    ['not when the criterion does not match', 'rock', [{ id: 'f', categories: ['jazz'] }], ['rock']],
    ['not when another owner is refused', 'rock', [{ id: 'f', owners: [CAROL] }], ['rock']],
    ['only when every criterion of a rule matches', 'mature', [{ id: 'f', ratings: ['mature'], providers: ['indie-label'] }], ['mature']],
    ['when all criteria of a rule match', 'indie', [{ id: 'f', ratings: ['general'], providers: ['indie-label'] }], ['r1']],
    ['when any of several rules matches', 'video', [{ id: 'f1', categories: ['jazz'] }, { id: 'f2', types: ['video'] }], ['r1']],
    ['never by a rule without criteria', 'rock', [{ id: 'f' }], ['rock']],
  ])('refuses %s, falling through to the next candidate', (_label, first, filters, expected) => {
    expect(presentedIds({ prefs: chain(first), library, filters })).toEqual(expected);
  });

  it('applies the filters of the viewer, not those of the owner', () => {
    const prefs = { ...chain('rock'), filters: [{ id: 'own', categories: ['rock'] }] };
    expect(presentedIds({ prefs, library })).toEqual(['rock']);
  });
});

describe('selectPresentation: privacy', () => {
  it('presents nothing to a blocked viewer, default included', () => {
    const prefs = { default: { resourceId: 'r1' }, privacy: { copy: 'everyone' as const, contacts: [], blocked: [ALICE], gifts: 'everyone' as const } };
    expect(select({ prefs })).toEqual({ presented: [], source: { kind: 'none', reason: 'blocked' } });
    expect(presentedIds({ prefs, viewer: CAROL })).toEqual(['r1']);
  });
});

describe('selectPresentation: boxes', () => {
  const personal = box('pb', ['r1', 'r2', 'r3']);

  it.each<[number, string]>([
    [0, 'r1'],
    [1, 'r2'],
    [2, 'r3'],
    [3, 'r1'],
    [7, 'r2'],
    [-1, 'r3'],
  ])('a sequential box at rotation %i presents %s', (rotation, expected) => {
    expect(presentedIds({ prefs: { default: { boxId: 'pb' } }, boxes: [personal], rotation })).toEqual([expected]);
  });

  it('rotates a sequential box through every usable item in order', () => {
    const sequence = [0, 1, 2, 3, 4, 5].map((rotation) => presentedIds({ prefs: { default: { boxId: 'pb' } }, boxes: [personal], rotation })[0]);
    expect(sequence).toEqual(['r1', 'r2', 'r3', 'r1', 'r2', 'r3']);
  });

  it('rotates only through the items the owner may present', () => {
    const withGaps = box('pb', ['r1', 'gone', 'r9', 'r3']);
    const sequence = [0, 1, 2].map((rotation) => presentedIds({ prefs: { default: { boxId: 'pb' } }, boxes: [withGaps], rotation })[0]);
    expect(sequence).toEqual(['r1', 'r3', 'r1']);
  });

  it('skips a filtered item of a sequential box to the next one', () => {
    const library = ['r1', 'rock', 'r3'].map((id) => entry(id));
    const mixed = box('pb', ['r1', 'rock', 'r3']);
    expect(presentedIds({ prefs: { default: { boxId: 'pb' } }, boxes: [mixed], library, rotation: 1, filters: [{ id: 'f', categories: ['rock'] }] })).toEqual(['r3']);
  });

  it('falls through to the next candidate when every item of a box is filtered', () => {
    const library = ['rock', 'mature', 'r4'].map((id) => entry(id));
    const refused = box('pb', ['rock', 'mature'], { mode: 'random' });
    const filters = [{ id: 'f1', categories: ['rock'] }, { id: 'f2', ratings: ['mature' as const] }];
    const prefs = { rules: [rule('box', { boxId: 'pb' })], default: { resourceId: 'r4' } };
    expect(select({ prefs, boxes: [refused], library, filters })).toMatchObject({ presented: [{ resourceId: 'r4' }], source: { kind: 'default' } });
    expect(select({ prefs: { rules: prefs.rules }, boxes: [refused], library, filters }).source).toEqual({ kind: 'none', reason: 'nothing-usable' });
  });

  it('names the box in the source', () => {
    expect(select({ prefs: { rules: [rule('r', { boxId: 'pb' })] }, boxes: [personal] }).source).toEqual({ kind: 'rule', ruleId: 'r', boxId: 'pb' });
  });

  it('uses a catalog box only through entries linked to it', () => {
    const linked = ['r1', 'r2', 'r3'].map((id) => entry(id, { boxId: 'cb' }));
    expect(presentedIds({ prefs: { default: { boxId: 'cb' } }, library: linked, rotation: 1 })).toEqual(['r2']);
    // Holding the resources one by one does not give the right to the SP's box.
    expect(presentedIds({ prefs: { default: { boxId: 'cb' } } })).toEqual([]);
  });

  it('presents from a catalog box only the items its linked entries still cover', () => {
    const library = [entry('r1', { boxId: 'cb' }), entry('r2', { boxId: 'cb', status: 'cancelled' }), entry('r3', { boxId: 'cb' }), entry('r2')];
    const sequence = [0, 1, 2].map((rotation) => presentedIds({ prefs: { default: { boxId: 'cb' } }, library, rotation })[0]);
    expect(sequence).toEqual(['r1', 'r3', 'r1']);
  });

  it("prefers the owner's personal box to a catalog box of the same id", () => {
    const shadow = box('cb', ['r4']);
    expect(presentedIds({ prefs: { default: { boxId: 'cb' } }, boxes: [shadow] })).toEqual(['r4']);
  });

  it('presents nothing from a box it cannot find', () => {
    expect(select({ prefs: { default: { boxId: 'nowhere' } } }).source).toEqual({ kind: 'none', reason: 'nothing-usable' });
  });
});

describe('selectPresentation: random boxes', () => {
  const draw = (random: () => number, filters: FilterRule[] = [], library = ['r1', 'r2', 'r3', 'r4'].map((id) => entry(id, { boxId: 'cb-random' }))) =>
    selectPresentation({
      owner: { identity: BOB, preferences: preferences({ default: { boxId: 'cb-random' } }), library, boxes: [] },
      viewer: { identity: ALICE, filters },
      catalog: { resources: new Map(CATALOG.map((r) => [r.id, r])), boxes: new Map(CATALOG_BOXES.map((b) => [b.id, b])) },
      at: AT,
      rotation: 0,
      random,
    }).presented[0]?.resourceId;

  it('maps the random source onto the items uniformly, ends included', () => {
    expect([0, 0.24999, 0.25, 0.5, 0.75, 0.99999999].map((value) => draw(() => value))).toEqual(['r1', 'r1', 'r2', 'r3', 'r4', 'r4']);
  });

  it('draws fairly: 4,000 seeded draws pass a chi-square test', () => {
    const random = seededRandom(20240603);
    const counts = new Map<string, number>();
    const draws = 4000;
    for (let i = 0; i < draws; i++) {
      const id = draw(random)!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['r1', 'r2', 'r3', 'r4']);
    const expected = draws / 4;
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    // 3 degrees of freedom: P(χ² > 16.27) = 0.001 for a fair draw.
    expect(chiSquare).toBeLessThan(16.27);
  });

  it('detects an unfair source with the same test', () => {
    const biased = seededRandom(7);
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i++) {
      const id = draw(() => biased() ** 2)!;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - 1000) ** 2 / 1000, 0);
    expect(chiSquare).toBeGreaterThan(16.27);
  });

  it('draws only among the items the viewer accepts, still fairly', () => {
    const library = ['r1', 'rock', 'r3'].map((id) => entry(id, { boxId: 'mixed' }));
    const random = seededRandom(99);
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) {
      const id = selectPresentation({
        owner: { identity: BOB, preferences: preferences({ default: { boxId: 'mixed' } }), library, boxes: [] },
        viewer: { identity: ALICE, filters: [{ id: 'f', categories: ['rock'] }] },
        catalog: { resources: new Map(CATALOG.map((r) => [r.id, r])), boxes: new Map([['mixed', box('mixed', ['r1', 'rock', 'r3'], { mode: 'random' })]]) },
        at: AT,
        rotation: 0,
        random,
      }).presented[0]!.resourceId;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual(['r1', 'r3']);
    const chiSquare = [...counts.values()].reduce((sum, n) => sum + (n - 1000) ** 2 / 1000, 0);
    expect(chiSquare).toBeLessThan(10.83); // 1 degree of freedom, p = 0.001
  });
});

describe('selectPresentation: both directions', () => {
  it("selects from the caller's preferences what the called party sees", () => {
    // ALICE calls BOB: ALICE (owner) presents to BOB (viewer) with her rule for BOB.
    const result = selectPresentation({
      owner: { identity: ALICE, preferences: preferences({ rules: [rule('to-bob', { resourceId: 'r3' }, { conditions: { callers: [BOB] } })] }), library: [entry('r3')], boxes: [] },
      viewer: { identity: BOB, filters: [] },
      catalog: { resources: new Map(CATALOG.map((r) => [r.id, r])), boxes: new Map() },
      at: AT,
      rotation: 0,
      random: () => 0,
    });
    expect(result.presented.map((p) => p.resourceId)).toEqual(['r3']);
  });
});

describe('catalogNeeds', () => {
  const owner = (prefs: Partial<Preferences>, library: LibraryEntry[], boxes: Box[] = []): OwnerData => ({ identity: BOB, preferences: preferences(prefs), library, boxes });

  it('lists the held resources and linked catalog boxes of the matching candidates only', () => {
    const needs = catalogNeeds(
      owner(
        {
          rules: [
            rule('res', { resourceId: 'r1' }),
            rule('unheld', { resourceId: 'r9' }),
            rule('catalog-box', { boxId: 'cb' }),
            rule('unlinked-box', { boxId: 'cb-random' }),
            rule('carol-only', { resourceId: 'r4' }, { conditions: { callers: [CAROL] } }),
          ],
          default: { boxId: 'pb' },
        },
        [entry('r1'), entry('r2', { boxId: 'cb' }), entry('r3'), entry('r4'), entry('r5', { status: 'expired' })],
        [box('pb', ['r3', 'r5', 'r9'])],
      ),
      ALICE,
      AT,
    );
    expect({ resourceIds: needs.resourceIds.sort(), boxIds: needs.boxIds }).toEqual({ resourceIds: ['r1', 'r2', 'r3'], boxIds: ['cb'] });
  });

  it('needs nothing for a blocked viewer', () => {
    const blocked = owner({ default: { resourceId: 'r1' }, privacy: { copy: 'everyone', contacts: [], blocked: [ALICE], gifts: 'everyone' } }, [entry('r1')]);
    expect(catalogNeeds(blocked, ALICE, AT)).toEqual({ resourceIds: [], boxIds: [] });
  });
});
