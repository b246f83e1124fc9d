/**
 * Library upkeep in the background: entries are expired on time, and entries that renew
 * themselves are renewed `renewAhead` before they expire — charged like a renewal the user asks
 * for; a refused renewal ends the entry at once, after the refusal is recorded as a denied
 * activity. A renewal the Charging Enabler could not answer is tried again a little later.
 *
 * The sweeper reads the expiry index (never the users), and handles each due entry under a lock
 * of its own, so one instance at a time looks at an entry. Each renewal also carries an
 * idempotency key naming the entry and the expiry it extends: should two instances ever meet on
 * one (a lock lease ran out), the second gets the first one's answer, and the user pays once.
 * Started by the wiring, stopped on close; `now` comes from the wiring, so tests move the clock.
 */
import { randomUUID } from 'node:crypto';
import type { ActionStore } from '../charging/action-store.js';
import { CmrError } from '../domain/errors.js';
import type { LibraryEntry } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { fingerprintOf } from '../store/idempotency-store.js';
import type { Keys } from '../store/keys.js';
import type { UserStore } from '../store/user-store.js';
import type { ExpiryIndex, TrackedEntry } from './expiry-index.js';
import type { EntryGuard, LibraryService } from './library-service.js';
import { systemRequester } from './management-action.js';

export type SweepOutcome = 'renewed' | 'refused' | 'expired' | 'deferred' | 'rescheduled' | 'dropped' | 'busy';

export interface SweepResult extends TrackedEntry {
  outcome: SweepOutcome;
}

export interface SweeperOptions {
  /** Pause between passes; also the least delay before an entry that could not be handled is tried again. */
  intervalMs: number;
}

/** Entries handled per pass; a full pass that got somewhere is followed at once by the next. */
const BATCH = 100;

export interface SweeperDeps {
  index: ExpiryIndex;
  library: LibraryService;
  users: UserStore;
  locks: ActionStore;
  keys: Keys;
  metrics: Metrics;
  logger: Logger;
  now: () => Date;
  /** How long one entry's lock is held at most (a renewal waits for the Charging Enabler). */
  leaseMs: number;
}

export class RenewalSweeper {
  private readonly instance = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: SweeperDeps,
    private readonly options: SweeperOptions,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .then((results) => results.length === BATCH && results.some((r) => r.outcome !== 'busy'))
        .catch((err: unknown) => {
          this.deps.logger.warn({ event: 'sweep', err: (err as Error).message }, 'library sweep failed');
          return false;
        })
        .then((more) => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, more ? 0 : this.options.intervalMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over the entries due now; returns what became of each. */
  async runOnce(): Promise<SweepResult[]> {
    const due = await this.deps.index.due(this.deps.now().getTime(), BATCH);
    const results: SweepResult[] = [];
    for (const item of due) {
      if (this.stopped) break;
      const outcome = await this.handle(item);
      this.deps.metrics.librarySweeps.inc({ outcome });
      results.push({ ...item, outcome });
    }
    return results;
  }

  private async handle(item: TrackedEntry): Promise<SweepOutcome> {
    const { locks, keys, logger } = this.deps;
    const lock = keys.user(item.user).lock(`sweep:${item.entryId}`);
    const token = `${this.instance}:${item.entryId}`;
    try {
      if (!(await locks.acquire([lock], token, this.deps.leaseMs))) return 'busy';
    } catch (err) {
      logger.warn({ event: 'sweep', user: item.user, entryId: item.entryId, err: (err as Error).message }, 'entry not swept');
      return 'deferred';
    }
    try {
      return await this.visit(item);
    } catch (err) {
      // The Charging Enabler or the store is unavailable: look again after its Retry-After at the earliest.
      const retryAfterMs = err instanceof CmrError ? (err.extra.retryAfterSec ?? 0) * 1000 : 0;
      const delayMs = Math.max(this.options.intervalMs, retryAfterMs);
      logger.warn({ event: 'sweep', user: item.user, entryId: item.entryId, delayMs, err: (err as Error).message }, 'entry swept again later');
      await this.deps.index.reschedule(item, this.deps.now().getTime() + delayMs).catch(() => undefined);
      return 'deferred';
    } finally {
      await locks.release([lock], token).catch(() => undefined);
    }
  }

  private async visit(item: TrackedEntry): Promise<SweepOutcome> {
    const { index } = this.deps;
    const entry = await this.deps.users.library(item.user).get(item.entryId);
    if (!entry || entry.status !== 'active') {
      await index.forget(item);
      return 'dropped';
    }
    const now = this.deps.now().getTime();
    if (now < index.dueAt(entry)) return this.later(item, index.dueAt(entry));
    if (entry.autoRenew && entry.origin !== 'box') {
      const renewal = await this.renew(item, entry);
      if (renewal !== 'not-renewable') return renewal;
    }
    const expiresAt = Date.parse(entry.expiresAt);
    if (now < expiresAt) return this.later(item, expiresAt);
    return this.expire(item, entry, 'expired', (current, at) => {
      if (Date.parse(current.expiresAt) > at.getTime()) throw notDue(current);
    });
  }

  /** Renews a due entry; a refusal ends it. `not-renewable` when the entry cannot be renewed (withdrawn resource, changed meanwhile). */
  private async renew(item: TrackedEntry, entry: LibraryEntry): Promise<SweepOutcome | 'not-renewable'> {
    const renewalOf = { entryId: entry.id, expiresAt: entry.expiresAt };
    const requester = systemRequester(item.user, { key: `sweep-renew:${entry.id}:${entry.expiresAt}`, fingerprint: fingerprintOf(renewalOf) });
    try {
      const { answer } = await this.deps.library.renew(requester, entry.id, sameAs(entry));
      await this.deps.index.reschedule(item, this.deps.index.dueAt(answer.entry));
      return 'renewed';
    } catch (err) {
      if (!(err instanceof CmrError)) throw err;
      if (err.code === 'charging-denied') return this.expire(item, entry, 'refused', () => undefined);
      if (err.code === 'conflict' || err.code === 'not-found') return 'not-renewable';
      throw err;
    }
  }

  /** Ends the entry if it is still the one read (and `due` agrees); otherwise looks at it afresh. */
  private async expire(item: TrackedEntry, entry: LibraryEntry, outcome: 'expired' | 'refused', due: EntryGuard): Promise<SweepOutcome> {
    const guard: EntryGuard = (current, at) => {
      sameAs(entry)(current, at);
      due(current, at);
    };
    try {
      await this.deps.library.expire(systemRequester(item.user), entry.id, guard);
    } catch (err) {
      if (!(err instanceof CmrError) || (err.code !== 'conflict' && err.code !== 'not-found')) throw err;
      return this.afresh(item);
    }
    await this.deps.index.forget(item);
    return outcome;
  }

  /** Re-reads an entry that changed under the sweeper and files it under its exact due time. */
  private async afresh(item: TrackedEntry): Promise<SweepOutcome> {
    const entry = await this.deps.users.library(item.user).get(item.entryId);
    if (!entry || entry.status !== 'active') {
      await this.deps.index.forget(item);
      return 'dropped';
    }
    return this.later(item, this.deps.index.dueAt(entry));
  }

  private async later(item: TrackedEntry, dueAt: number): Promise<SweepOutcome> {
    await this.deps.index.reschedule(item, dueAt);
    return 'rescheduled';
  }
}

/** The entry must still be the one the sweeper read: same expiry, same renewal setting. */
function sameAs(read: LibraryEntry): EntryGuard {
  return (current) => {
    if (current.expiresAt !== read.expiresAt || current.autoRenew !== read.autoRenew) throw notDue(current);
  };
}

function notDue(entry: LibraryEntry): CmrError {
  return new CmrError('conflict', `entry ${entry.id} changed or is not due`);
}
