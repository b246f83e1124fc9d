/**
 * The presentation engine: what one party (the owner) presents to the other (the viewer) on a
 * call. Pure: the data, the instant, the rotation position and the random source are given, so
 * every branch is testable and the same call always selects the same way.
 *
 * It serves both directions of a call: owner = called, viewer = caller gives what the caller
 * sees; owner = caller, viewer = called gives what the called party sees.
 *
 * 1. A viewer on the owner's `privacy.blocked` list is presented nothing.
 * 2. Candidates, best first: matching rules, then the default (see `orderedCandidates`).
 * 3. A candidate's target is a resource or a box. Only resources the owner holds through an
 *    active, unexpired library entry, and that the catalog has `available`, are ever presented.
 *    A personal box (the owner's own) offers the box's resources the owner holds; a catalog box
 *    is usable only through the owner's entries linked to it (`boxId`) and offers those.
 * 4. A box presents one resource per call: `sequential` starts at the rotation position among
 *    its usable resources, `random` draws uniformly among the usable ones the viewer accepts.
 * 5. A resource the viewer's filters refuse is skipped: next item of the box, then next
 *    candidate. When nothing is left, nothing is presented (the network's plain ringback).
 */
import type { Identity } from '../domain/identity.js';
import type { Box, FilterRule, LibraryEntry, Preferences, PresentedResource, PresentTarget, Resource } from '../domain/types.js';
import { refuses } from './filters.js';
import { orderedCandidates, type CandidateSource } from './rules.js';

/** What selection needs of the presenting party. */
export interface OwnerData {
  identity: Identity;
  preferences: Preferences;
  library: readonly LibraryEntry[];
  /** The owner's personal boxes. */
  boxes: readonly Box[];
}

export interface Viewer {
  identity: Identity;
  filters: readonly FilterRule[];
}

/** The catalog entries selection may look at (see `catalogNeeds`). */
export interface CatalogView {
  resources: ReadonlyMap<string, Resource>;
  boxes: ReadonlyMap<string, Box>;
}

export interface SelectionInput {
  owner: OwnerData;
  viewer: Viewer;
  catalog: CatalogView;
  at: Date;
  /** Rotation position of sequential boxes: any integer, taken modulo the box's length. */
  rotation: number;
  /** Uniform in [0, 1): draws the item of a random box. */
  random: () => number;
}

export type PresentationSource =
  | { kind: 'rule'; ruleId: string; boxId?: string }
  | { kind: 'default'; boxId?: string }
  | { kind: 'none'; reason: 'blocked' | 'no-candidate' | 'nothing-usable' };

export interface Presentation {
  presented: PresentedResource[];
  /** Which candidate gave the presentation, or why there is none. */
  source: PresentationSource;
}

export function selectPresentation(input: SelectionInput): Presentation {
  const { owner, viewer, catalog } = input;
  if (isBlocked(owner.preferences, viewer.identity)) return nothing('blocked');
  const candidates = orderedCandidates(owner.preferences, viewer.identity, input.at);
  if (candidates.length === 0) return nothing('no-candidate');

  const holdings = new Holdings(owner.library, input.at);
  const personalBoxes = new Map(owner.boxes.map((box) => [box.id, box]));
  const available = (id: string): Resource | null => {
    const resource = catalog.resources.get(id);
    return resource?.status === 'available' ? resource : null;
  };
  const accepted = (resource: Resource): boolean => !refuses(viewer.filters, resource, owner.identity);

  for (const candidate of candidates) {
    const target = candidate.target;
    if ('resourceId' in target) {
      const resource = holdings.holds(target.resourceId) ? available(target.resourceId) : null;
      if (resource && accepted(resource)) return presenting(resource, candidate.source);
      continue;
    }
    const box = personalBoxes.get(target.boxId) ?? catalog.boxes.get(target.boxId);
    if (!box) continue;
    const usable = boxItems(box, personalBoxes.has(box.id), holdings)
      .map(available)
      .filter((resource): resource is Resource => resource !== null);
    const resource = box.mode === 'sequential' ? nextInRotation(usable, input.rotation, accepted) : randomDraw(usable.filter(accepted), input.random);
    if (resource) return presenting(resource, candidate.source, box.id);
  }
  return nothing('nothing-usable');
}

/**
 * The catalog resources and boxes selection may look at for this owner and viewer at `at`, so a
 * caller can read exactly those in one round trip before selecting. Only what the owner holds
 * actively is listed; for a catalog box, the resources the owner's entries link to it.
 */
export function catalogNeeds(owner: OwnerData, viewer: Identity, at: Date): { resourceIds: string[]; boxIds: string[] } {
  const resourceIds = new Set<string>();
  const boxIds = new Set<string>();
  if (isBlocked(owner.preferences, viewer)) return { resourceIds: [], boxIds: [] };
  const holdings = new Holdings(owner.library, at);
  const personalBoxes = new Map(owner.boxes.map((box) => [box.id, box]));
  for (const { target } of orderedCandidates(owner.preferences, viewer, at)) {
    const ids = heldIdsOf(target, personalBoxes, holdings);
    if ('boxId' in target && !personalBoxes.has(target.boxId) && ids.length > 0) boxIds.add(target.boxId);
    for (const id of ids) resourceIds.add(id);
  }
  return { resourceIds: [...resourceIds], boxIds: [...boxIds] };
}

/** An entry gives its holder the right to present its resource while active and unexpired. */
export function isActiveEntry(entry: LibraryEntry, at: Date): boolean {
  return entry.status === 'active' && Date.parse(entry.expiresAt) > at.getTime();
}

/** The owner's active entries: which resources are held, and which are linked to which box. */
class Holdings {
  private readonly held = new Set<string>();
  private readonly byBox = new Map<string, Set<string>>();

  constructor(library: readonly LibraryEntry[], at: Date) {
    for (const entry of library) {
      if (!isActiveEntry(entry, at)) continue;
      this.held.add(entry.resourceId);
      if (entry.boxId === undefined) continue;
      const linked = this.byBox.get(entry.boxId) ?? new Set<string>();
      linked.add(entry.resourceId);
      this.byBox.set(entry.boxId, linked);
    }
  }

  holds(resourceId: string): boolean {
    return this.held.has(resourceId);
  }

  linkedTo(boxId: string): ReadonlySet<string> {
    return this.byBox.get(boxId) ?? new Set();
  }
}

/** The resources of `box` the owner may present, in the box's order, each once. */
function boxItems(box: Box, personal: boolean, holdings: Holdings): string[] {
  const linked = holdings.linkedTo(box.id);
  const mayPresent = personal ? (id: string) => holdings.holds(id) : (id: string) => linked.has(id);
  return [...new Set(box.resourceIds)].filter(mayPresent);
}

/** Held resource ids a target may present, before the catalog is known. */
function heldIdsOf(target: PresentTarget, personalBoxes: ReadonlyMap<string, Box>, holdings: Holdings): string[] {
  if ('resourceId' in target) return holdings.holds(target.resourceId) ? [target.resourceId] : [];
  const personal = personalBoxes.get(target.boxId);
  if (personal) return boxItems(personal, true, holdings);
  return [...holdings.linkedTo(target.boxId)];
}

/** The item at the rotation position, or the next one the viewer accepts. */
function nextInRotation(items: readonly Resource[], rotation: number, accepted: (r: Resource) => boolean): Resource | null {
  if (items.length === 0) return null;
  const start = ((rotation % items.length) + items.length) % items.length;
  for (let step = 0; step < items.length; step++) {
    const item = items[(start + step) % items.length]!;
    if (accepted(item)) return item;
  }
  return null;
}

function randomDraw(items: readonly Resource[], random: () => number): Resource | null {
  if (items.length === 0) return null;
  return items[Math.min(items.length - 1, Math.floor(random() * items.length))]!;
}

function isBlocked(preferences: Preferences, viewer: Identity): boolean {
  return preferences.privacy.blocked.includes(viewer);
}

function presenting(resource: Resource, source: CandidateSource, boxId?: string): Presentation {
  return {
    presented: [{ resourceId: resource.id, contentUri: resource.contentUri }],
    source: boxId === undefined ? source : { ...source, boxId },
  };
}

function nothing(reason: 'blocked' | 'no-candidate' | 'nothing-usable'): Presentation {
  return { presented: [], source: { kind: 'none', reason } };
}
