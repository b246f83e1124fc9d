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
 * A charge this server records itself (`cdr`, and zero-priced events) is granted at once and
 * leaves nothing to recover at the CHF: steps 2 to 4 are then one script, with no intent (see
 * `chargeAndApply`).
 *
 * After a crash the recoverer finds unsettled intents through the pending index. One whose CHF
 * answer was never seen is charged again as a retransmission of the same invocation, so the CHF
 * answers from its record and never charges twice; then it is applied or dropped.
 */
import { monotonicUlids } from '../domain/ids.js';
import { CmrError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { ActivityKind, ActivityRecord, ActivityResult, Channel, ChargeRecord } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { OutboxRelay } from '../activity/outbox-relay.js';
import { ANSWER_TTL_SEC, answerOfError, replay, stillInFlight, type IdempotencyRef, type IdempotencyStore, type StoredAnswer } from '../store/idempotency-store.js';
import type { Keys } from '../store/keys.js';
import type { Notifications } from '../store/notifications.js';
import type { PendingWork } from '../store/pending-work.js';
import { isRedisFailure } from '../store/redis.js';
import type { ActionStore, Command, Intent, OutboxEntry, Settlement, SettleResult } from './action-store.js';
import type { ChargeOutcome, ChargeRequest, ChargingPort } from './charging-port.js';
import { builtInAppliers, type Applier, type ApplyContext, type Collection, type Write } from './writes.js';

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
  /**
   * Tells indexes in other hash slots what the command will write, before anything is written
   * (e.g. the sweeper's index of new library entries); sent with the action's own announcement.
   */
  announce?: () => Promise<void>;
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

/** Applier by command type. Complete at construction: the recoverer may resume any command after a restart. */
export type ApplierTable = Readonly<Record<string, Applier<never>>>;

export interface ChargedActionsParts {
  /** Every Redis command of an action goes through the store. */
  store: ActionStore;
  idempotency: IdempotencyStore;
  pending: PendingWork;
  relay: OutboxRelay;
  notifications: Notifications;
  keys: Keys;
  metrics: Metrics;
  logger: Logger;
  /** Charging port for priced events (`cdr` or `nchf`). */
  online: ChargingPort;
  /** Port for zero-priced events: offline records. */
  offline: ChargingPort;
  chfTimeoutMs: number;
  /** How long an intent is left to its request before the recoverer may take it (default from the CHF timeout). */
  leaseMs?: number;
  /** Appliers of other modules' commands, beside the built-in ones. */
  appliers?: ApplierTable;
  now?: () => Date;
}

/** What one settlement carries besides its writes, built once the writes are known. */
type SettlementRecords = Omit<Settlement, 'user' | 'intentId' | 'writes'>;

/** A settlement's end: written here (with the outbox entry to relay), settled elsewhere, or always meeting concurrent changes. */
type Settled = { status: 'ok'; outbox: OutboxEntry } | { status: Exclude<SettleResult['status'], 'ok'> };

const MAX_APPLY_ATTEMPTS = 5;
const GRANTED_RETRY_AFTER_SEC = 2;
/** How soon the recoverer takes over an intent its request could not settle. */
const HAND_OVER_DELAY_MS = 1000;
const TAKE_BACK_MAX_DELAY_MS = 5000;
const newId = monotonicUlids();

export class ChargedActions {
  private readonly appliers: ReadonlyMap<string, Applier<unknown>>;
  /** Intents whose start the store may have carried out although it reported a failure (see `takeBack`). */
  private readonly abandoned = new Map<string, Intent>();
  private stopped = false;
  private readonly store: ActionStore;
  private readonly now: () => Date;
  /** How long an intent is left to its live request before the recoverer may take it. */
  readonly leaseMs: number;
  /** How long a request waits for a lock or for a repeat's first answer. */
  readonly waitMs: number;

  constructor(private readonly parts: ChargedActionsParts) {
    this.store = parts.store;
    this.now = parts.now ?? (() => new Date());
    this.leaseMs = parts.leaseMs ?? Math.max(30_000, 3 * parts.chfTimeoutMs + 5_000);
    this.waitMs = 2 * parts.chfTimeoutMs + 3_000;
    const clashing = Object.keys(parts.appliers ?? {}).filter((type) => type in builtInAppliers);
    if (clashing.length > 0) throw new Error(`appliers ${clashing.join(', ')} are built in`);
    this.appliers = new Map(Object.entries({ ...builtInAppliers, ...parts.appliers }) as Array<[string, Applier<unknown>]>);
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
      if (ref) await this.parts.idempotency.release(ref, chargeId).catch(() => undefined);
      throw err;
    }
    try {
      const now = this.now();
      plan = await request.prepare({ chargeId, now });
      if (!plan.charge) return { answer: await this.settleUncharged(request, plan, chargeId, now, lockKeys, ref), replayed: false };
      intent = await this.intentOf(request, plan, plan.charge, chargeId, now, lockKeys, ref);
      await this.announce(request.user, chargeId, plan);
      if (intent.mode === 'cdr') {
        await this.chargeAndApply(intent);
        return { answer: plan.answer, replayed: false };
      }
      await this.begin(intent, ref);
    } catch (err) {
      if (lockKeys.length > 0) {
        await this.store.release(lockKeys, chargeId).catch(() => undefined);
        await this.parts.notifications.publish(this.parts.keys.settledChannel(request.user));
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
      const claim = await this.parts.idempotency.claim(ref, token, this.leaseMs);
      if (claim.state === 'new') return null;
      if (claim.state === 'done') return { answer: replay(claim.answer as StoredAnswer<R>), replayed: true };
      const answer = await this.parts.idempotency.awaitAnswer(ref, Math.max(0, deadline - Date.now()));
      if (answer === undefined) throw stillInFlight();
      if (answer !== 'released') return { answer: replay(answer as StoredAnswer<R>), replayed: true };
    }
  }

  /** After a failure before the intent: a refusal is kept as the key's answer, anything else frees the key. */
  private async abandonClaim(ref: IdempotencyRef, token: string, err: unknown): Promise<void> {
    const kept = err instanceof CmrError ? answerOfError(err) : null;
    try {
      if (kept) await this.parts.idempotency.complete(ref, token, kept.answer, kept.ttlSec);
      else await this.parts.idempotency.release(ref, token);
    } catch {
      // The in-flight record's lease runs out; a repeat then takes the key over.
    }
  }

  private async acquireLocks(user: Identity, lockKeys: string[], token: string): Promise<void> {
    if (lockKeys.length === 0) return;
    const acquired = await this.parts.notifications.waitFor(
      this.parts.keys.settledChannel(user),
      async () => ((await this.store.acquire(lockKeys, token, this.leaseMs)) ? true : undefined),
      this.waitMs,
    );
    if (!acquired) throw new CmrError('conflict', 'another request is changing the same items; try again shortly');
  }

  // ── 2. intent ────────────────────────────────────────────────────────────

  /** Tells the pending index (and the plan's other indexes) of the action, before anything of it is written. */
  private async announce(user: Identity, id: string, plan: ActionPlan<unknown>): Promise<void> {
    await Promise.all([this.parts.pending.announce({ user, id }, Date.now() + this.leaseMs), plan.announce?.()]);
  }

  /** The action as its intent, written or not (see `begin` and `chargeAndApply`). */
  private async intentOf<R>(
    request: ActionRequest<R>,
    plan: ActionPlan<R>,
    charge: ChargeSpec,
    chargeId: string,
    now: Date,
    lockKeys: string[],
    ref: IdempotencyRef | null,
  ): Promise<Intent> {
    const online = charge.amount > 0 ? this.parts.online : this.parts.offline;
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
    const sequenceNumber = online.mode === 'nchf' ? await this.store.nextSequenceNumber() : 0;
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
    return intent;
  }

  /** Writes the intent of a charge the CHF is asked for, announced already. */
  private async begin(intent: Intent, ref: IdempotencyRef | null): Promise<void> {
    const { chargeId } = intent;
    try {
      await this.store.begin(intent, this.leaseMs, ref ? { key: this.parts.idempotency.recordKey(ref), record: this.parts.idempotency.inFlightRecord(ref, chargeId, this.leaseMs, chargeId) } : null);
    } catch (err) {
      // The write may have landed although it failed here (a timeout, or the connection lost before
      // the reply). The caller is told nothing was done, so the intent must never be charged.
      this.takeBack(intent);
      throw isRedisFailure(err) || err instanceof CmrError ? err : new CmrError('dependency-unavailable', 'the action could not be started', { retryAfterSec: 1 });
    }
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

  // ── 3. charge ────────────────────────────────────────────────────────────

  private async charge(intent: Intent, retransmission: boolean): Promise<ChargeOutcome> {
    const outcome = await this.askCharge(intent, retransmission);
    this.noteCharge(intent, outcome.status, retransmission);
    return outcome;
  }

  private askCharge(intent: Intent, retransmission: boolean): Promise<ChargeOutcome> {
    const port = intent.mode === 'nchf' ? this.parts.online : this.parts.offline;
    return port.charge(intent.request, { chargeId: intent.chargeId, ...intent.invocation, retransmission });
  }

  /** The charge's outcome in the metrics and the log: once it is what the user was charged. */
  private noteCharge(intent: Intent, outcome: ChargeOutcome['status'], retransmission: boolean): void {
    const mode = intent.mode;
    this.parts.metrics.charges.inc({ mode, outcome });
    this.parts.logger.info(
      {
        event: 'charge',
        chargeId: intent.chargeId,
        user: intent.user,
        kind: intent.kind,
        amount: intent.request.amount,
        mode,
        outcome,
        retransmission,
        ...(intent.request.callId ? { callId: intent.request.callId } : {}),
      },
      'charging outcome',
    );
  }

  /** Acts on the charging outcome; on the live path throws the caller's 402/503. */
  private async conclude(intent: Intent, outcome: ChargeOutcome, workToken: string, live: boolean): Promise<void> {
    if (outcome.status === 'granted') {
      intent.state = 'granted';
      if (outcome.reference) intent.reference = outcome.reference;
      try {
        await this.apply(intent, workToken);
      } catch (err) {
        this.parts.logger.error({ event: 'apply-failed', chargeId: intent.chargeId, user: intent.user, err: (err as Error).message }, 'granted charge not applied yet');
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
      this.parts.logger.warn({ event: 'charge-unanswered', chargeId: intent.chargeId, user: intent.user, reason: outcome.reason }, 'no charging answer; left to the recoverer');
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
    await this.parts.pending.reschedule({ user: intent.user, id: intent.chargeId }, Date.now() + HAND_OVER_DELAY_MS).catch(() => undefined);
    await this.store.release([this.store.workLockKey(intent.user, intent.chargeId)], workToken).catch(() => undefined);
  }

  // ── 4. apply ─────────────────────────────────────────────────────────────

  private async apply(intent: Intent, workToken: string): Promise<void> {
    const settled = await this.settle(intent.user, intent.chargeId, intent.command, intent.chargeId, intent.createdAt, (all) => ({
      ...this.grantedRecords(intent, all),
      unlock: this.unlocks(intent, workToken),
    }));
    if (settled.status === 'stale') throw new Error(`charge ${intent.chargeId}: its writes kept meeting concurrent changes`);
    await this.afterSettle(intent.user, settled);
  }

  /**
   * A charge recorded here (`cdr`) is granted at once and keeps no state elsewhere, so it needs no
   * intent to survive on: the charge record, the effect, the activity, the outbox entry and the
   * answer are written by one script, all or nothing, and only while this request still holds its
   * locks and its idempotency claim. A crash or a failed script leaves nothing charged.
   */
  private async chargeAndApply(intent: Intent): Promise<void> {
    const outcome = await this.askCharge(intent, false);
    if (outcome.status !== 'granted') {
      this.noteCharge(intent, outcome.status, false);
      throw new CmrError('dependency-unavailable', 'the charge could not be recorded; nothing was applied', { retryAfterSec: 1 });
    }
    intent.state = 'granted';
    const settled = await this.settle(intent.user, undefined, intent.command, intent.chargeId, intent.createdAt, (all) => ({
      ...this.grantedRecords(intent, all),
      unlock: intent.locks.map((key) => [key, intent.chargeId] as [string, string]),
      held: intent.idempotency ? { claimToken: intent.chargeId } : {},
    }));
    if (settled.status !== 'ok') {
      // Nothing was written: the announcement names no work.
      await this.parts.pending.done({ user: intent.user, id: intent.chargeId }).catch(() => undefined);
      throw new CmrError(
        'conflict',
        settled.status === 'lost' ? 'another request took over the same items; try again' : 'the data changed repeatedly while the request was applied; try again',
      );
    }
    // Counted once the script has written the charge record: a charge not written was never made.
    this.noteCharge(intent, 'granted', false);
    await this.afterSettle(intent.user, settled);
  }

  /** What a granted charge settles besides its writes and unlocks: the charge and activity records, the outbox entry, the answer. */
  private grantedRecords(intent: Intent, all: Write[]): Omit<SettlementRecords, 'unlock'> {
    const charge = this.chargeRecord(intent, 'granted');
    const activity = this.activityRecord(intent, 'success', charge);
    return {
      charge,
      activity,
      outbox: this.outboxEntry(intent, activity, charge, all),
      ...this.idempotencyWrite(intent.idempotency, { ok: true, value: intent.answer }, ANSWER_TTL_SEC),
    };
  }

  /** Records a refused or failed charge: the activity (and a denied charge record); nothing applied. */
  private async settleRefused(intent: Intent, workToken: string, result: 'denied' | 'failed', error: CmrError, reason: string): Promise<void> {
    const charge = result === 'denied' ? { ...this.chargeRecord(intent, 'denied'), reason } : undefined;
    const activity = this.activityRecord(intent, result, charge, reason);
    // A refusal is the key's answer for its full term; "unavailable" only for its Retry-After.
    const ttlSec = result === 'denied' ? ANSWER_TTL_SEC : Math.max(1, Math.ceil(error.extra.retryAfterSec ?? 1));
    try {
      const settled = await this.settle(intent.user, intent.chargeId, null, intent.chargeId, intent.createdAt, () => ({
        ...(charge ? { charge } : {}),
        activity,
        outbox: this.outboxEntry(intent, activity, charge, []),
        ...this.idempotencyWrite(intent.idempotency, { ok: false, error: { code: error.code, detail: error.detail, extra: error.extra } }, ttlSec),
        unlock: this.unlocks(intent, workToken),
      }));
      await this.afterSettle(intent.user, settled);
    } catch (err) {
      // The intent stays: the recoverer asks the CHF again (same invocation) and settles it.
      this.parts.logger.warn({ event: 'settle-failed', chargeId: intent.chargeId, err: (err as Error).message }, 'refused charge not recorded yet');
    }
  }

  /** An action with no charging event: its writes, activity and answer in one settlement. */
  private async settleUncharged<R>(request: ActionRequest<R>, plan: ActionPlan<R>, id: string, now: Date, lockKeys: string[], ref: IdempotencyRef | null): Promise<R> {
    await this.announce(request.user, id, plan);
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
    const settled = await this.settle(request.user, undefined, plan.command ?? null, null, activity.at, (all) => ({
      activity,
      outbox: outboxEntryOf(id, request.user, activity, all),
      ...this.idempotencyWrite(ref ?? undefined, { ok: true, value: plan.answer }, ANSWER_TTL_SEC),
      unlock: lockKeys.map((key) => [key, id] as [string, string]),
    }));
    if (settled.status === 'stale') throw new CmrError('conflict', 'the data changed repeatedly while the request was applied; try again');
    await this.afterSettle(request.user, settled);
    return plan.answer;
  }

  /**
   * The one settle path of every action, charged or not: runs the command's applier on current data
   * and settles its writes with the records in one script; again on fresh data while a write meets
   * a concurrent change ('stale' once the attempts are spent). Settled, it answers the outbox entry
   * written, to relay.
   */
  private async settle(
    user: Identity,
    intentId: string | undefined,
    command: Command | null,
    chargeId: string | null,
    at: string,
    records: (all: Write[]) => SettlementRecords,
  ): Promise<Settled> {
    for (let attempt = 1; attempt <= MAX_APPLY_ATTEMPTS; attempt++) {
      const all = command ? await this.writesOf(command, user, chargeId, at) : [];
      const settlement = records(all);
      const result = await this.store.settle({ user, ...(intentId ? { intentId } : {}), writes: all.filter((w) => !elsewhere(w, user)), ...settlement });
      if (result.status === 'ok') return { status: 'ok', outbox: settlement.outbox };
      if (result.status !== 'stale') return { status: result.status };
    }
    return { status: 'stale' };
  }

  /** Relays what was settled here; a settlement that did not run (settled elsewhere) still wakes the waiters. */
  private async afterSettle(user: Identity, settled: Settled): Promise<void> {
    if (settled.status !== 'ok') {
      await this.parts.notifications.publish(this.parts.keys.settledChannel(user));
      return;
    }
    try {
      await this.parts.relay.relayEntry(settled.outbox);
    } catch (err) {
      // Relayed later by the recoverer: the outbox entry is durable.
      this.parts.logger.warn({ event: 'relay-deferred', id: settled.outbox.id, err: (err as Error).message }, 'outbox relay deferred');
    }
  }

  private async writesOf(command: Command, user: Identity, chargeId: string | null, at: string): Promise<Write[]> {
    const applier = this.appliers.get(command.type);
    if (!applier) throw new Error(`no applier registered for command ${command.type}`);
    return applier(command.args, this.applyContext(user, chargeId, at));
  }

  private applyContext(user: Identity, chargeId: string | null, at: string): ApplyContext {
    return {
      user,
      chargeId,
      at,
      read: (collection, id) => this.store.readDocument(user, collection, id),
      readPreferences: () => this.store.readPreferences(user),
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

  private idempotencyWrite(ref: IdempotencyRef | undefined, answer: StoredAnswer, ttlSec: number): Pick<Settlement, 'idempotency'> {
    if (!ref) return {};
    return { idempotency: { key: this.parts.idempotency.recordKey(ref), record: this.parts.idempotency.doneRecord(ref, answer), ttlSec } };
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
