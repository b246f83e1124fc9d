/**
 * Presenting sessions in Redis: one small string per Call-ID, and per user a sorted set of the
 * Call-IDs the user is a party to (scored by the latest time the session can still exist), for
 * lookups by pair and for the user's current calls. A global sorted set names the live calls that
 * present something, for the SP's count of calls presenting now; it rides in the same round trips
 * as the session's own writes.
 *
 * A session is kept compact, well under 300 bytes of Redis memory: a plain string (no per-field
 * overhead and no encoding change when a SIP identity is long) holding resource ids only — the
 * content URIs are read from the catalog when a session is looked up, which is never on the
 * call-setup path. Layout, space-separated (identities, tags and ids contain no spaces):
 *
 *     <state>:<started>:<answered>:<ended> <fromTag> <caller> <called> <toCaller ids> <toCalled ids>
 *
 * state is e (early), c (confirmed) or x (ended); `started` is epoch milliseconds and the others
 * milliseconds after it, all in base 36, empty when not reached; identities lose their scheme
 * (only SIP ones have an `@`); id lists are comma-separated; the From tag is percent-encoded.
 *
 * Lifetime: `maxCallSec` from the start while live, `graceSec` from the end once ended. State
 * only moves forward (early → confirmed → ended), checked in one script, so a late or repeated
 * event never revives an ended call, and an event for an unknown call creates nothing.
 */
import type { Identity } from '../domain/identity.js';
import type { CallState } from '../domain/types.js';
import type { Keys } from '../store/keys.js';
import { isNoScript, LuaScript } from '../store/lua-script.js';
import { pipelined, type RedisCommand } from '../store/pipelines.js';
import { storeCall, type RedisClient } from '../store/redis.js';

export interface StoredSession {
  callId: string;
  fromTag: string;
  caller: Identity;
  called: Identity;
  /** Resource ids presented to the caller (owned by the called party). */
  toCaller: string[];
  /** Resource ids presented to the called party (owned by the caller). */
  toCalled: string[];
  state: CallState;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
}

export interface SessionLifetimes {
  maxCallSec: number;
  graceSec: number;
}

const STATE_CODE: Record<CallState, string> = { early: 'e', confirmed: 'c', ended: 'x' };
const CODE_STATE: Record<string, CallState> = { e: 'early', c: 'confirmed', x: 'ended' };

/** Moves a session forward: KEYS[1] session; ARGV state code (c|x), epoch ms of the event, TTL ms ('' keeps it, '0' deletes). */
const TRANSITION = new LuaScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local s, t0, t1, t2, rest = string.match(v, '^(%a):([^:]*):([^:]*):([^: ]*)( .*)$')
if not s or s == 'x' or (ARGV[1] == 'c' and s ~= 'e') then return 0 end
local digits = '0123456789abcdefghijklmnopqrstuvwxyz'
local n = math.max(0, tonumber(ARGV[2]) - tonumber(t0, 36))
local since = ''
repeat
  local d = n % 36
  since = string.sub(digits, d + 1, d + 1) .. since
  n = math.floor(n / 36)
until n == 0
if ARGV[1] == 'c' then t1 = since else t2 = since end
local value = ARGV[1] .. ':' .. t0 .. ':' .. t1 .. ':' .. t2 .. rest
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
elseif ARGV[3] == '' then
  redis.call('SET', KEYS[1], value, 'KEEPTTL')
else
  redis.call('SET', KEYS[1], value, 'PX', ARGV[3])
end
return 1
`);

export function encodeSession(session: StoredSession): string {
  const since = (at: number | undefined) => (at === undefined ? '' : (at - session.startedAt).toString(36));
  return [
    `${STATE_CODE[session.state]}:${session.startedAt.toString(36)}:${since(session.answeredAt)}:${since(session.endedAt)}`,
    encodeURIComponent(session.fromTag),
    compactIdentity(session.caller),
    compactIdentity(session.called),
    session.toCaller.join(','),
    session.toCalled.join(','),
  ].join(' ');
}

/** The session stored under `callId`, or null when the value is not a session. */
export function decodeSession(callId: string, raw: string): StoredSession | null {
  const fields = raw.split(' ');
  if (fields.length !== 6) return null;
  const [head, fromTag, caller, called, toCaller, toCalled] = fields as [string, string, string, string, string, string];
  const [code, started, answered, ended] = head.split(':');
  const state = code === undefined ? undefined : CODE_STATE[code];
  if (state === undefined || !started || answered === undefined || ended === undefined) return null;
  const ids = (list: string) => (list === '' ? [] : list.split(','));
  const startedAt = parseInt(started, 36);
  let tag: string;
  try {
    tag = decodeURIComponent(fromTag);
  } catch {
    return null;
  }
  return {
    callId,
    fromTag: tag,
    caller: expandIdentity(caller),
    called: expandIdentity(called),
    toCaller: ids(toCaller),
    toCalled: ids(toCalled),
    state,
    startedAt,
    ...(answered ? { answeredAt: startedAt + parseInt(answered, 36) } : {}),
    ...(ended ? { endedAt: startedAt + parseInt(ended, 36) } : {}),
  };
}

/** `tel:+1555…` is stored as `+1555…` and `sip:user@host` as `user@host`: only SIP ones have an `@`. */
function compactIdentity(identity: Identity): string {
  return identity.slice(identity.indexOf(':') + 1);
}

function expandIdentity(compact: string): Identity {
  return (compact.includes('@') ? `sip:${compact}` : `tel:${compact}`) as Identity;
}

export class SessionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly lifetimes: SessionLifetimes,
  ) {}

  /** Records a new session and indexes it under both parties; prunes the indexes on the way. */
  create(session: StoredSession): Promise<void> {
    const liveMs = this.lifetimes.maxCallSec * 1000;
    const boundMs = liveMs + this.lifetimes.graceSec * 1000;
    const now = session.startedAt;
    const parties = [...new Set([session.caller, session.called])];
    const presenting = session.toCaller.length + session.toCalled.length > 0;
    const groups: RedisCommand[][] = [
      [['SET', this.keys.callSession(session.callId), encodeSession(session), 'PX', liveMs]],
      ...(presenting
        ? [[['ZADD', this.keys.presentingCalls, now + liveMs, session.callId], ['ZREMRANGEBYSCORE', this.keys.presentingCalls, '-inf', now]] as RedisCommand[]]
        : []),
      ...parties.map((uid): RedisCommand[] => {
        const index = this.keys.user(uid).calls;
        return [
          ['ZADD', index, now + boundMs, session.callId],
          ['ZREMRANGEBYSCORE', index, '-inf', now],
          ['PEXPIRE', index, boundMs],
        ];
      }),
    ];
    return storeCall(async () => {
      await pipelined(this.redis, groups);
    });
  }

  /** Moves the session to `state` at `at`; false when there is no session or it is already past that state. */
  transition(callId: string, state: 'confirmed' | 'ended', at: number): Promise<boolean> {
    const ttl = state === 'confirmed' ? '' : String(this.lifetimes.graceSec * 1000);
    const script: RedisCommand[] = [TRANSITION.command([this.keys.callSession(callId)], [STATE_CODE[state], at, ttl])];
    // In the same round trip as the script: an ended call presents nothing any more.
    const unlisted: RedisCommand[][] = state === 'ended' ? [[['ZREM', this.keys.presentingCalls, callId]]] : [];
    return storeCall(async () => {
      try {
        const [[moved]] = (await pipelined(this.redis, [script, ...unlisted])) as [[unknown]];
        return moved === 1;
      } catch (err) {
        if (!isNoScript(err)) throw err;
        // First use, or Redis restarted: run it by its source, which loads it again.
        const [moved] = await Promise.all([
          TRANSITION.run(this.redis, [this.keys.callSession(callId)], [STATE_CODE[state], at, ttl]),
          ...unlisted.map(() => this.redis.zrem(this.keys.presentingCalls, callId)),
        ]);
        return moved === 1;
      }
    });
  }

  /** How many live calls present something at `now` (calls past their longest life are dropped on the way). */
  countPresenting(now: number): Promise<number> {
    return storeCall(async () => {
      const [[, count]] = (await pipelined(this.redis, [
        [
          ['ZREMRANGEBYSCORE', this.keys.presentingCalls, '-inf', now],
          ['ZCARD', this.keys.presentingCalls],
        ],
      ])) as [[number, number]];
      return count;
    });
  }

  get(callId: string): Promise<StoredSession | null> {
    return storeCall(async () => {
      const raw = await this.redis.get(this.keys.callSession(callId));
      return raw === null ? null : decodeSession(callId, raw);
    });
  }

  /**
   * The sessions (live or in their grace period) `uid` is a party to, most recent first, at most
   * `limit`. Index entries past their bound, or whose session is gone, are removed on the way.
   */
  ofUser(uid: Identity, now: number, limit = 100): Promise<StoredSession[]> {
    const index = this.keys.user(uid).calls;
    return storeCall(async () => {
      const [[, callIds]] = (await pipelined(this.redis, [
        [
          ['ZREMRANGEBYSCORE', index, '-inf', now],
          ['ZRANGE', index, '+inf', now, 'BYSCORE', 'REV', 'LIMIT', 0, limit],
        ],
      ])) as [[number, string[]]];
      const raws = (await pipelined(this.redis, callIds.map((callId): RedisCommand[] => [['GET', this.keys.callSession(callId)]]))).map(
        ([raw]) => raw as string | null,
      );
      const sessions = callIds.map((callId, i) => (raws[i] ? decodeSession(callId, raws[i]) : null));
      const gone = callIds.filter((_, i) => sessions[i] === null);
      if (gone.length > 0) await this.redis.zrem(index, ...gone);
      return sessions.filter((s): s is StoredSession => s !== null && (s.caller === uid || s.called === uid)).sort((a, b) => b.startedAt - a.startedAt);
    });
  }
}
