/**
 * Delivers every activity record of the global stream to the CMR Portal (`CMR_PORTAL_WEBHOOK_URL`):
 * a POST of the record as JSON with its event id in `X-CMR-Event-Id`, so the portal can drop
 * duplicates. Delivery is at least once and survives restarts: records are read through a Redis
 * consumer group and acknowledged only after a 2xx, so an unacknowledged record stays pending and
 * is sent again — by this instance after a backoff, or by another once it has been idle long
 * enough (the previous incarnation of a restarted server included). Records go out in order:
 * a failing one is retried, with exponential backoff, before later ones.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { openBlockingConnection } from '../store/blocking-connection.js';
import type { RedisClient } from '../store/redis.js';

export interface PortalWebhookOptions {
  url: string;
  timeoutMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long another consumer's pending record must be idle before this one takes it over. */
  claimIdleMs?: number;
  batch?: number;
}

type StreamEntry = [id: string, fields: string[] | null];

export const PORTAL_GROUP = 'portal';

export class PortalWebhook {
  readonly consumer = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private reader: RedisClient | null = null;
  private loop: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private failures = 0;
  private markReady: () => void = () => undefined;
  /** Settles once the consumer group is joined (or the first attempt failed), so start-up does not wait on a dead store. */
  private readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));

  constructor(
    private readonly redis: RedisClient,
    private readonly stream: string,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: PortalWebhookOptions,
  ) {}

  /** Joins the consumer group (created at the stream's end the first time) and starts delivering. */
  async start(): Promise<void> {
    this.loop = this.run();
    await this.ready;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.markReady();
    this.wake?.();
    this.reader?.disconnect();
    await this.loop;
  }

  private async ensureGroup(reader: RedisClient): Promise<void> {
    try {
      await reader.xgroup('CREATE', this.stream, PORTAL_GROUP, '$', 'MKSTREAM');
    } catch (err) {
      if (!(err as Error).message.includes('BUSYGROUP')) throw err;
    }
  }

  private async run(): Promise<void> {
    try {
      await this.deliverUntilStopped();
    } finally {
      this.reader?.disconnect();
    }
  }

  private async deliverUntilStopped(): Promise<void> {
    let reader: RedisClient | null = null;
    let groupReady = false;
    while (!this.stopped) {
      try {
        reader ??= this.reader = await openBlockingConnection(this.redis);
        if (!groupReady) {
          await this.ensureGroup(reader);
          groupReady = true;
          this.markReady();
        }
        const entries = await this.nextBatch(reader);
        for (const [id, fields] of entries) {
          if (this.stopped) return;
          const record = fields ? fieldValue(fields, 'record') : undefined;
          const eventId = fields ? fieldValue(fields, 'id') : undefined;
          if (record === undefined || eventId === undefined) {
            // Trimmed from the stream before it could be delivered: nothing left to send.
            await reader.xack(this.stream, PORTAL_GROUP, id);
            continue;
          }
          if (await this.deliver(id, eventId, record)) {
            await reader.xack(this.stream, PORTAL_GROUP, id);
            this.failures = 0;
          } else {
            this.failures++;
            await this.sleep(Math.min((this.options.initialBackoffMs ?? 1000) * 2 ** (this.failures - 1), this.options.maxBackoffMs ?? 300_000));
            break;
          }
        }
      } catch (err) {
        if (this.stopped) return;
        this.logger.warn({ event: 'portal-webhook', err: (err as Error).message }, 'portal delivery paused until the store answers');
        this.markReady();
        await this.sleep(1000);
      }
    }
  }

  /** Own pending records first (oldest first), then stale ones of other consumers, then new ones. */
  private async nextBatch(reader: RedisClient): Promise<StreamEntry[]> {
    const count = this.options.batch ?? 20;
    const own = (await reader.xreadgroup('GROUP', PORTAL_GROUP, this.consumer, 'COUNT', count, 'STREAMS', this.stream, '0'));
    const mine = own?.[0]?.[1] ?? [];
    if (mine.length > 0) return mine;
    const claimed = (await reader.xautoclaim(this.stream, PORTAL_GROUP, this.consumer, this.options.claimIdleMs ?? 60_000, '0-0', 'COUNT', count)) as [string, StreamEntry[]];
    if (claimed[1].length > 0) return claimed[1];
    const fresh = (await reader.xreadgroup('GROUP', PORTAL_GROUP, this.consumer, 'COUNT', count, 'BLOCK', 2000, 'STREAMS', this.stream, '>'));
    return fresh?.[0]?.[1] ?? [];
  }

  private async deliver(cursor: string, eventId: string, record: string): Promise<boolean> {
    const timeoutMs = this.options.timeoutMs ?? 5000;
    try {
      const response = await request(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-cmr-event-id': eventId, 'x-cmr-event-cursor': cursor },
        body: record,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await response.body.dump();
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      this.metrics.portalDeliveries.inc({ result: ok ? 'delivered' : 'failed' });
      if (!ok) this.logger.warn({ event: 'portal-delivery', eventId, status: response.statusCode }, 'portal refused a record');
      return ok;
    } catch (err) {
      this.metrics.portalDeliveries.inc({ result: 'failed' });
      this.logger.warn({ event: 'portal-delivery', eventId, err: (err as Error).message }, 'portal unreachable');
      return false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function fieldValue(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
