/**
 * The global index of library entries by the time the sweeper should look at them, so it never
 * scans users. An entry is due at its expiry, or `renewAhead` before it when it renews itself.
 *
 * The index lives in its own hash slot, apart from the entries, so it cannot be written in the
 * same script as them. It is therefore kept on the safe side: an entry is tracked before it is
 * written (a refused action leaves a member naming nothing, dropped when due), and a score is only
 * ever moved earlier by writers (`ZADD LT`); the sweeper, reading the entry itself, sets the exact
 * due time. The index may name entries too early or entries that are gone, never miss one.
 */
import type { Identity } from '../domain/identity.js';
import type { LibraryEntry } from '../domain/types.js';
import type { Keys } from '../store/keys.js';
import { storeCall, type RedisClient } from '../store/redis.js';

export interface TrackedEntry {
  user: Identity;
  entryId: string;
}

export class ExpiryIndex {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    /** How long before its expiry an auto-renewing entry is renewed. */
    readonly renewAheadMs: number,
  ) {}

  /** When the sweeper should look at the entry. */
  dueAt(entry: LibraryEntry): number {
    return Date.parse(entry.expiresAt) - (entry.autoRenew ? this.renewAheadMs : 0);
  }

  /** Tracks entries about to be written (created, renewed, set to renew): adds each, or moves it earlier. */
  async track(user: Identity, ...entries: LibraryEntry[]): Promise<void> {
    const scored = entries.flatMap((entry) => [this.dueAt(entry), member({ user, entryId: entry.id })]);
    await storeCall(() => this.redis.zadd(this.keys.expiryIndex, 'LT', ...scored));
  }

  /** Sets the exact due time of a tracked entry, read just now (no-op if it was dropped meanwhile). */
  async reschedule(item: TrackedEntry, dueAt: number): Promise<void> {
    await storeCall(() => this.redis.zadd(this.keys.expiryIndex, 'XX', dueAt, member(item)));
  }

  async forget(item: TrackedEntry): Promise<void> {
    await storeCall(() => this.redis.zrem(this.keys.expiryIndex, member(item)));
  }

  /** Entries due by `now` (ms), earliest first. */
  async due(now: number, limit: number): Promise<TrackedEntry[]> {
    const members = await storeCall(() => this.redis.zrangebyscore(this.keys.expiryIndex, '-inf', now, 'LIMIT', 0, limit));
    return members.map((m) => {
      const [user, entryId] = JSON.parse(m) as [Identity, string];
      return { user, entryId };
    });
  }
}

function member(item: TrackedEntry): string {
  return JSON.stringify([item.user, item.entryId]);
}
