/**
 * Values derived from one user's data (preferences, library, boxes), kept in the process under
 * the user's `dataVersion`, which every write to that data moves on in the same script or
 * transaction. A reader reads the version (a few bytes) and uses the kept value only when it is
 * the same, so it never answers from data older than the last write, on any instance.
 *
 * Bounded twice: at most `capacity` users (least recently used goes first), and nothing is kept
 * longer than `maxAgeMs` or past the value's own `validUntil` (a library entry expiring changes
 * what a read reports without any write), whatever the version says. A capacity of 0 keeps
 * nothing.
 */
import type { Identity } from '../domain/identity.js';

/** The longest a value is kept, whatever its version says: a guard against writes made around the stores (by hand). */
export const KEPT_MAX_AGE_MS = 10_000;

export interface Kept<T> {
  version: string | null;
  value: T;
}

interface Entry<T> extends Kept<T> {
  /** Epoch ms after which the value is not used. */
  until: number;
}

export class KeptByVersion<T> {
  /** Insertion-ordered: the first entry is the least recently used. */
  private readonly entries = new Map<Identity, Entry<T>>();

  constructor(
    private readonly capacity: number,
    private readonly maxAgeMs = KEPT_MAX_AGE_MS,
  ) {}

  get enabled(): boolean {
    return this.capacity > 0;
  }

  /** The kept value of `uid` still in date at `now`, whatever its version (the caller compares it). */
  get(uid: Identity, now = Date.now()): Kept<T> | undefined {
    const entry = this.entries.get(uid);
    if (!entry) return undefined;
    this.entries.delete(uid);
    if (now >= entry.until) return undefined;
    this.entries.set(uid, entry);
    return entry;
  }

  /** Keeps `value`, read at `version`, until `validUntil` (epoch ms) at the latest. */
  set(uid: Identity, version: string | null, value: T, validUntil = Infinity, now = Date.now()): void {
    if (!this.enabled) return;
    this.entries.delete(uid);
    this.entries.set(uid, { version, value, until: Math.min(validUntil, now + this.maxAgeMs) });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
