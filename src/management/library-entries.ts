/**
 * Library entries as the management API sees them. Pure: the instant is given.
 *
 * An entry whose `expiresAt` has passed is expired even before the sweeper writes it so: reads
 * report that effective status, and only active, unexpired entries count as held (the same test
 * the presentation engine applies, `isActiveEntry`).
 */
import type { Identity } from '../domain/identity.js';
import type { EntryOrigin, EntryStatus, LibraryEntry, Resource } from '../domain/types.js';
import { isActiveEntry } from '../presentation/select.js';

const DAY_MS = 86_400_000;

export function effectiveStatus(entry: LibraryEntry, at: Date): EntryStatus {
  return entry.status === 'active' && !isActiveEntry(entry, at) ? 'expired' : entry.status;
}

/** The entry as reported at `at`: an active entry past its expiry reads as expired. */
export function asOf(entry: LibraryEntry, at: Date): LibraryEntry {
  const status = effectiveStatus(entry, at);
  return status === entry.status ? entry : { ...entry, status };
}

/** Newest first: by acquisition time, then by id (ids are time-ordered). */
export function newestFirst(a: LibraryEntry, b: LibraryEntry): number {
  if (a.acquiredAt !== b.acquiredAt) return a.acquiredAt < b.acquiredAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/** The user's library as reported at `at`, newest first, optionally of one status. */
export function libraryView(entries: readonly LibraryEntry[], at: Date, status?: EntryStatus): LibraryEntry[] {
  return entries
    .map((entry) => asOf(entry, at))
    .filter((entry) => status === undefined || entry.status === status)
    .sort(newestFirst);
}

export function holdsActively(library: readonly LibraryEntry[], resourceId: string, at: Date): boolean {
  return library.some((entry) => entry.resourceId === resourceId && isActiveEntry(entry, at));
}

export function daysAfter(from: Date, days: number): string {
  return new Date(from.getTime() + days * DAY_MS).toISOString();
}

/** A new active entry for `resource`, acquired at `now` and valid for `validityDays`. */
export function newEntry(fields: {
  id: string;
  resource: Resource;
  origin: EntryOrigin;
  now: Date;
  chargeId: string;
  autoRenew?: boolean;
  from?: Identity;
  boxId?: string;
  validityDays?: number;
}): LibraryEntry {
  return {
    id: fields.id,
    resourceId: fields.resource.id,
    origin: fields.origin,
    ...(fields.from ? { from: fields.from } : {}),
    ...(fields.boxId ? { boxId: fields.boxId } : {}),
    acquiredAt: fields.now.toISOString(),
    expiresAt: daysAfter(fields.now, fields.validityDays ?? fields.resource.validityDays),
    autoRenew: fields.autoRenew ?? false,
    status: 'active',
    chargeId: fields.chargeId,
  };
}
