/**
 * A condition of some state that callers wait for, each with its own time limit: the state's
 * owner calls `changed()` whenever it changes, and waiters whose condition now holds wake up.
 */
export class AwaitedCondition {
  private readonly waiters = new Set<() => void>();

  constructor(private readonly holds: () => boolean) {}

  /** Resolves true once the condition holds (at once if it does), false when `limitMs` passes first. */
  wait(limitMs: number): Promise<boolean> {
    if (this.holds()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (held: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve(held);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), limitMs);
      this.waiters.add(wake);
    });
  }

  /** The state changed: wakes every waiter when the condition holds now. */
  changed(): void {
    if (this.holds()) for (const wake of [...this.waiters]) wake();
  }
}
