/**
 * Keeps the store writes of one call in the order its events happened. `callStarted` answers
 * the front before its session is written; an answer or an end that follows is queued behind
 * that write, so it always applies to the session it belongs to, never before it.
 * Ordering holds within one process, which is where a front delivers all events of a call.
 */
export class CallQueue {
  private readonly tails = new Map<string, Promise<void>>();

  constructor(private readonly onError: (callId: string, err: unknown) => void) {}

  /** Runs `task` after every task queued before for `callId`; resolves when it has run (never rejects). */
  enqueue(callId: string, task: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(callId) ?? Promise.resolve();
    const tail = previous.then(task).catch((err: unknown) => this.onError(callId, err));
    this.tails.set(callId, tail);
    void tail.then(() => {
      if (this.tails.get(callId) === tail) this.tails.delete(callId);
    });
    return tail;
  }

  /** Resolves when every task queued so far for `callId` has run. */
  settled(callId: string): Promise<void> {
    return this.tails.get(callId) ?? Promise.resolve();
  }

  /** Resolves when every queued task has run (shutdown). */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}
