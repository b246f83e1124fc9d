/**
 * The global index of users' unfinished work (a charged action not settled, an outbox entry not
 * relayed), so the recoverer finds it without scanning. An item is announced here before it is
 * written in the user's slot and removed after it is gone from there: the index may name work that
 * is already done (the recoverer then just drops it), never miss work that exists.
 */
import type { Identity } from '../domain/identity.js';
import type { Keys } from './keys.js';
import { storeCall, type RedisClient } from './redis.js';

export interface WorkItem {
  user: Identity;
  /** A charge id (intent and/or outbox entry) or an activity id (outbox entry). */
  id: string;
}

export class PendingWork {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Announces the item, due for the recoverer at `dueAt` (ms) unless finished before. */
  async announce(item: WorkItem, dueAt: number): Promise<void> {
    await storeCall(() => this.redis.zadd(this.keys.pendingApplies, dueAt, member(item)));
  }

  /** Moves an announced item's due time (no-op when it was removed meanwhile). */
  async reschedule(item: WorkItem, dueAt: number): Promise<void> {
    await storeCall(() => this.redis.zadd(this.keys.pendingApplies, 'XX', dueAt, member(item)));
  }

  async done(item: WorkItem): Promise<void> {
    await storeCall(() => this.redis.zrem(this.keys.pendingApplies, member(item)));
  }

  /** Items due by `now`, oldest first. */
  async due(now: number, limit: number): Promise<WorkItem[]> {
    const members = await storeCall(() => this.redis.zrangebyscore(this.keys.pendingApplies, '-inf', now, 'LIMIT', 0, limit));
    return members.map((m) => {
      const [user, id] = JSON.parse(m) as [Identity, string];
      return { user, id };
    });
  }

  count(): Promise<number> {
    return storeCall(() => this.redis.zcard(this.keys.pendingApplies));
  }
}

function member(item: WorkItem): string {
  return JSON.stringify([item.user, item.id]);
}
