/**
 * Records activities that charge nothing and change nothing through `ChargedActions` — the SP's
 * catalog and client changes, or an event the system notes. A user's record goes to that user's
 * history and, through the outbox, to the global feed; one without a user straight to the feed.
 * (A user's change of data is recorded by `ChargedActions.run`, atomically with the change.)
 */
import { monotonicUlids } from '../domain/ids.js';
import type { ActionStore } from '../charging/action-store.js';
import type { Identity } from '../domain/identity.js';
import type { ActivityKind, ActivityRecord, ActivityResult, Channel } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';
import type { PendingWork } from '../store/pending-work.js';
import type { OutboxRelay } from './outbox-relay.js';

export interface ActivityInput {
  actor: ActivityRecord['actor'];
  /** The user concerned, or null for SP-wide changes (catalog, clients). */
  subject: Identity | null;
  kind: ActivityKind;
  channel: Channel;
  result?: ActivityResult;
  chargeId?: string | null;
  detail?: Record<string, unknown>;
}

const newId = monotonicUlids();

export class ActivityRecorder {
  constructor(
    private readonly store: ActionStore,
    private readonly pending: PendingWork,
    private readonly relay: OutboxRelay,
    private readonly logger: Logger,
    private readonly leaseMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Records an activity whose change is already done (an SP catalog edit): a failure to record is
   * logged, not thrown, so the caller's answer still tells what happened.
   */
  async note(input: ActivityInput): Promise<void> {
    try {
      await this.record(input);
    } catch (err) {
      this.logger.warn({ event: 'activity-not-recorded', kind: input.kind, detail: input.detail, err: (err as Error).message }, 'activity not recorded');
    }
  }

  async record(input: ActivityInput): Promise<ActivityRecord> {
    const activity: ActivityRecord = {
      id: `ev-${newId()}`,
      at: this.now().toISOString(),
      actor: input.actor,
      subject: input.subject,
      kind: input.kind,
      channel: input.channel,
      result: input.result ?? 'success',
      chargeId: input.chargeId ?? null,
      detail: input.detail ?? {},
    };
    if (input.subject === null) {
      await this.relay.appendToFeed(activity);
      return activity;
    }
    const item = { user: input.subject, id: activity.id };
    await this.pending.announce(item, Date.now() + this.leaseMs);
    const outbox = { id: activity.id, user: input.subject, activity };
    await this.store.settle({ user: input.subject, writes: [], activity, outbox, unlock: [] });
    try {
      await this.relay.relayEntry(outbox);
    } catch (err) {
      this.logger.warn({ event: 'relay-deferred', id: activity.id, err: (err as Error).message }, 'outbox relay deferred');
    }
    return activity;
  }
}
