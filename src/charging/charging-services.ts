/**
 * Assembles charging and activity recording from the configuration: the charging port of
 * `CMR_CHARGING_MODE`, charged actions, the recorder and feeds, the idempotency store, the
 * recoverer and (with `CMR_PORTAL_WEBHOOK_URL`) the portal delivery. Background work starts here
 * and stops with `stop()`.
 */
import { ActivityFeed } from '../activity/activity-feed.js';
import { ActivityRecorder } from '../activity/activity-recorder.js';
import { OutboxRelay } from '../activity/outbox-relay.js';
import { PortalWebhook, type PortalWebhookOptions } from '../activity/portal-webhook.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { IdempotencyStore } from '../store/idempotency-store.js';
import type { Keys } from '../store/keys.js';
import { Notifications } from '../store/notifications.js';
import { PendingWork } from '../store/pending-work.js';
import type { RedisClient } from '../store/redis.js';
import { ActionStore } from './action-store.js';
import { CdrCharging } from './cdr-charging.js';
import { ChargeLedger } from './charge-ledger.js';
import { ChargedActions, type ApplierTable } from './charged-actions.js';
import type { ChargingPort } from './charging-port.js';
import { NchfCharging } from './nchf-charging.js';
import { Recoverer, type RecovererOptions } from './recoverer.js';

export interface ChargingServices {
  /** The configured Charging Enabler port. */
  charging: ChargingPort;
  chargedActions: ChargedActions;
  activities: ActivityRecorder;
  activityFeed: ActivityFeed;
  charges: ChargeLedger;
  idempotency: IdempotencyStore;
  recoverer: Recoverer;
  portalWebhook: PortalWebhook | null;
  stop: () => Promise<void>;
}

export interface ChargingServiceOptions {
  recoverer?: RecovererOptions;
  /** Lease of an intent to its request (default: `CMR_CHARGING_LEASE_MS`, else 30 s or more with a slow CHF). */
  intentLeaseMs?: number;
  portalWebhook?: Omit<PortalWebhookOptions, 'url'>;
  /** Start the recoverer and the portal delivery (default true). */
  background?: boolean;
}

export async function createChargingServices(
  parts: { config: Config; logger: Logger; metrics: Metrics; redis: RedisClient; keys: Keys; now: () => Date; appliers?: ApplierTable },
  options: ChargingServiceOptions = {},
): Promise<ChargingServices> {
  const { config, logger, metrics, redis, keys, now } = parts;
  const leaseMs = options.intentLeaseMs ?? config.charging.leaseMs;
  const offline = new CdrCharging();
  const charging: ChargingPort =
    config.charging.mode === 'nchf' && config.charging.chfUrl
      ? new NchfCharging({ chfUrl: config.charging.chfUrl, timeoutMs: config.charging.chfTimeoutMs, asIdentity: config.charging.asIdentity }, logger.child({ module: 'nchf' }))
      : offline;
  const notifications = new Notifications(redis, logger);
  const idempotency = new IdempotencyStore(redis, keys, notifications);
  const pending = new PendingWork(redis, keys);
  const store = new ActionStore(redis, keys);
  const relay = new OutboxRelay(redis, keys, pending);
  const chargedActions = new ChargedActions({
    store,
    idempotency,
    pending,
    relay,
    notifications,
    keys,
    metrics,
    logger: logger.child({ module: 'charging' }),
    online: charging,
    offline,
    chfTimeoutMs: config.charging.chfTimeoutMs,
    ...(leaseMs ? { leaseMs } : {}),
    ...(parts.appliers ? { appliers: parts.appliers } : {}),
    now,
  });
  const activities = new ActivityRecorder(store, pending, relay, logger, chargedActions.leaseMs, now);
  const activityFeed = new ActivityFeed(redis, keys, logger);
  const recoverer = new Recoverer(pending, store, chargedActions, relay, logger.child({ module: 'recoverer' }), options.recoverer);
  const portalWebhook = config.portal.webhookUrl
    ? new PortalWebhook(redis, keys.activityStream, metrics, logger.child({ module: 'portal-webhook' }), { ...options.portalWebhook, url: config.portal.webhookUrl })
    : null;
  if (options.background ?? true) {
    recoverer.start();
    await portalWebhook?.start();
  }
  return {
    charging,
    chargedActions,
    activities,
    activityFeed,
    charges: new ChargeLedger(redis, keys),
    idempotency,
    recoverer,
    portalWebhook,
    stop: async () => {
      chargedActions.stop();
      await recoverer.stop();
      await portalWebhook?.stop();
      await activityFeed.close();
      await notifications.close();
      await charging.close?.();
    },
  };
}
