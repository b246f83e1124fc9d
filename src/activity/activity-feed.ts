/**
 * Reading activity records: one user's history (newest first), the SP's global feed (oldest
 * first after a cursor) and a live tail of the feed for Server-Sent Events. Cursors are Redis
 * Stream ids, so a client resumes exactly where it stopped (`after`, `Last-Event-ID`).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { CmrError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { ActivityRecord } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';
import { openBlockingConnection } from '../store/blocking-connection.js';
import type { Keys } from '../store/keys.js';
import { whenReady } from '../store/ready.js';
import { storeCall, type RedisClient } from '../store/redis.js';

export interface FeedItem {
  cursor: string;
  record: ActivityRecord;
}

export interface FeedPage {
  items: FeedItem[];
  next: string | null;
}

type StreamEntry = [id: string, fields: string[]];

const STREAM_ID = /^\d{1,15}-\d{1,15}$/;
/** Pause before re-reading after a read failed on a live link. */
const RETRY_PAUSE_MS = 1000;
/** Longest wait for a lost link to come back before the read is tried again (and fails fast). */
const RECONNECT_WAIT_MS = 30_000;

export function checkCursor(cursor: string): string {
  if (!STREAM_ID.test(cursor)) throw new CmrError('bad-request', 'cursor is not an activity cursor (e.g. 1700000000000-0)');
  return cursor;
}

/** Orders stream ids (`<ms>-<seq>`). */
export function compareCursors(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am !== bm ? am - bm : as - bs;
}

function toItem([id, fields]: StreamEntry): FeedItem | null {
  const at = fields.indexOf('record');
  if (at < 0 || fields[at + 1] === undefined) return null;
  return { cursor: id, record: JSON.parse(fields[at + 1]!) as ActivityRecord };
}

export class ActivityFeed {
  private readonly tail: FeedTail;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    logger: Logger,
  ) {
    this.tail = new FeedTail(redis, keys.activityStream, logger);
  }

  /** A user's activities, newest first; `cursor` continues after the previous page. */
  async forUser(uid: Identity, limit: number, cursor?: string): Promise<FeedPage> {
    const end = cursor ? `(${checkCursor(cursor)}` : '+';
    const entries = (await storeCall(() => this.redis.xrevrange(this.keys.user(uid).activities, end, '-', 'COUNT', limit))) as StreamEntry[];
    const items = entries.map(toItem).filter((i): i is FeedItem => i !== null);
    return { items, next: entries.length === limit ? entries[entries.length - 1]![0] : null };
  }

  /** The global feed, oldest first after `after`; `next` is where to continue (also when empty). */
  async after(after: string | undefined, limit: number): Promise<FeedPage> {
    const start = after ? `(${checkCursor(after)}` : '-';
    const entries = (await storeCall(() => this.redis.xrange(this.keys.activityStream, start, '+', 'COUNT', limit))) as StreamEntry[];
    const items = entries.map(toItem).filter((i): i is FeedItem => i !== null);
    return { items, next: entries.length > 0 ? entries[entries.length - 1]![0] : (after ?? null) };
  }

  /** The cursor of the newest record (`0-0` while the feed is empty): a position to resume from. */
  async newest(): Promise<string> {
    const last = (await storeCall(() => this.redis.xrevrange(this.keys.activityStream, '+', '-', 'COUNT', 1))) as StreamEntry[];
    return last[0]?.[0] ?? '0-0';
  }

  /**
   * Follows the feed: `listener` gets every record appended from now on (and possibly a few just
   * before). Resolves once the position is fixed, so a replay read afterwards leaves no gap.
   */
  follow(listener: (items: FeedItem[]) => void): Promise<() => void> {
    return this.tail.subscribe(listener);
  }

  close(): Promise<void> {
    return this.tail.close();
  }
}

/** One blocking reader per instance, fanned out to every live subscriber. */
class FeedTail {
  private readonly listeners = new Set<(items: FeedItem[]) => void>();
  private reader: RedisClient | null = null;
  private position: Promise<void> | null = null;
  private loop: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly stream: string,
    private readonly logger: Logger,
  ) {}

  async subscribe(listener: (items: FeedItem[]) => void): Promise<() => void> {
    if (this.closed) throw new CmrError('dependency-unavailable', 'the server is shutting down', { retryAfterSec: 1 });
    this.position ??= this.start().catch((err: unknown) => {
      this.position = null;
      throw err;
    });
    await this.position;
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.reader?.disconnect();
    await this.loop?.catch(() => undefined);
  }

  /**
   * After a failed read: a lost link is waited out on its own `ready` event (ioredis reconnects
   * it); a read that failed on a live link is retried after a pause, so it cannot spin.
   */
  private async untilReaderCanRetry(reader: RedisClient): Promise<void> {
    if (reader.status === 'ready') {
      await delay(RETRY_PAUSE_MS);
      return;
    }
    await whenReady(reader, RECONNECT_WAIT_MS).catch(() => undefined);
  }

  private async start(): Promise<void> {
    const last = (await storeCall(() => this.redis.xrevrange(this.stream, '+', '-', 'COUNT', 1))) as StreamEntry[];
    const reader = await openBlockingConnection(this.redis);
    this.reader = reader;
    let lastId = last[0]?.[0] ?? '0-0';
    this.loop = (async () => {
      while (!this.closed) {
        try {
          const result = (await reader.xread('COUNT', 200, 'BLOCK', 2000, 'STREAMS', this.stream, lastId));
          const entries = result?.[0]?.[1] ?? [];
          if (entries.length === 0) continue;
          lastId = entries[entries.length - 1]![0];
          const items = entries.map(toItem).filter((i): i is FeedItem => i !== null);
          for (const listener of this.listeners) listener(items);
        } catch (err) {
          if (this.closed) return;
          this.logger.warn({ event: 'feed-tail', err: (err as Error).message }, 'feed tail read failed');
          await this.untilReaderCanRetry(reader);
        }
      }
    })();
  }
}
