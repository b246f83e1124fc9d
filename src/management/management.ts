/**
 * Assembles the management use cases (library, boxes, gifts, preferences, service information)
 * and the library sweeper from the server's parts. The sweeper starts here and stops with `stop()`.
 */
import type { ActivityRecorder } from '../activity/activity-recorder.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import { ActionStore } from '../charging/action-store.js';
import type { ApplierTable, ChargedActions } from '../charging/charged-actions.js';
import type { Config } from '../config/config.js';
import type { Box } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { JsonHash } from '../store/json-hash.js';
import type { Keys } from '../store/keys.js';
import type { RedisClient } from '../store/redis.js';
import type { UserStore } from '../store/user-store.js';
import { BoxService } from './box-service.js';
import { CatalogBoxService } from './catalog-boxes.js';
import { ExpiryIndex } from './expiry-index.js';
import { GiftService } from './gift-service.js';
import { LibraryService } from './library-service.js';
import { PREFERENCES_EDIT, preferencesEditApplier } from './preferences-edits.js';
import { PreferencesService } from './preferences-service.js';
import { RenewalSweeper } from './renewal-sweeper.js';
import { ServiceInfoReader } from './service-info.js';

export interface ManagementServices {
  library: LibraryService;
  boxes: BoxService;
  catalogBoxes: CatalogBoxService;
  gifts: GiftService;
  preferences: PreferencesService;
  serviceInfo: ServiceInfoReader;
  expiryIndex: ExpiryIndex;
  sweeper: RenewalSweeper;
  stop: () => Promise<void>;
}

export interface ManagementOptions {
  /** Run the sweeper in the background (default true); tests may drive it with `runOnce()`. */
  background?: boolean;
}

export interface ManagementParts {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  redis: RedisClient;
  keys: Keys;
  now: () => Date;
  catalog: CatalogService;
  catalogBoxes: JsonHash<Box>;
  users: UserStore;
  chargedActions: ChargedActions;
  activities: ActivityRecorder;
}

/** The commands management plans and charged actions apply (given to them at construction, so the recoverer knows them from the start). */
export const managementAppliers: ApplierTable = { [PREFERENCES_EDIT]: preferencesEditApplier };

/** At most this many users' service answers are kept per instance (answers of 50-entry libraries are some 10 KB as JSON). */
const SERVICE_INFO_KEPT_MAX = 1000;

export function createManagement(parts: ManagementParts, options: ManagementOptions = {}): ManagementServices {
  const { config, logger, metrics, redis, keys, now, catalog, users, chargedActions: actions } = parts;
  const index = new ExpiryIndex(redis, keys, config.library.renewAheadSec * 1000);
  const catalogBoxes = new CatalogBoxService(parts.catalogBoxes, catalog, parts.activities, now);
  const library = new LibraryService({ actions, catalog, users, index, now });
  const sweeper = new RenewalSweeper(
    { index, library, users, locks: new ActionStore(redis, keys), keys, metrics, logger: logger.child({ module: 'sweeper' }), now, leaseMs: actions.leaseMs },
    { intervalMs: config.library.sweepIntervalMs },
  );
  if (options.background ?? true) sweeper.start();
  return {
    library,
    boxes: new BoxService({ actions, catalog, catalogBoxes, users, index }),
    catalogBoxes,
    gifts: new GiftService({ actions, catalog, users, index, activities: parts.activities }),
    preferences: new PreferencesService({ actions, users, catalogBoxes: parts.catalogBoxes }),
    // An answer (parsed and as JSON) weighs more than a party's parsed data: fewer are kept.
    serviceInfo: new ServiceInfoReader(redis, keys, now, { keptUsers: Math.min(config.sip.selectCachedUsers, SERVICE_INFO_KEPT_MAX) }),
    expiryIndex: index,
    sweeper,
    stop: () => sweeper.stop(),
  };
}
