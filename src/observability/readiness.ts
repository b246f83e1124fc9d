/** `/readyz`: named checks (Redis reachable, SIP front started, …) that must all pass. */
export type ReadinessCheck = () => Promise<boolean> | boolean;

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();
  private draining = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  /** Once draining, the instance reports not ready so load balancers stop sending work. */
  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async report(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          return [name, await check()] as const;
        } catch {
          return [name, false] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    if (this.draining) checks['draining'] = false;
    return { ready: !this.draining && entries.every(([, ok]) => ok), checks };
  }
}
