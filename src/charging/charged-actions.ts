/**
 * Charged actions: the one path every activity that changes a user's service data takes
 * (subscribe, renew, gift, box subscribe, offline and online copy, and free changes alike).
 *
 * Lifecycle of one action, all of its state in the acting user's Redis hash slot:
 *
 * 1. Claim. With an idempotency key the request claims it (new / repeat of a finished request →
 *    its stored answer / repeat in flight → wait for that answer / same key, other content → 409).
 *    Exclusive locks named by the caller (e.g. `resource:r-1`) are taken, then the caller's
 *    `prepare` checks the request against current data and returns the plan: what to charge, the
 *    command to apply (a named applier with JSON arguments, never a closure) and the answer.
 * 2. Intent. Before the Charging Enabler is asked, the intent (charge request, invocation, command,
 *    answer, locks) is written and announced in the global pending index. Redis down here → 503,
 *    nothing charged; an intent written although its write was reported failed is taken back.
 * 3. Charge through the port (zero-priced events as offline records). Denied → 402, unavailable →
 *    503 with Retry-After; either way nothing is applied, the intent is removed and the attempt is
 *    recorded as an activity. When no answer came at all (timeout, connection lost) the CHF may have
 *    charged: the caller gets 503, and the intent stays for the recoverer, which asks again as a
 *    retransmission and applies the grant or records the refusal.
 * 4. Apply. The applier turns the command into writes; one script checks the intent is still
 *    pending and writes the effect, the charge record, the activity record, the outbox entry and
 *    the idempotency answer, removes the intent and frees the locks — exactly once per charge id.
 *    If that fails after a grant, the intent stays (grant noted when possible) and the caller gets
 *    503 saying the charge is granted and will be applied; the recoverer applies it.
 * 5. Outbox. The entry is relayed to the global activity stream (SP feed, SSE, portal webhook), the
 *    SP's charge index and any other user concerned (a gift's receiver), at least once and
 *    deduplicated by event id; the recoverer relays whatever the request could not.
 *
 * After a crash the recoverer finds unsettled intents through the pending index. One whose CHF
 * answer was never seen is charged again as a retransmission of the same invocation, so the CHF
 * answers from its record and never charges twice; then it is applied or dropped.
 */
import { monotonicFactory } from 'ulid';
import { CmrError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import { defaultPreferences, type ActivityKind, type ActivityRecord, type ActivityResult, type Channel, type ChargeRecord, type Preferences } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { OutboxRelay } from '../activity/outbox-relay.js';
import { ANSWER_TTL_SEC, answerOfError, replay, stillInFlight, type IdempotencyRef, type IdempotencyStore, type StoredAnswer } from '../store/idempotency-store.js';
import type { Keys } from '../store/keys.js';
import type { Notifications } from '../store/notifications.js';
import type { PendingWork } from '../store/pending-work.js';
import { isRedisFailure, storeCall, type RedisClient } from '../store/redis.js';
import type { ActionStore, Command, Intent, OutboxEntry } from './action-store.js';
import type { ChargeOutcome, ChargeRequest, ChargingPort } from './charging-port.js';
import { builtInAppliers, type Applier, type ApplyContext, type Collection, type Collections, type Versioned, type Write } from './writes.js';

export type Actor = ActivityRecord['actor'];

export interface ChargeSpec {
  /** Minor units; 0 is recorded as an offline charging event. */
  amount: number;
  currency: string;
  resourceIds: string[];
  /** Calling and called party (and Call-ID) of the call a copy was made in. */
  calling?: Identity;
  called?: Identity;
  callId?: string;
}

/** What `prepare` decides once the request is checked against current data. */
export interface ActionPlan<R> {
  kind: ActivityKind;
  /** What to charge; `null` when the action produces no charging event (e.g. everything already owned). */
  charge: ChargeSpec | null;
  /** What to apply once granted; omitted when nothing changes. */
  command?: Command;
  /** The answer returned to the caller, and to every repeat of the same idempotency key. */
  answer: R;
  /** The user the activity concerns, when not the acting user (a gift's receiver). */
  subject?: Identity;
  /** Free-form details recorded with the activity (resource ids, entry ids, …). */
  detail?: Record<string, unknown>;
}

export interface ActionRequest<R> {
  /** The acting user: pays, owns the idempotency key; every write of the action is in this user's slot. */
  user: Identity;
  actor: Actor;
  channel: Channel;
  /** REST `Idempotency-Key` or SIP dialog+CSeq, with a fingerprint of the request's content. */
  idempotency?: { key: string; fingerprint: string };
  /** Names of locks within the user, held from before `prepare` until the action is settled. */
  exclusive?: string[];
  /** Checks the request against current data (under the locks) and plans the action. May throw CmrError. */
  prepare(context: { chargeId: string; now: Date }): Promise<ActionPlan<R>> | ActionPlan<R>;
}

export interface ActionOutcome<R> {
  answer: R;
  /** True when the answer is the stored one of an earlier request with the same idempotency key. */
  replayed: boolean;
}

export interface ChargedActionsOptions {
  /** Charging port for priced events (`cdr` or `nchf`). */
  online: ChargingPort;
  /** Port for zero-priced events: offline records. */
  offline: ChargingPort;
  chfTimeoutMs: number;
  /** How long an intent is left to its request before the recoverer may take it (default from the CHF timeout). */
  leaseMs?: number;
  now?: () => Date;
}

const MAX_APPLY_ATTEMPTS = 5;
const GRANTED_RETRY_AFTER_SEC = 2;
/** How soon the recoverer takes over an intent its request could not settle. */
const HAND_OVER_DELAY_MS = 1000;
const TAKE_BACK_MAX_DELAY_MS = 5000;
const newId = monotonicFactory();

export class ChargedActions {
  private readonly appliers = new Map<string, Applier<unknown>>();
  /** Intents whose start the store may have carried out although it reported a failure (see `takeBack`). */
  private readonly abandoned = new Map<string, Intent>();
  private stopped = false;
  private readonly now: () => Date;
  /** How long an intent is left to its live request before the recoverer may take it. */
  readonly leaseMs: number;
  /** How long a request waits for a lock or for a repeat's first answer. */
  readonly waitMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly store: ActionStore,
    private readonly idempotency: IdempotencyStore,
    private readonly pending: PendingWork,
    private readonly relay: OutboxRelay,
    private readonly notifications: Notifications,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: ChargedActionsOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.leaseMs = options.leaseMs ?? Math.max(30_000, 3 * options.chfTimeoutMs + 5_000);
    this.waitMs = 2 * options.chfTimeoutMs + 3_000;
    for (const [type, applier] of Object.entries(builtInAppliers)) this.registerApplier(type, applier as Applier<unknown>);
  }

  /** Registers how commands of `type` are applied. Register at start-up: the recoverer needs it too. */
  registerApplier<A>(type: string, applier: Applier<A>): void {
    if (this.appliers.has(type)) throw new Error(`applier ${type} registered twice`);
    this.appliers.set(type, applier as Applier<unknown>);
  }

  /** Runs one action through claim → intent → charge → apply → outbox (see the note above). */
  async run<R>(request: ActionRequest<R>): Promise<ActionOutcome<R>> {
    const chargeId = `ch-${newId()}`;
    const ref: IdempotencyRef | null = request.idempotency ? { user: request.user, ...request.idempotency } : null;
    if (ref) {
      const earlier = await this.claim<R>(ref, chargeId);
      if (earlier) return earlier;
    }
    const lockKeys = [...new Set(request.exclusive ?? [])].map((name) => this.store.lockKey(request.user, name));
    let plan: ActionPlan<R>;
    let intent: Intent;
    try {
      await this.acquireLocks(request.user, lockKeys, chargeId);
    } catch (err) {
      // Busy items are a passing state, not the key's answer: the key is freed for a retry.
      if (ref) await this.idempotency.release(ref, chargeId).catch(() => undefined);
      throw err;
    }
    try {
      const now = this.now();
      plan = await request.prepare({ chargeId, now });
      if (!plan.charge) return { answer: await this.settleUncharged(request, plan, chargeId, now, lockKeys, ref), replayed: false };
      intent = await this.begin(request, plan, plan.charge, chargeId, now, lockKeys, ref);
    } catch (err) {
      if (lockKeys.length > 0) {
        await this.store.release(lockKeys, chargeId).catch(() => undefined);
        await this.notifications.publish(this.keys.settledChannel(request.user));
      }
      if (ref) await this.abandonClaim(ref, chargeId, err);
      throw err;
    }
    const outcome = await this.charge(intent, false);
    await this.conclude(intent, outcome, chargeId, true);
    return { answer: plan.answer, replayed: false };
  }

  /**
   * Finishes an intent found by the recoverer: charges it again as a retransmission when its CHF
   * answer is unknown, then applies it (or records the refusal). Throws while it cannot be settled.
   */
  async resume(intent: Intent, workToken: string): Promise<void> {
    if (this.abandoned.has(intent.chargeId)) {
      await this.store.discard(intent);
      this.abandoned.delete(intent.chargeId);
      return;
    }
    if (intent.state === 'granted') {
      await this.apply(intent, workToken);
      return;
    }
    const outcome = await this.charge(intent, true);
    if (outcome.status === 'unavailable') throw new Error(`charging still unavailable: ${outcome.reason}`);
    await this.conclude(intent, outcome, workToken, false);
  }

  // ── 1. claim ─────────────────────────────────────────────────────────────

  /** The earlier answer for a repeated key (waiting for it if needed), or null when this request owns the key. */
  private async claim<R>(ref: IdempotencyRef, token: string): Promise<ActionOutcome<R> | null> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      const claim = await this.idempotency.claim(ref, token, this.leaseMs);
      if (claim.state === 'new') return null;
      if (claim.state === 'done') return { answer: replay(claim.answer as StoredAnswer<R>), replayed: true };
      const answer = await this.idempotency.awaitAnswer(ref, Math.max(0, deadline - Date.now()));
      if (answer === undefined) throw stillInFlight();
      if (answer !== 'released') return { answer: replay(answer as StoredAnswer<R>), replayed: true };
    }
  }

  /** After a failure before the intent: a refusal is kept as the key's answer, anything else frees the key. */
  private async abandonClaim(ref: IdempotencyRef, token: string, err: unknown): Promise<void> {
    const kept = err instanceof CmrError ? answerOfError(err) : null;
    try {
      if (kept) await this.idempotency.complete(ref, token, kept.answer, kept.ttlSec);
      else await this.idempotency.release(ref, token);
    } catch {
      // The in-flight record's lease runs out; a repeat then takes the key over.
    }
  }

  private async acquireLocks(user: Identity, lockKeys: string[], token: string): Promise<void> {
    if (lockKeys.length === 0) return;
    const acquired = await this.notifications.waitFor(
      this.keys.settledChannel(user),
      async () => ((await this.store.acquire(lockKeys, token, this.leaseMs)) ? true : undefined),
      this.waitMs,
    );
    if (!acquired) throw new CmrError('conflict', 'another request is changing the same items; try again shortly');
  }

  // ── 2. intent ────────────────────────────────────────────────────────────

  private async begin<R>(
    request: ActionRequest<R>,
    plan: ActionPlan<R>,
    charge: ChargeSpec,
    chargeId: string,
    now: Date,
    lockKeys: string[],
    ref: IdempotencyRef | null,
  ): Promise<Intent> {
    const online = charge.amount > 0 ? this.options.online : this.options.offline;
    const chargeRequest: ChargeRequest = {
      subscriber: request.user,
      kind: plan.kind,
      amount: charge.amount,
      currency: charge.currency,
      resourceIds: charge.resourceIds,
      channel: request.channel,
      ...(charge.calling ? { calling: charge.calling } : {}),
      ...(charge.called ? { called: charge.called } : {}),
      ...(charge.callId ? { callId: charge.callId } : {}),
    };
    const sequenceNumber = online.mode === 'nchf' ? await this.nextSequenceNumber() : 0;
    const intent: Intent = {
      chargeId,
      activityId: `ev-${newId()}`,
      user: request.user,
      subject: plan.subject ?? request.user,
      actor: request.actor,
      kind: plan.kind,
      channel: request.channel,
      createdAt: now.toISOString(),
      state: 'charging',
      mode: online.mode,
      request: chargeRequest,
      invocation: { sequenceNumber, timestamp: now.toISOString() },
      command: plan.command ?? null,
      answer: plan.answer,
      detail: plan.detail ?? {},
      locks: lockKeys,
      ...(ref ? { idempotency: ref } : {}),
    };
    const item = { user: request.user, id: chargeId };
    await this.pending.announce(item, Date.now() + this.leaseMs);
    try {
      await this.store.begin(intent, this.leaseMs, ref ? { key: this.idempotency.recordKey(ref), record: this.idempotency.inFlightRecord(ref, chargeId, this.leaseMs, chargeId) } : null);
    } catch (err) {
      // The write may have landed although it failed here (a timeout, or the connection lost before
      // the reply). The caller is told nothing was done, so the intent must never be charged.
      this.takeBack(intent);
      throw isRedisFailure(err) || err instanceof CmrError ? err : new CmrError('dependency-unavailable', 'the action could not be started', { retryAfterSec: 1 });
    }
    return intent;
  }

  /**
   * Removes an intent whose start failed here, now or as soon as the store answers again. Until
   * then the work lock it was written with keeps the recoverer off for its lease, and this
   * instance's recoverer discards it rather than charging it.
   */
  private takeBack(intent: Intent, delayMs = 0): void {
    this.abandoned.set(intent.chargeId, intent);
    setTimeout(() => {
      this.store.discard(intent).then(
        () => this.abandoned.delete(intent.chargeId),
        () => {
          if (!this.stopped) this.takeBack(intent, Math.min(Math.max(2 * delayMs, 100), TAKE_BACK_MAX_DELAY_MS));
        },
      );
    }, delayMs).unref();
  }

  /** Stops taking back abandoned intents (the store is being closed). */
  stop(): void {
    this.stopped = true;
  }

  /** Invocation sequence numbers are unique per consumer (Uint32), so the CHF can recognise retransmissions. */
  private async nextSequenceNumber(): Promise<number> {
    const n = await storeCall(() => this.redis.incr(this.keys.chargeSequence));
    return n % 4_294_967_296;
  }

  // ── 3. charge ────────────────────────────────────────────────────────────

  private async charge(intent: Intent, retransmission: boolean): Promise<ChargeOutcome> {
    const port = intent.mode === 'nchf' ? this.options.online : this.options.offline;
    const outcome = await port.charge(intent.request, { chargeId: intent.chargeId, ...intent.invocation, retransmission });
    this.metrics.charges.inc({ mode: port.mode, outcome: outcome.status });
    this.logger.info(
      {
        event: 'charge',
        chargeId: intent.chargeId,
        user: intent.user,
        kind: intent.kind,
        amount: intent.request.amount,
        mode: port.mode,
        outcome: outcome.status,
        retransmission,
        ...(intent.request.callId ? { callId: intent.request.callId } : {}),
      },
      'charging outcome',
    );
    return outcome;
  }

  /** Acts on the charging outcome; on the live path throws the caller's 402/503. */
  private async conclude(intent: Intent, outcome: ChargeOutcome, workToken: string, live: boolean): Promise<void> {
    if (outcome.status === 'granted') {
      intent.state = 'granted';
      if (outcome.reference) intent.reference = outcome.reference;
      try {
        await this.apply(intent, workToken);
      } catch (err) {
        this.logger.error({ event: 'apply-failed', chargeId: intent.chargeId, user: intent.user, err: (err as Error).message }, 'granted charge not applied yet');
        if (!live) throw err;
        await this.store.updateIntent(intent).catch(() => undefined);
        await this.handOverToRecoverer(intent, workToken);
        throw new CmrError('dependency-unavailable', `charge ${intent.chargeId} is granted and will be applied shortly`, {
          retryAfterSec: GRANTED_RETRY_AFTER_SEC,
          chargeId: intent.chargeId,
        });
      }
      return;
    }
    if (outcome.status === 'unavailable' && outcome.unanswered) {
      // The CHF may have charged without its answer reaching us: dropping the intent would leave
      // that charge unapplied, and a retry would charge again. The intent stays; the recoverer asks
      // again as a retransmission of the same invocation until the CHF answers, then applies the
      // grant or records the refusal. Until then the locks and the idempotency key stay with it.
      this.logger.warn({ event: 'charge-unanswered', chargeId: intent.chargeId, user: intent.user, reason: outcome.reason }, 'no charging answer; left to the recoverer');
      await this.handOverToRecoverer(intent, workToken);
      throw new CmrError('dependency-unavailable', `the Charging Enabler did not answer; charge ${intent.chargeId} is applied shortly only if it was made`, {
        retryAfterSec: outcome.retryAfterSec,
        chargeId: intent.chargeId,
      });
    }
    if (outcome.status === 'denied') {
      const error = new CmrError('charging-denied', `the Charging Enabler refused the charge (${outcome.reason})`, { chargeId: intent.chargeId, reason: outcome.reason });
      await this.settleRefused(intent, workToken, 'denied', error, outcome.reason);
      if (live) throw error;
      return;
    }
    const error = new CmrError('dependency-unavailable', 'the Charging Enabler is unavailable; nothing was applied', {
      retryAfterSec: outcome.retryAfterSec,
      chargeId: intent.chargeId,
    });
    await this.settleRefused(intent, workToken, 'failed', error, outcome.reason);
    throw error;
  }

  /** Leaves a live request's intent to the recoverer: due again shortly, its work lock freed. */
  private async handOverToRecoverer(intent: Intent, workToken: string): Promise<void> {
    await this.pending.reschedule({ user: intent.user, id: intent.chargeId }, Date.now() + HAND_OVER_DELAY_MS).catch(() => undefined);
    await this.store.release([this.store.workLockKey(intent.user, intent.chargeId)], workToken).catch(() => undefined);
  }

  // ── 4. apply ─────────────────────────────────────────────────────────────

  private async apply(intent: Intent, workToken: string): Promise<void> {
    for (let attempt = 1; attempt <= MAX_APPLY_ATTEMPTS; attempt++) {
      const all = intent.command ? await this.writesOf(intent.command, intent.user, intent.chargeId, intent.createdAt) : [];
      const charge = this.chargeRecord(intent, 'granted');
      const activity = this.activityRecord(intent, 'success', charge);
      const result = await this.store.settle({
        user: intent.user,
        intentId: intent.chargeId,
        writes: all.filter((w) => !elsewhere(w, intent.user)),
        charge,
        activity,
        outbox: this.outboxEntry(intent, activity, charge, all),
        ...this.idempotencyWrite(intent, { ok: true, value: intent.answer }, ANSWER_TTL_SEC),
        unlock: this.unlocks(intent, workToken),
      });
      if (result.status === 'stale') continue;
      await this.afterSettle(intent.user, intent.chargeId, result.status === 'ok');
      return;
    }
    throw new Error(`charge ${intent.chargeId}: its writes kept meeting concurrent changes`);
  }

  /** Records a refused or failed charge: the activity (and a denied charge record); nothing applied. */
  private async settleRefused(intent: Intent, workToken: string, result: 'denied' | 'failed', error: CmrError, reason: string): Promise<void> {
    const charge = result === 'denied' ? { ...this.chargeRecord(intent, 'denied'), reason } : undefined;
    const activity = this.activityRecord(intent, result, charge, reason);
    // A refusal is the key's answer for its full term; "unavailable" only for its Retry-After.
    const ttlSec = result === 'denied' ? ANSWER_TTL_SEC : Math.max(1, Math.ceil(error.extra.retryAfterSec ?? 1));
    try {
      const settled = await this.store.settle({
        user: intent.user,
        intentId: intent.chargeId,
        writes: [],
        ...(charge ? { charge } : {}),
        activity,
        outbox: this.outboxEntry(intent, activity, charge, []),
        ...this.idempotencyWrite(intent, { ok: false, error: { code: error.code, detail: error.detail, extra: error.extra } }, ttlSec),
        unlock: this.unlocks(intent, workToken),
      });
      await this.afterSettle(intent.user, intent.chargeId, settled.status === 'ok');
    } catch (err) {
      // The intent stays: the recoverer asks the CHF again (same invocation) and settles it.
      this.logger.warn({ event: 'settle-failed', chargeId: intent.chargeId, err: (err as Error).message }, 'refused charge not recorded yet');
    }
  }

  /** An action with no charging event: its writes, activity and answer in one settlement. */
  private async settleUncharged<R>(
    request: ActionRequest<R>,
    plan: ActionPlan<R>,
    id: string,
    now: Date,
    lockKeys: string[],
    ref: IdempotencyRef | null,
  ): Promise<R> {
    const item = { user: request.user, id };
    await this.pending.announce(item, Date.now() + this.leaseMs);
    for (let attempt = 1; attempt <= MAX_APPLY_ATTEMPTS; attempt++) {
      const all = plan.command ? await this.writesOf(plan.command, request.user, null, now.toISOString()) : [];
      const activity: ActivityRecord = {
        id: `ev-${newId()}`,
        at: now.toISOString(),
        actor: request.actor,
        subject: plan.subject ?? request.user,
        kind: plan.kind,
        channel: request.channel,
        result: 'success',
        chargeId: null,
        detail: plan.detail ?? {},
      };
      const outbox = outboxEntryOf(id, request.user, activity, all);
      const result = await this.store.settle({
        user: request.user,
        writes: all.filter((w) => !elsewhere(w, request.user)),
        activity,
        outbox,
        ...(ref ? { idempotency: { key: this.idempotency.recordKey(ref), record: this.idempotency.doneRecord(ref, { ok: true, value: plan.answer }), ttlSec: ANSWER_TTL_SEC } } : {}),
        unlock: lockKeys.map((key) => [key, id] as [string, string]),
      });
      if (result.status === 'stale') continue;
      await this.afterSettle(request.user, id, true);
      return plan.answer;
    }
    throw new CmrError('conflict', 'the data changed repeatedly while the request was applied; try again');
  }

  private async afterSettle(user: Identity, id: string, relay: boolean): Promise<void> {
    await this.notifications.publish(this.keys.settledChannel(user));
    if (!relay) return;
    try {
      await this.relay.relay({ user, id });
    } catch (err) {
      // Relayed later by the recoverer: the outbox entry is durable.
      this.logger.warn({ event: 'relay-deferred', id, err: (err as Error).message }, 'outbox relay deferred');
    }
  }

  private async writesOf(command: Command, user: Identity, chargeId: string | null, at: string): Promise<Write[]> {
    const applier = this.appliers.get(command.type);
    if (!applier) throw new Error(`no applier registered for command ${command.type}`);
    return applier(command.args, this.applyContext(user, chargeId, at));
  }

  private applyContext(user: Identity, chargeId: string | null, at: string): ApplyContext {
    const userKeys = this.keys.user(user);
    return {
      user,
      chargeId,
      at,
      read: async <C extends Collection>(collection: C, id: string): Promise<Versioned<Collections[C]>> => {
        const raw = await storeCall(() => this.redis.hget(collection === 'library' ? userKeys.library : userKeys.boxes, id));
        return { raw, doc: raw === null ? null : (JSON.parse(raw) as Collections[C]) };
      },
      readPreferences: async (): Promise<Versioned<Preferences>> => {
        const raw = await storeCall(() => this.redis.get(userKeys.preferences));
        return { raw, doc: raw === null ? defaultPreferences() : { ...defaultPreferences(), ...(JSON.parse(raw) as Partial<Preferences>) } };
      },
    };
  }

  // ── records ──────────────────────────────────────────────────────────────

  private chargeRecord(intent: Intent, outcome: 'granted' | 'denied'): ChargeRecord {
    const r = intent.request;
    return {
      id: intent.chargeId,
      at: intent.createdAt,
      subscriber: r.subscriber,
      kind: r.kind,
      amount: r.amount,
      currency: r.currency,
      outcome,
      mode: intent.mode,
      resourceIds: r.resourceIds,
      ...(r.calling ? { calling: r.calling } : {}),
      ...(r.called ? { called: r.called } : {}),
      ...(intent.reference ? { reference: intent.reference } : {}),
      activityId: intent.activityId,
    };
  }

  private activityRecord(intent: Intent, result: ActivityResult, charge: ChargeRecord | undefined, reason?: string): ActivityRecord {
    return {
      id: intent.activityId,
      at: intent.createdAt,
      actor: intent.actor,
      subject: intent.subject,
      kind: intent.kind,
      channel: intent.channel,
      result,
      chargeId: intent.chargeId,
      detail: {
        ...intent.detail,
        charge: { amount: intent.request.amount, currency: intent.request.currency, mode: intent.mode, outcome: charge?.outcome ?? 'none' },
        ...(reason ? { reason } : {}),
      },
    };
  }

  private outboxEntry(intent: Intent, activity: ActivityRecord, charge: ChargeRecord | undefined, all: Write[]): OutboxEntry {
    const entry = outboxEntryOf(intent.chargeId, intent.user, activity, all);
    if (charge) entry.charge = charge;
    return entry;
  }

  private idempotencyWrite(intent: Intent, answer: StoredAnswer, ttlSec: number): { idempotency?: { key: string; record: string; ttlSec: number } } {
    const ref = intent.idempotency;
    if (!ref) return {};
    return { idempotency: { key: this.idempotency.recordKey(ref), record: this.idempotency.doneRecord(ref, answer), ttlSec } };
  }

  private unlocks(intent: Intent, workToken: string): Array<[string, string]> {
    return [[this.store.workLockKey(intent.user, intent.chargeId), workToken], ...intent.locks.map((key) => [key, intent.chargeId] as [string, string])];
  }
}

function elsewhere(write: Write, user: Identity): boolean {
  return write.op === 'create' && write.user !== undefined && write.user !== user;
}

/**
 * The outbox entry of a settled action: its activity, plus for every other user concerned (the
 * activity's subject, a receiver of created documents) those documents and a copy of the activity.
 */
function outboxEntryOf(id: string, user: Identity, activity: ActivityRecord, all: Write[]): OutboxEntry {
  const byUser = new Map<Identity, Array<{ collection: Collection; id: string; value: string }>>();
  if (activity.subject && activity.subject !== user) byUser.set(activity.subject, []);
  for (const write of all) {
    if (write.op !== 'create' || !elsewhere(write, user)) continue;
    const list = byUser.get(write.user!) ?? [];
    list.push({ collection: write.collection, id: write.doc.id, value: JSON.stringify(write.doc) });
    byUser.set(write.user!, list);
  }
  const entry: OutboxEntry = { id, user, activity };
  if (byUser.size > 0) entry.elsewhere = [...byUser].map(([target, creates]) => ({ user: target, creates, activity: true }));
  return entry;
}
