/** One user's service data in Redis: preferences (with privacy), library entries, personal boxes. */
import type { Identity } from '../domain/identity.js';
import { defaultPreferences, type Box, type LibraryEntry, type Preferences } from '../domain/types.js';
import { JsonHash } from './json-hash.js';
import type { Keys } from './keys.js';
import { storeCall, type RedisClient } from './redis.js';

export class UserStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  library(uid: Identity): JsonHash<LibraryEntry> {
    const keys = this.keys.user(uid);
    return new JsonHash<LibraryEntry>(this.redis, keys.library, keys.dataVersion);
  }

  boxes(uid: Identity): JsonHash<Box> {
    const keys = this.keys.user(uid);
    return new JsonHash<Box>(this.redis, keys.boxes, keys.dataVersion);
  }

  /** The user's preferences, or the defaults when none were ever stored. */
  preferences(uid: Identity): Promise<Preferences> {
    return storeCall(async () => {
      return parsePreferences(await this.redis.get(this.keys.user(uid).preferences));
    });
  }

  putPreferences(uid: Identity, preferences: Preferences): Promise<void> {
    return storeCall(async () => {
      const keys = this.keys.user(uid);
      await this.redis.multi().set(keys.preferences, JSON.stringify(preferences)).incr(keys.dataVersion).exec();
    });
  }
}

/** Stored preferences (JSON) over the defaults; the defaults when none were ever stored. */
export function parsePreferences(raw: string | null): Preferences {
  return raw === null ? defaultPreferences() : { ...defaultPreferences(), ...(JSON.parse(raw) as Partial<Preferences>) };
}
