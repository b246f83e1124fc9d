/** Domain objects for presentation tests; each test changes one thing at a time. */
import type { Identity } from '../../src/domain/identity.js';
import {
  defaultPreferences,
  type Box,
  type LibraryEntry,
  type Preferences,
  type PresentationRule,
  type Resource,
} from '../../src/domain/types.js';
import type { Services } from '../../src/wiring.js';
import { resourceBody } from './fixtures.js';

export const ALICE = 'tel:+15551230001' as Identity;
export const BOB = 'tel:+15551230002' as Identity;
export const CAROL = 'tel:+15551230003' as Identity;

export function resource(id: string, overrides: Partial<Resource> = {}): Resource {
  return {
    ...(resourceBody() as Omit<Resource, 'id' | 'status' | 'createdAt' | 'updatedAt'>),
    id,
    title: `Tone ${id}`,
    contentUri: `https://media.example.net/tones/${id}.mp3`,
    status: 'available',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** An active entry for `resourceId`, valid until 2100. */
export function entry(resourceId: string, overrides: Partial<LibraryEntry> = {}): LibraryEntry {
  return {
    id: `e-${resourceId}${overrides.boxId ? `-${overrides.boxId}` : ''}`,
    resourceId,
    origin: overrides.boxId ? 'box' : 'subscription',
    acquiredAt: '2024-01-01T00:00:00.000Z',
    expiresAt: '2100-01-01T00:00:00.000Z',
    autoRenew: false,
    status: 'active',
    ...overrides,
  };
}

export function box(id: string, resourceIds: string[], overrides: Partial<Box> = {}): Box {
  return {
    id,
    name: `Box ${id}`,
    resourceIds,
    mode: 'sequential',
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function rule(id: string, present: PresentationRule['present'], overrides: Partial<PresentationRule> = {}): PresentationRule {
  return { id, priority: 10, enabled: true, conditions: {}, present, ...overrides };
}

export function preferences(overrides: Partial<Preferences> = {}): Preferences {
  return { ...defaultPreferences(), ...overrides };
}

/** A small deterministic PRNG (mulberry32): uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes catalog entries through the stores, as the SP's API would. */
export async function seedCatalog(services: Services, resources: Resource[], boxes: Box[] = []): Promise<void> {
  for (const r of resources) await services.catalog.create(r);
  for (const b of boxes) await services.catalogBoxes.put(b);
}

/** Writes one user's service data through the stores, as the management API would. */
export async function seedUser(
  services: Services,
  uid: Identity,
  data: { preferences?: Partial<Preferences>; library?: LibraryEntry[]; boxes?: Box[] },
): Promise<void> {
  if (data.preferences) await services.users.putPreferences(uid, preferences(data.preferences));
  for (const e of data.library ?? []) await services.users.library(uid).put(e);
  for (const b of data.boxes ?? []) await services.users.boxes(uid).put({ ...b, owner: uid });
}
