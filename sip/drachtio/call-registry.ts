/** The live calls of this instance, by the Call-ID of either leg; drain waits for it to empty. */
import { AwaitedCondition } from './awaited-condition.js';
import type { B2bCall } from './b2b-call.js';

export class CallRegistry {
  private readonly calls = new Set<B2bCall>();
  private readonly empty = new AwaitedCondition(() => this.calls.size === 0);

  get size(): number {
    return this.calls.size;
  }

  add(call: B2bCall): void {
    this.calls.add(call);
  }

  remove(call: B2bCall): void {
    this.calls.delete(call);
    this.empty.changed();
  }

  /** The call with this Call-ID on its caller leg or its called-party leg. */
  find(callId: string): B2bCall | undefined {
    for (const call of this.calls) if (call.callId === callId || call.bLegCallId === callId) return call;
    return undefined;
  }

  all(): B2bCall[] {
    return [...this.calls];
  }

  /** Resolves true once no call is left, or false when `limitMs` passes first. */
  whenEmpty(limitMs: number): Promise<boolean> {
    return this.empty.wait(limitMs);
  }
}
