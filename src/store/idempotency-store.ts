/**
 * Idempotency records: one per (user, key), for a REST `Idempotency-Key` or a SIP dialog+CSeq.
 *
 * A request claims its key with a fingerprint of its content and learns whether it is new, a
 * repeat of a finished request (the stored answer is replayed), a repeat of one still in flight
 * (it waits for that answer), or a reuse of the key for other content (409). Records live in the
 * user's hash slot so a charged action can store its answer in the same script as its effect.
 * Answers are kept 24 h; an answer saying "try again later" only as long as its Retry-After.
 */
import { createHash, randomUUID } from 'node:crypto';
import { CmrError, ReplayedRefusal, type ErrorCode } from '../domain/errors.js';
import type { Keys, KeyScope } from './keys.js';
import { LuaScript } from './lua-script.js';
import type { Notifications } from './notifications.js';
import { storeCall, type RedisClient } from './redis.js';

export const ANSWER_TTL_SEC = 24 * 3600;

export type StoredAnswer<T = unknown> =
  | { ok: true; value: T }
  | { ok: false; error: { code: ErrorCode; detail: string; extra?: Record<string, unknown> } };

export interface IdempotencyRef {
  /** Whose key it is: the user, or the SP as `sp:<sub>` for writes that concern no user. */
  user: KeyScope;
  /** The client's key, e.g. an `Idempotency-Key` header or `sip:<call-id>:<from-tag>:<cseq>`. */
  key: string;
  /** Digest of the request's content (see `fingerprintOf`). */
  fingerprint: string;
}

export type Claim = { state: 'new' } | { state: 'in-flight' } | { state: 'done'; answer: StoredAnswer };

interface InFlightRecord {
  key: string;
  fingerprint: string;
  state: 'in-flight';
  token: string;
  leaseUntil: number;
  /** Set once the charged action's intent exists: the record then waits for that intent. */
  chargeId?: string;
}

interface DoneRecord {
  key: string;
  fingerprint: string;
  state: 'done';
  answer: StoredAnswer;
}

/**
 * KEYS: record, the user's intents. ARGV: fingerprint, now (ms), new in-flight record, ttl.
 * A record in flight whose owner vanished (lease over and no intent) is taken over.
 */
const CLAIM = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if raw then
  local rec = cjson.decode(raw)
  if rec.fingerprint ~= ARGV[1] then return {'conflict'} end
  if rec.state == 'done' then return {'done', raw} end
  if type(rec.chargeId) == 'string' then
    if redis.call('HEXISTS', KEYS[2], rec.chargeId) == 1 then return {'in-flight'} end
  elseif tonumber(rec.leaseUntil) > tonumber(ARGV[2]) then
    return {'in-flight'}
  end
end
redis.call('SET', KEYS[1], ARGV[3], 'EX', ARGV[4])
return {'new'}
`);

/** KEYS: record. ARGV: token, replacement ('' deletes), ttl. Only the claim's owner may settle it. */
const SETTLE_OWN = new LuaScript(`
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local rec = cjson.decode(raw)
if rec.state ~= 'in-flight' or rec.token ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return 1
`);

/** Stable digest of a request's content: canonical JSON (sorted keys), SHA-256. */
export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The stored answer as the caller sees it: the value, or the error thrown again. */
export function replay<T>(answer: StoredAnswer<T>): T {
  if (answer.ok) return answer.value;
  throw new ReplayedRefusal(answer.error.code, answer.error.detail, answer.error.extra ?? {});
}

/** How a failed request is remembered: refusals (4xx) for the full term, "try later" for its Retry-After. */
export function answerOfError(err: CmrError): { answer: StoredAnswer<never>; ttlSec: number } | null {
  const answer: StoredAnswer<never> = { ok: false, error: { code: err.code, detail: err.detail, extra: err.extra } };
  if (err.status < 500) return { answer, ttlSec: ANSWER_TTL_SEC };
  const retryAfterSec = err.extra.retryAfterSec;
  if (err.code === 'dependency-unavailable' && retryAfterSec) return { answer, ttlSec: Math.max(1, Math.ceil(retryAfterSec)) };
  return null;
}

export class IdempotencyStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly notifications: Notifications,
  ) {}

  /** Redis key of the record (the client's key is hashed: any length, any characters). */
  recordKey(ref: Pick<IdempotencyRef, 'user' | 'key'>): string {
    return this.keys.user(ref.user).idempotency(createHash('sha256').update(ref.key).digest('base64url'));
  }

  /** Claims the key for `token`; throws `idempotency-key-reused` when the content differs. */
  async claim(ref: IdempotencyRef, token: string, leaseMs: number): Promise<Claim> {
    const record = this.inFlightRecord(ref, token, leaseMs);
    const reply = (await storeCall(() =>
      CLAIM.run(this.redis, [this.recordKey(ref), this.keys.user(ref.user).intents], [ref.fingerprint, Date.now(), record, ANSWER_TTL_SEC]),
    )) as [string, string?];
    switch (reply[0]) {
      case 'conflict':
        throw new CmrError('idempotency-key-reused', 'this idempotency key was used for another request');
      case 'done':
        return { state: 'done', answer: (JSON.parse(reply[1]!) as DoneRecord).answer };
      case 'in-flight':
        return { state: 'in-flight' };
      default:
        return { state: 'new' };
    }
  }

  /** The in-flight record of a claim; with `chargeId` it is pinned to that action's intent. */
  inFlightRecord(ref: IdempotencyRef, token: string, leaseMs: number, chargeId?: string): string {
    const record: InFlightRecord = { key: ref.key, fingerprint: ref.fingerprint, state: 'in-flight', token, leaseUntil: Date.now() + leaseMs };
    if (chargeId) record.chargeId = chargeId;
    return JSON.stringify(record);
  }

  doneRecord(ref: IdempotencyRef, answer: StoredAnswer): string {
    const record: DoneRecord = { key: ref.key, fingerprint: ref.fingerprint, state: 'done', answer };
    return JSON.stringify(record);
  }

  /** Stores the answer of the claim owned by `token`, and wakes the requests waiting for it. */
  async complete(ref: IdempotencyRef, token: string, answer: StoredAnswer, ttlSec = ANSWER_TTL_SEC): Promise<void> {
    await storeCall(() => SETTLE_OWN.run(this.redis, [this.recordKey(ref)], [token, this.doneRecord(ref, answer), ttlSec]));
    await this.notify(ref.user);
  }

  /** Gives the key up (the request failed in a way worth retrying); waiting repeats take over. */
  async release(ref: IdempotencyRef, token: string): Promise<void> {
    await storeCall(() => SETTLE_OWN.run(this.redis, [this.recordKey(ref)], [token, '', 0]));
    await this.notify(ref.user);
  }

  notify(user: KeyScope): Promise<void> {
    return this.notifications.publish(this.keys.settledChannel(user));
  }

  /**
   * Waits for the request in flight under this key: its stored answer, `released` when it gave
   * the key up (the caller may claim it again), or `undefined` when still in flight at the deadline.
   */
  async awaitAnswer(ref: IdempotencyRef, timeoutMs: number): Promise<StoredAnswer | 'released' | undefined> {
    const key = this.recordKey(ref);
    return this.notifications.waitFor(
      this.keys.settledChannel(ref.user),
      async () => {
        const raw = await storeCall(() => this.redis.get(key));
        if (raw === null) return 'released' as const;
        const record = JSON.parse(raw) as InFlightRecord | DoneRecord;
        if (record.fingerprint !== ref.fingerprint) return 'released' as const;
        return record.state === 'done' ? record.answer : undefined;
      },
      timeoutMs,
    );
  }

  /**
   * Runs `work` at most once per key for requests that charge nothing: a repeat gets the first
   * answer (waiting for it when needed), a refusal is replayed, a failure worth retrying is not kept.
   */
  async execute<T>(ref: IdempotencyRef, work: () => Promise<T>, options: { leaseMs?: number; waitMs?: number } = {}): Promise<{ value: T; replayed: boolean }> {
    const leaseMs = options.leaseMs ?? 30_000;
    const waitMs = options.waitMs ?? 10_000;
    const token = randomUUID();
    const deadline = Date.now() + waitMs;
    for (;;) {
      const claim = await this.claim(ref, token, leaseMs);
      if (claim.state === 'done') return { value: replay(claim.answer as StoredAnswer<T>), replayed: true };
      if (claim.state === 'in-flight') {
        const answer = await this.awaitAnswer(ref, Math.max(0, deadline - Date.now()));
        if (answer === undefined) throw stillInFlight();
        if (answer === 'released') continue;
        return { value: replay(answer as StoredAnswer<T>), replayed: true };
      }
      try {
        const value = await work();
        await this.complete(ref, token, { ok: true, value });
        return { value, replayed: false };
      } catch (err) {
        const kept = err instanceof CmrError ? answerOfError(err) : null;
        if (kept) await this.complete(ref, token, kept.answer, kept.ttlSec).catch(() => undefined);
        else await this.release(ref, token).catch(() => undefined);
        throw err;
      }
    }
  }
}

export function stillInFlight(): CmrError {
  return new CmrError('dependency-unavailable', 'a request with this idempotency key is still being processed', { retryAfterSec: 1 });
}
