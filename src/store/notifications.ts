/**
 * Wake-ups across instances over Redis pub/sub: a waiter re-checks its condition whenever its
 * channel is published, and at a slow safety tick in case a publication was missed (publishing is
 * best effort: a crashed publisher's work is finished by the recoverer, which publishes too).
 * One subscriber connection per instance, opened on first wait.
 */
import { Cluster } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { whenReady } from './ready.js';
import type { RedisClient } from './redis.js';

const SAFETY_TICK_MS = 500;

export class Notifications {
  private subscriber: RedisClient | null = null;
  private subscribing: Promise<RedisClient | null> | null = null;
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly subscriptions = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
  ) {}

  async publish(channel: string): Promise<void> {
    try {
      await this.redis.publish(channel, '1');
    } catch (err) {
      this.logger.debug({ event: 'notify-failed', channel, err: (err as Error).message }, 'publish failed');
    }
  }

  /**
   * Resolves with the first defined result of `check`, re-run on every publication of `channel`
   * (and at the safety tick), or with `undefined` once `timeoutMs` has passed.
   */
  async waitFor<T>(channel: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    // Most waits end at the first check (a free lock): they need no subscription. The others
    // check again once subscribed, so a publication between the two checks is not missed.
    const first = await check();
    if (first !== undefined || timeoutMs <= 0 || this.closed) return first;
    let wake: () => void = () => undefined;
    const listener = () => wake();
    await this.listen(channel, listener);
    try {
      for (;;) {
        const pending = new Promise<void>((resolve) => {
          wake = resolve;
        });
        const result = await check();
        if (result !== undefined) return result;
        const left = deadline - Date.now();
        if (left <= 0 || this.closed) return undefined;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([pending, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(left, SAFETY_TICK_MS))))]);
        clearTimeout(timer);
      }
    } finally {
      this.unlisten(channel, listener);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.listeners.values()) for (const listener of set) listener();
    this.listeners.clear();
    const subscriber = this.subscriber ?? (await this.subscribing?.catch(() => null)) ?? null;
    this.subscriber = null;
    if (subscriber) subscriber.disconnect();
  }

  /** Adds the listener; resolves once the channel's subscription is active (or has failed). */
  private listen(channel: string, listener: () => void): Promise<void> {
    const set = this.listeners.get(channel);
    if (set) {
      set.add(listener);
      return this.subscriptions.get(channel) ?? Promise.resolve();
    }
    this.listeners.set(channel, new Set([listener]));
    const subscription = (async () => {
      const subscriber = await this.connectSubscriber();
      try {
        await subscriber?.subscribe(channel);
      } catch (err) {
        // The safety tick still re-checks; only the prompt wake-up is lost.
        this.logger.debug({ event: 'subscribe-failed', channel, err: (err as Error).message }, 'subscribe failed');
      }
    })();
    this.subscriptions.set(channel, subscription);
    return subscription;
  }

  private unlisten(channel: string, listener: () => void): void {
    const set = this.listeners.get(channel);
    if (!set) return;
    set.delete(listener);
    if (set.size > 0) return;
    this.listeners.delete(channel);
    this.subscriptions.delete(channel);
    this.subscriber?.unsubscribe(channel).catch(() => undefined);
  }

  private connectSubscriber(): Promise<RedisClient | null> {
    if (this.subscriber) return Promise.resolve(this.subscriber);
    this.subscribing ??= (async () => {
      const subscriber: RedisClient = this.redis instanceof Cluster ? this.redis.duplicate() : this.redis.duplicate();
      subscriber.on('error', () => undefined);
      subscriber.on('message', (channel: string) => {
        for (const listener of this.listeners.get(channel) ?? []) listener();
      });
      try {
        await whenReady(subscriber);
        if (this.closed) {
          subscriber.disconnect();
          return null;
        }
        this.subscriber = subscriber;
        return subscriber;
      } catch (err) {
        subscriber.disconnect();
        this.logger.debug({ event: 'subscriber-unavailable', err: (err as Error).message }, 'no pub/sub connection');
        return null;
      } finally {
        this.subscribing = null;
      }
    })();
    return this.subscribing;
  }
}
