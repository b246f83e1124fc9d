/**
 * Builds the server's parts from its configuration: the Redis connection, stores and core
 * services. The server entry, the tests and the benchmarks all start from here, so they run the
 * same code; tests pass a fresh Redis namespace to stay apart.
 */
import type { Config } from './config/config.js';
import { CatalogService, ClientRegistry } from './catalog/catalog-service.js';
import { createChargingServices, type ChargingServiceOptions, type ChargingServices } from './charging/charging-services.js';
import { CopyService } from './copy/copy-service.js';
import { SipCopy } from './copy/sip-copy.js';
import type { SipCopyPort } from './copy/sip-copy-port.js';
import type { Box, CmrClient, Resource } from './domain/types.js';
import type { Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { Readiness } from './observability/readiness.js';
import { createManagement, managementAppliers, type ManagementOptions, type ManagementServices } from './management/management.js';
import { CallService } from './presentation/call-service.js';
import { SelectionReader } from './presentation/selection-reader.js';
import { SessionStore } from './presentation/session-store.js';
import { JsonHash } from './store/json-hash.js';
import { Keys } from './store/keys.js';
import { closeRedis, connectRedis, openRedis, type RedisClient } from './store/redis.js';
import { UserStore } from './store/user-store.js';

export interface Services extends Omit<ChargingServices, 'stop'> {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  readiness: Readiness;
  redis: RedisClient;
  keys: Keys;
  catalog: CatalogService;
  catalogBoxes: JsonHash<Box>;
  clients: ClientRegistry;
  users: UserStore;
  /** Call-time selection and presenting sessions (the SIP fronts' `CallEvents`), lookups and preview. */
  calls: CallService;
  /** Online (SIP and REST) and offline copies. */
  copy: CopyService;
  /** The SIP fronts' copy port: copy requests in INFO, answered through the copy service. */
  sipCopy: SipCopyPort;
  /** Library, boxes, gifts, preferences and service information; the library sweeper. */
  management: Omit<ManagementServices, 'stop'>;
  /** Background work (sweepers, deliveries) registers its stop function here. */
  onClose(stop: () => Promise<void> | void): void;
  close(): Promise<void>;
}

export interface ServiceOptions {
  /** Collect process metrics (the server does; tests building many apps do not). */
  defaultMetrics?: boolean;
  now?: () => Date;
  /** Uniform in [0, 1): draws the item of random boxes (tests give a seeded source). */
  random?: () => number;
  /** Recoverer and portal delivery settings (tests shorten their timings). */
  charging?: ChargingServiceOptions;
  /** Library sweeper settings (tests drive it themselves). */
  management?: ManagementOptions;
}

export async function createServices(config: Config, logger: Logger, options: ServiceOptions = {}): Promise<Services> {
  const redis = connectRedis(config.redis, logger);
  try {
    await openRedis(redis);
  } catch (err) {
    // Start anyway: calls fail open and /readyz reports the store until it comes back.
    logger.warn({ event: 'redis', err: (err as Error).message }, 'redis not reachable at start-up');
  }
  const keys = new Keys(config.redis.namespace);
  const now = options.now ?? (() => new Date());
  const metrics = new Metrics({ defaultMetrics: options.defaultMetrics ?? false });
  const readiness = new Readiness();
  readiness.register('redis', async () => (await redis.ping()) === 'PONG');

  const stops: Array<() => Promise<void> | void> = [];
  const calls = new CallService(
    {
      reader: new SelectionReader(redis, keys, { cachedParties: config.sip.selectCachedUsers }),
      sessions: new SessionStore(redis, keys, config.sessions),
      metrics,
      logger,
    },
    { budgetMs: config.sip.selectBudgetMs, now, random: options.random ?? Math.random },
  );
  stops.push(() => calls.drain());
  const { stop: stopCharging, ...charging } = await createChargingServices({ config, logger, metrics, redis, keys, now, appliers: managementAppliers }, options.charging);
  stops.push(stopCharging);
  const catalog = new CatalogService(new JsonHash<Resource>(redis, keys.resources), now);
  const catalogBoxes = new JsonHash<Box>(redis, keys.catalogBoxes);
  const clients = new ClientRegistry(new JsonHash<CmrClient>(redis, keys.clients), now);
  const users = new UserStore(redis, keys);
  const { stop: stopManagement, ...management } = createManagement(
    { config, logger, metrics, redis, keys, now, catalog, catalogBoxes, users, chargedActions: charging.chargedActions, activities: charging.activities },
    options.management,
  );
  stops.push(stopManagement);
  const copy = new CopyService({ calls, catalog, clients, users, chargedActions: charging.chargedActions, activities: charging.activities, expiryIndex: management.expiryIndex, metrics, logger: logger.child({ module: 'copy' }) });
  const services: Services = {
    ...charging,
    config,
    logger,
    metrics,
    readiness,
    redis,
    keys,
    catalog,
    catalogBoxes,
    clients,
    users,
    calls,
    management,
    copy,
    sipCopy: new SipCopy(copy, { copyKey: config.sip.copyKey, warningHost: config.sip.publicHost }, logger.child({ module: 'sip-copy' })),
    onClose: (stop) => stops.push(stop),
    close: async () => {
      for (const stop of stops.reverse()) await stop();
      await closeRedis(redis);
    },
  };
  return services;
}
