/**
 * Finishes what requests could not: unsettled charged actions (granted but not applied, or whose
 * CHF answer was never seen because of a crash) and outbox entries not yet relayed. It reads the
 * global pending index, takes each item's work lock (so one instance at a time handles it), and
 * backs off exponentially per item while it keeps failing. Started by the wiring, stopped on close.
 */
import { randomUUID } from 'node:crypto';
import type { OutboxRelay } from '../activity/outbox-relay.js';
import type { Logger } from '../observability/logger.js';
import type { PendingWork, WorkItem } from '../store/pending-work.js';
import type { ActionStore } from './action-store.js';
import type { ChargedActions } from './charged-actions.js';

export interface RecovererOptions {
  intervalMs?: number;
  batch?: number;
  maxBackoffMs?: number;
}

export class Recoverer {
  private readonly instance = randomUUID();
  private readonly attempts = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private failingSince: number | null = null;
  private lastFailureLog = 0;

  constructor(
    private readonly pending: PendingWork,
    private readonly store: ActionStore,
    private readonly actions: ChargedActions,
    private readonly relay: OutboxRelay,
    private readonly logger: Logger,
    private readonly options: RecovererOptions = {},
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runOnce()
        .then(() => this.passSucceeded())
        .catch((err: unknown) => this.passFailed(err))
        .finally(() => {
          this.running = null;
          if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs ?? 1000);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /**
   * While the store is down every pass fails: said once, then at most once a minute, and once more
   * when passes succeed again, so an outage does not flood the log.
   */
  private passFailed(err: unknown): void {
    const now = Date.now();
    if (this.failingSince === null) this.failingSince = now;
    if (now - this.lastFailureLog < 60_000) return;
    this.lastFailureLog = now;
    this.logger.warn({ event: 'recoverer', failingForMs: now - this.failingSince, err: (err as Error).message }, 'recovery pass failed');
  }

  private passSucceeded(): void {
    if (this.failingSince === null) return;
    this.logger.info({ event: 'recoverer', failedForMs: Date.now() - this.failingSince }, 'recovery passes succeed again');
    this.failingSince = null;
    this.lastFailureLog = 0;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One pass over the items due now; returns how many were finished. */
  async runOnce(): Promise<number> {
    const items = await this.pending.due(Date.now(), this.options.batch ?? 100);
    let finished = 0;
    for (const item of items) {
      if (this.stopped) break;
      if (await this.handle(item)) finished++;
    }
    return finished;
  }

  private async handle(item: WorkItem): Promise<boolean> {
    const lock = this.store.workLockKey(item.user, item.id);
    const token = `${this.instance}:${item.id}`;
    if (!(await this.store.acquire([lock], token, this.actions.leaseMs))) return false;
    const key = `${item.user} ${item.id}`;
    try {
      const intent = await this.store.intent(item.user, item.id);
      if (intent) {
        this.logger.info({ event: 'recover-intent', chargeId: intent.chargeId, user: intent.user, state: intent.state }, 'resuming charged action');
        await this.actions.resume(intent, token);
      }
      await this.relay.relay(item);
      this.attempts.delete(key);
      return true;
    } catch (err) {
      const n = (this.attempts.get(key) ?? 0) + 1;
      this.attempts.set(key, n);
      const delay = Math.min(1000 * 2 ** (n - 1), this.options.maxBackoffMs ?? 300_000);
      this.logger.warn({ event: 'recover-retry', user: item.user, id: item.id, attempt: n, delayMs: delay, err: (err as Error).message }, 'pending work retried later');
      await this.pending.reschedule(item, Date.now() + delay).catch(() => undefined);
      return false;
    } finally {
      await this.store.release([lock], token).catch(() => undefined);
    }
  }
}
