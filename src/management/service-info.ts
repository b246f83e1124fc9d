/**
 * Service information (management flow steps 1–2): a user's preferences, library, personal boxes
 * and privacy, read in one pipeline from the user's hash slot.
 */
import type { Identity } from '../domain/identity.js';
import type { Box, LibraryEntry, Preferences, Privacy } from '../domain/types.js';
import type { Keys } from '../store/keys.js';
import { pipelined } from '../store/pipelines.js';
import { storeCall, type RedisClient } from '../store/redis.js';
import { parsePreferences } from '../store/user-store.js';
import { libraryView } from './library-entries.js';

export interface ServiceInfo {
  preferences: Preferences;
  /** Newest first, with the status each entry has now. */
  library: LibraryEntry[];
  /** Personal boxes. */
  boxes: Box[];
  privacy: Privacy;
}

export class ServiceInfoReader {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly now: () => Date,
  ) {}

  read(uid: Identity): Promise<ServiceInfo> {
    const keys = this.keys.user(uid);
    return storeCall(async () => {
      const [[preferencesRaw, libraryRaw, boxesRaw]] = (await pipelined(this.redis, [[['GET', keys.preferences], ['HVALS', keys.library], ['HVALS', keys.boxes]]])) as [
        [string | null, string[], string[]],
      ];
      const preferences = parsePreferences(preferencesRaw);
      return {
        preferences,
        library: libraryView(libraryRaw.map((raw) => JSON.parse(raw) as LibraryEntry), this.now()),
        boxes: boxesRaw.map((raw) => JSON.parse(raw) as Box).sort((a, b) => a.id.localeCompare(b.id)),
        privacy: preferences.privacy,
      };
    });
  }
}
