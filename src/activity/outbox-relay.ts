/**
 * Relays a user's outbox entries to the places in other hash slots: the global activity stream
 * (the SP's feed, SSE and the portal webhook), the SP's charge index, and a gift receiver's
 * library and activities. Each step is idempotent (a marker per event id, writes by id), so an
 * entry relayed twice after a crash leaves one copy everywhere; then the entry is removed.
 */
import type { OutboxEntry } from '../charging/action-store.js';
import { USER_ACTIVITY_MAXLEN } from '../charging/action-store.js';
import type { ActivityRecord } from '../domain/types.js';
import type { Keys } from '../store/keys.js';
import { LuaScript } from '../store/lua-script.js';
import type { PendingWork, WorkItem } from '../store/pending-work.js';
import { storeCall, type RedisClient } from '../store/redis.js';

/** Records kept in the global stream; the portal consumer group reads well within this. */
export const FEED_MAXLEN = 1_000_000;
/** How long a relayed event id is remembered for deduplication. */
const DEDUP_TTL_SEC = 7 * 24 * 3600;

/** KEYS: seen marker, stream. ARGV: event id, record, maxlen, ttl. Returns the stream id or false. */
const APPEND_TO_FEED = new LuaScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[4]) then return false end
return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'id', ARGV[1], 'record', ARGV[2])
`);

/** KEYS: relayed marker, activity stream, collection keys…, data version. ARGV: plan, maxlen, ttl. */
const APPLY_ELSEWHERE = new LuaScript(`
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) then return 0 end
local plan = cjson.decode(ARGV[1])
for _, c in ipairs(plan.creates) do redis.call('HSETNX', KEYS[c.k], c.field, c.value) end
if plan.version then redis.call('INCR', KEYS[plan.version]) end
if plan.activity then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'id', plan.activityId, 'record', plan.activity)
end
return 1
`);

export class OutboxRelay {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly pending: PendingWork,
  ) {}

  /** Relays the outbox entry `item.id` of `item.user` if it is still there, then drops the item. */
  async relay(item: WorkItem): Promise<void> {
    const raw = await storeCall(() => this.redis.hget(this.keys.user(item.user).outbox, item.id));
    if (raw !== null) await this.relayEntry(JSON.parse(raw) as OutboxEntry);
    else await this.pending.done(item);
  }

  async relayEntry(entry: OutboxEntry): Promise<void> {
    for (const target of entry.elsewhere ?? []) {
      const userKeys = this.keys.user(target.user);
      const keys = [userKeys.relayed(entry.id), userKeys.activities];
      const creates = target.creates.map((c) => {
        keys.push(c.collection === 'library' ? userKeys.library : userKeys.boxes);
        return { k: keys.length, field: c.id, value: c.value };
      });
      const plan: Record<string, unknown> = { creates };
      if (creates.length > 0) {
        keys.push(userKeys.dataVersion);
        plan['version'] = keys.length;
      }
      if (target.activity) {
        plan['activity'] = JSON.stringify(entry.activity);
        plan['activityId'] = entry.activity.id;
      }
      await storeCall(() => APPLY_ELSEWHERE.run(this.redis, keys, [JSON.stringify(plan), USER_ACTIVITY_MAXLEN, DEDUP_TTL_SEC]));
    }
    const charge = entry.charge;
    await Promise.all([
      this.appendToFeed(entry.activity),
      charge
        ? storeCall(() => this.redis.multi().zadd(this.keys.chargesAll, 0, charge.id).hset(this.keys.chargeRecords, charge.id, JSON.stringify(charge)).exec())
        : undefined,
    ]);
    await storeCall(() => this.redis.hdel(this.keys.user(entry.user).outbox, entry.id));
    await this.pending.done({ user: entry.user, id: entry.id });
  }

  /** Appends a record to the global stream once per event id. */
  async appendToFeed(activity: ActivityRecord): Promise<void> {
    await storeCall(() =>
      APPEND_TO_FEED.run(this.redis, [this.keys.activitySeen(activity.id), this.keys.activityStream], [activity.id, JSON.stringify(activity), FEED_MAXLEN, DEDUP_TTL_SEC]),
    );
  }
}
