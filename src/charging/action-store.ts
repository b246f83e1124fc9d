/**
 * Redis side of charged actions: the intent, the exclusive locks and the one script that settles
 * an action. Every key of a settlement is in the acting user's hash slot, so it is atomic on a
 * single node and on Redis Cluster alike; what belongs to other slots (the global feed, the SP's
 * charge index, a gift's receiver) leaves through the user's outbox and is relayed afterwards.
 */
import type { Identity } from '../domain/identity.js';
import { defaultPreferences, type ActivityKind, type ActivityRecord, type Channel, type ChargeRecord, type Preferences } from '../domain/types.js';
import type { IdempotencyRef } from '../store/idempotency-store.js';
import type { Keys } from '../store/keys.js';
import { LuaScript } from '../store/lua-script.js';
import { storeCall, type RedisClient } from '../store/redis.js';
import type { ChargeRequest } from './charging-port.js';
import type { Collection, Collections, Versioned, Write } from './writes.js';

/** Per-user activity history kept in Redis (older records stay in the global feed and the portal). */
export const USER_ACTIVITY_MAXLEN = 10_000;

export interface Command {
  type: string;
  args: unknown;
}

/** A charged action between "asked" and "settled", kept in the acting user's slot. */
export interface Intent {
  chargeId: string;
  /** Id of the activity record the action produces (stable across a re-run). */
  activityId: string;
  /** The acting user: pays, owns the idempotency key; intent, charge and activity live in this slot. */
  user: Identity;
  /** The user the activity concerns (a gift's receiver), when not `user`. */
  subject: Identity;
  actor: ActivityRecord['actor'];
  kind: ActivityKind;
  channel: Channel;
  createdAt: string;
  /** `charging`: the CHF's answer is not known here yet; `granted`: only the apply is left. */
  state: 'charging' | 'granted';
  mode: 'cdr' | 'nchf';
  request: ChargeRequest;
  invocation: { sequenceNumber: number; timestamp: string };
  reference?: string;
  command: Command | null;
  /** The answer stored under the idempotency key once applied. */
  answer: unknown;
  detail: Record<string, unknown>;
  idempotency?: IdempotencyRef;
  /** Redis keys of the exclusive locks held (token: the charge id) until the action is settled. */
  locks: string[];
}

/** What the outbox relays for one settled action or recorded activity. */
export interface OutboxEntry {
  id: string;
  user: Identity;
  activity: ActivityRecord;
  charge?: ChargeRecord;
  /** Writes and activity copies for other users (a gift's receiver). */
  elsewhere?: Array<{ user: Identity; creates: Array<{ collection: Collection; id: string; value: string }>; activity: boolean }>;
}

export interface Settlement {
  user: Identity;
  /** The intent this settles (and removes); omitted for an activity recorded without a charge. */
  intentId?: string;
  writes: Write[];
  charge?: ChargeRecord;
  activity: ActivityRecord;
  outbox: OutboxEntry;
  /** The idempotency record to store: its Redis key, content and lifetime. */
  idempotency?: { key: string; record: string; ttlSec: number };
  /** Locks to release: [redis key, token]. */
  unlock: Array<[string, string]>;
  /**
   * For a settlement with no intent before it: nothing is written (`lost`) unless every lock in
   * `unlock` is still held by its token, and the idempotency record still claimed by `claimToken`.
   */
  held?: { claimToken?: string };
}

export type SettleResult = { status: 'ok'; streamId: string } | { status: 'gone' } | { status: 'stale' } | { status: 'lost' };

const BEGIN = new LuaScript(`
if ARGV[4] ~= '' then
  local raw = redis.call('GET', KEYS[3])
  if not raw then return 'lost-claim' end
  local rec = cjson.decode(raw)
  if rec.state ~= 'in-flight' or rec.token ~= ARGV[3] then return 'lost-claim' end
  redis.call('SET', KEYS[3], ARGV[4], 'KEEPTTL')
end
for i = 4, #KEYS do
  if redis.call('GET', KEYS[i]) ~= ARGV[3] then return 'lost-lock' end
end
for i = 4, #KEYS do redis.call('PERSIST', KEYS[i]) end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[5])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 'ok'
`);

/**
 * KEYS: 1 intents, 2 outbox, 3 activity stream, 4 charge index, 5 charges, 6 idempotency record,
 * 7… keys named by the plan. ARGV: plan (JSON), per-user activity maxlen, channel to publish
 * once settled ('' for none).
 * Checks first (intent still pending, or locks and claim still held; key types, every write's
 * expected version), then writes
 * everything: Redis does not roll a script back, so nothing may fail once writing has begun.
 */
const SETTLE = new LuaScript(`
local plan = cjson.decode(ARGV[1])
if plan.intent and redis.call('HEXISTS', KEYS[1], plan.intent) == 0 then return {'gone'} end
if plan.held then
  if plan.held.claim then
    local raw = redis.call('GET', KEYS[6])
    if not raw then return {'lost'} end
    local rec = cjson.decode(raw)
    if rec.state ~= 'in-flight' or rec.token ~= plan.held.claim then return {'lost'} end
  end
  for _, u in ipairs(plan.unlock) do
    if redis.call('GET', KEYS[u[1]]) ~= u[2] then return {'lost'} end
  end
end
for _, w in ipairs(plan.writes) do
  local t = redis.call('TYPE', KEYS[w.k]).ok
  if t ~= 'none' and t ~= (w.field and 'hash' or 'string') then return {'corrupt', KEYS[w.k]} end
end
for i, w in ipairs(plan.writes) do
  local current
  if w.field then current = redis.call('HGET', KEYS[w.k], w.field) else current = redis.call('GET', KEYS[w.k]) end
  if w.absent and current then return {'stale'} end
  if w.expect and current ~= w.expect then return {'stale'} end
end
for _, w in ipairs(plan.writes) do
  local key = KEYS[w.k]
  if w.mode == 'create' then
    if w.field then redis.call('HSETNX', key, w.field, w.value) else redis.call('SET', key, w.value, 'NX') end
  elseif w.mode == 'put' then
    if w.field then redis.call('HSET', key, w.field, w.value) else redis.call('SET', key, w.value) end
  else
    if w.field then redis.call('HDEL', key, w.field) else redis.call('DEL', key) end
  end
end
if plan.version then redis.call('INCR', KEYS[plan.version]) end
if plan.charge then
  redis.call('ZADD', KEYS[4], 0, plan.charge[1])
  redis.call('HSET', KEYS[5], plan.charge[1], plan.charge[2])
end
local streamId = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'id', plan.activityId, 'record', plan.activity)
redis.call('HSET', KEYS[2], plan.outbox[1], plan.outbox[2])
if plan.idem then redis.call('SET', KEYS[6], plan.idem[1], 'EX', plan.idem[2]) end
if plan.intent then redis.call('HDEL', KEYS[1], plan.intent) end
for _, u in ipairs(plan.unlock) do
  if redis.call('GET', KEYS[u[1]]) == u[2] then redis.call('DEL', KEYS[u[1]]) end
end
if ARGV[3] ~= '' then redis.call('PUBLISH', ARGV[3], '1') end
return {'ok', streamId}
`);

/** KEYS: intents, then the locks the intent holds. ARGV: charge id (also the locks' token). */
const DISCARD = new LuaScript(`
redis.call('HDEL', KEYS[1], ARGV[1])
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 0
`);

const UPDATE_INTENT = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`);

/** KEYS: locks. ARGV: token, lease (ms). Returns 0, or the 1-based index of a lock held by another. */
const ACQUIRE = new LuaScript(`
for i = 1, #KEYS do
  local holder = redis.call('GET', KEYS[i])
  if holder and holder ~= ARGV[1] then return i end
end
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end
return 0
`);

const RELEASE = new LuaScript(`
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
end
return 0
`);

export class ActionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  lockKey(user: Identity, name: string): string {
    return this.keys.user(user).lock(`action:${name}`);
  }

  workLockKey(user: Identity, id: string): string {
    return this.keys.user(user).lock(`work:${id}`);
  }

  /** Takes every lock in `lockKeys` for `token`, or none; false when one is held by someone else. */
  async acquire(lockKeys: string[], token: string, leaseMs: number): Promise<boolean> {
    if (lockKeys.length === 0) return true;
    return (await storeCall(() => ACQUIRE.run(this.redis, lockKeys, [token, leaseMs]))) === 0;
  }

  async release(lockKeys: string[], token: string): Promise<void> {
    if (lockKeys.length === 0) return;
    await storeCall(() => RELEASE.run(this.redis, lockKeys, [token]));
  }

  /**
   * Stores the intent, pins the idempotency record to it and makes its locks last until it is
   * settled; the charge id also holds the work lock for `leaseMs` so the recoverer keeps off.
   */
  async begin(intent: Intent, leaseMs: number, idempotencyRecord: { key: string; record: string } | null): Promise<void> {
    const userKeys = this.keys.user(intent.user);
    const keys = [userKeys.intents, this.workLockKey(intent.user, intent.chargeId), idempotencyRecord?.key ?? userKeys.intents, ...intent.locks];
    const result = await storeCall(() =>
      BEGIN.run(this.redis, keys, [intent.chargeId, JSON.stringify(intent), intent.chargeId, idempotencyRecord?.record ?? '', leaseMs]),
    );
    if (result !== 'ok') throw new Error(`intent ${intent.chargeId} not started: ${String(result)}`);
  }

  /** Removes an intent that may have been written by a write reported as failed, with the locks it was given. */
  async discard(intent: Intent): Promise<void> {
    const keys = [this.keys.user(intent.user).intents, this.workLockKey(intent.user, intent.chargeId), ...intent.locks];
    await storeCall(() => DISCARD.run(this.redis, keys, [intent.chargeId]));
  }

  async intent(user: Identity, chargeId: string): Promise<Intent | null> {
    const raw = await storeCall(() => this.redis.hget(this.keys.user(user).intents, chargeId));
    return raw === null ? null : (JSON.parse(raw) as Intent);
  }

  /** Rewrites a pending intent (e.g. to record its grant); false when it is settled already. */
  async updateIntent(intent: Intent): Promise<boolean> {
    return (await storeCall(() => UPDATE_INTENT.run(this.redis, [this.keys.user(intent.user).intents], [intent.chargeId, JSON.stringify(intent)]))) === 1;
  }

  /** The next invocation sequence number: unique per consumer (Uint32), so the CHF can recognise retransmissions. */
  async nextSequenceNumber(): Promise<number> {
    const n = await storeCall(() => this.redis.incr(this.keys.chargeSequence));
    return n % 4_294_967_296;
  }

  /** A document of the user's library or boxes as stored, for an applier to write against. */
  async readDocument<C extends Collection>(user: Identity, collection: C, id: string): Promise<Versioned<Collections[C]>> {
    const userKeys = this.keys.user(user);
    const raw = await storeCall(() => this.redis.hget(collection === 'library' ? userKeys.library : userKeys.boxes, id));
    return { raw, doc: raw === null ? null : (JSON.parse(raw) as Collections[C]) };
  }

  /** The user's preferences as stored (defaults filled in), for an applier to write against. */
  async readPreferences(user: Identity): Promise<Versioned<Preferences>> {
    const raw = await storeCall(() => this.redis.get(this.keys.user(user).preferences));
    return { raw, doc: raw === null ? defaultPreferences() : { ...defaultPreferences(), ...(JSON.parse(raw) as Partial<Preferences>) } };
  }

  async settle(settlement: Settlement): Promise<SettleResult> {
    const userKeys = this.keys.user(settlement.user);
    const keys = [
      userKeys.intents,
      userKeys.outbox,
      userKeys.activities,
      userKeys.chargeIndex,
      userKeys.charges,
      settlement.idempotency?.key ?? userKeys.intents,
    ];
    const index = (key: string): number => {
      const at = keys.indexOf(key);
      if (at >= 0) return at + 1;
      keys.push(key);
      return keys.length;
    };
    const wire = settlement.writes.map((write) => {
      const target = this.targetOf(settlement.user, write);
      const w: Record<string, unknown> = { k: index(target.key), mode: write.op === 'create' ? 'create' : write.op === 'delete' ? 'delete' : 'put' };
      if (target.field !== undefined) w['field'] = target.field;
      if (write.op !== 'delete') w['value'] = JSON.stringify(write.doc);
      if (write.op !== 'create' && write.basedOn) {
        if (write.basedOn.raw === null) w['absent'] = true;
        else w['expect'] = write.basedOn.raw;
      }
      return w;
    });
    const plan: Record<string, unknown> = {
      writes: wire,
      activityId: settlement.activity.id,
      activity: JSON.stringify(settlement.activity),
      outbox: [settlement.outbox.id, JSON.stringify(settlement.outbox)],
      unlock: settlement.unlock.map(([key, token]) => [index(key), token]),
    };
    if (wire.length > 0) plan['version'] = index(userKeys.dataVersion);
    if (settlement.intentId) plan['intent'] = settlement.intentId;
    if (settlement.held) plan['held'] = settlement.held.claimToken ? { claim: settlement.held.claimToken } : {};
    if (settlement.charge) plan['charge'] = [settlement.charge.id, JSON.stringify(settlement.charge)];
    if (settlement.idempotency) plan['idem'] = [settlement.idempotency.record, settlement.idempotency.ttlSec];
    // Freed locks and a stored answer wake who waits for them, in the settling script itself.
    const wakes = settlement.unlock.length > 0 || settlement.idempotency !== undefined;
    const channel = wakes ? this.keys.settledChannel(settlement.user) : '';
    const reply = (await storeCall(() => SETTLE.run(this.redis, keys, [JSON.stringify(plan), USER_ACTIVITY_MAXLEN, channel]))) as [string, string?];
    if (reply[0] === 'ok') return { status: 'ok', streamId: reply[1]! };
    if (reply[0] === 'corrupt') throw new Error(`key ${reply[1]} holds another type of data`);
    return { status: reply[0] === 'gone' || reply[0] === 'lost' ? reply[0] : 'stale' };
  }

  private targetOf(user: Identity, write: Write): { key: string; field?: string } {
    const userKeys = this.keys.user(user);
    if (write.op === 'preferences') return { key: userKeys.preferences };
    const key = write.collection === 'library' ? userKeys.library : userKeys.boxes;
    return { key, field: write.op === 'delete' ? write.id : write.doc.id };
  }
}
