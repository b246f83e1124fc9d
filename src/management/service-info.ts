/**
 * Service information (management flow steps 1–2): a user's preferences, library, personal boxes
 * and privacy, read in one pipeline from the user's hash slot.
 *
 * The answer is kept in the process under the user's data version (see `kept-by-version.ts`):
 * a read whose version is unchanged costs one tiny round trip and no parsing. An answer is kept
 * no later than the next expiry of an active library entry, since that changes what is reported
 * without any write.
 */
import type { Identity } from '../domain/identity.js';
import type { Box, LibraryEntry, Preferences, Privacy } from '../domain/types.js';
import { KeptByVersion } from '../store/kept-by-version.js';
import type { Keys } from '../store/keys.js';
import { pipelined, type RedisCommand } from '../store/pipelines.js';
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

export interface ServiceInfoOptions {
  /** How many users' answers this instance keeps (0: read everything on every request). */
  keptUsers: number;
}

type DataReplies = [preferences: string | null, library: string[], boxes: string[]];

export class ServiceInfoReader {
  private readonly kept: KeptByVersion<ServiceInfo>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly now: () => Date,
    options: ServiceInfoOptions = { keptUsers: 0 },
  ) {
    this.kept = new KeptByVersion(options.keptUsers);
  }

  /** The same object for as long as the answer is unchanged, so a caller may keep what it derives from it. */
  read(uid: Identity): Promise<ServiceInfo> {
    const keys = this.keys.user(uid);
    // The version first, then the data: a write in between only makes the data newer than its version.
    const version: RedisCommand = ['GET', keys.dataVersion];
    const data: RedisCommand[] = [['GET', keys.preferences], ['HVALS', keys.library], ['HVALS', keys.boxes]];
    return storeCall(async () => {
      const at = this.now();
      const known = this.kept.get(uid, at.getTime());
      let [current, ...replies] = (await pipelined(this.redis, [known ? [version] : [version, ...data]]))[0]!;
      if (known && known.version === current) return known.value;
      if (known) [current, ...replies] = (await pipelined(this.redis, [[version, ...data]]))[0]!;
      const info = serviceInfoOf(replies as DataReplies, at);
      this.kept.set(uid, current as string | null, info, nextExpiry(info.library), at.getTime());
      return info;
    });
  }
}

function serviceInfoOf([preferencesRaw, libraryRaw, boxesRaw]: DataReplies, at: Date): ServiceInfo {
  const preferences = parsePreferences(preferencesRaw);
  return {
    preferences,
    library: libraryView(libraryRaw.map((raw) => JSON.parse(raw) as LibraryEntry), at),
    boxes: boxesRaw.map((raw) => JSON.parse(raw) as Box).sort((a, b) => a.id.localeCompare(b.id)),
    privacy: preferences.privacy,
  };
}

/** When the first entry the view reports active expires (epoch ms), or never. */
function nextExpiry(library: readonly LibraryEntry[]): number {
  let first = Infinity;
  for (const entry of library) if (entry.status === 'active') first = Math.min(first, Date.parse(entry.expiresAt));
  return first;
}
