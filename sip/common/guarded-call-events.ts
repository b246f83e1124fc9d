/**
 * The core's call events as both fronts use them. The presentation service promises never to
 * throw and never to wait past its budget; a front still must not fail or hold up a call if it
 * ever broke that promise (a bug, a wedged store client), so each call here is bounded by the
 * budget plus a little grace and a failure becomes "nothing presented" (contract §3.1, fail
 * open). Every method resolves; none rejects.
 */
import type { Logger } from 'pino';
import type { CallAnnotation, CallEndReason, CallEvents, CallStart } from '../../src/calls/call-events.js';
import type { PresentingSession } from '../../src/domain/types.js';

/** Extra time past the selection budget before a front stops waiting for the core itself. */
const BUDGET_GRACE_MS = 100;

export const NOTHING_PRESENTED: CallAnnotation = { toCaller: [], toCalled: [] };
/** A call whose selection was shed for overload: nothing presented, and nothing kept for the core. */
export const SHED: CallAnnotation = Object.freeze({ toCaller: [], toCalled: [] });

export class GuardedCallEvents implements CallEvents {
  constructor(
    private readonly core: CallEvents,
    private readonly options: { budgetMs: number; logger: Logger },
  ) {}

  callStarted(start: CallStart): Promise<CallAnnotation> {
    return this.bounded(start.callId, 'callStarted', () => this.core.callStarted(start), NOTHING_PRESENTED);
  }

  callAnswered(callId: string): Promise<void> {
    return this.bounded(callId, 'callAnswered', () => this.core.callAnswered(callId), undefined);
  }

  callEnded(callId: string, reason: CallEndReason): Promise<void> {
    return this.bounded(callId, 'callEnded', () => this.core.callEnded(callId, reason), undefined);
  }

  findCall(callId: string, fromTag?: string): Promise<PresentingSession | null> {
    return this.bounded(callId, 'findCall', () => this.core.findCall(callId, fromTag), null);
  }

  /** The core's answer, or `fallback` when it fails or takes past the budget (then the work runs on, unheard). */
  private bounded<T>(callId: string, event: string, call: () => Promise<T>, fallback: T): Promise<T> {
    return new Promise<T>((resolve) => {
      const work = new Promise<T>((settle) => settle(call())); // a synchronous throw becomes a rejection
      const timer = setTimeout(() => {
        this.options.logger.warn({ event: 'fail-open', callId, call: event, reason: 'budget' }, 'call events did not answer in time; call goes on');
        resolve(fallback);
      }, this.options.budgetMs + BUDGET_GRACE_MS);
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.options.logger.warn({ event: 'fail-open', callId, call: event, reason: 'error', err }, 'call events failed; call goes on');
          resolve(fallback);
        },
      );
    });
  }
}
