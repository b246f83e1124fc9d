/**
 * Reads what selection needs, in two round trips for a whole call:
 * 1. for each party, in one pipeline: preferences, library, personal boxes and the rotation
 *    counter (moved on by one per call, so sequential boxes rotate with no extra write);
 * 2. the catalog resources and boxes the candidates name (`catalogNeeds`): two HMGETs in the
 *    catalog's slot.
 *
 * The catalog is read from Redis on every call rather than cached in the process: a withdrawn
 * resource must stop being presented at once on every instance, and one HMGET costs less than
 * keeping a cache coherent across instances.
 */
import type { Identity } from '../domain/identity.js';
import type { Box, LibraryEntry, Resource } from '../domain/types.js';
import type { Keys } from '../store/keys.js';
import { pipelined, type RedisCommand } from '../store/pipelines.js';
import { storeCall, type RedisClient } from '../store/redis.js';
import { parsePreferences } from '../store/user-store.js';
import type { CatalogView, OwnerData } from './select.js';

export interface PartySnapshot extends OwnerData {
  /** Rotation position of the party's sequential boxes for this selection. */
  rotation: number;
}

export type Rotation = 'advance' | 'peek';

export class SelectionReader {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /**
   * Each party's data, in the order asked. `advance` moves each counter on (a call); `peek`
   * reads the position the next call would get (a preview) and changes nothing.
   */
  parties<T extends readonly Identity[]>(uids: T, rotation: Rotation): Promise<{ [K in keyof T]: PartySnapshot }> {
    return storeCall(async () => {
      const distinct = [...new Set(uids)];
      const groups = distinct.map((uid): RedisCommand[] => {
        const keys = this.keys.user(uid);
        return [['GET', keys.preferences], ['HVALS', keys.library], ['HVALS', keys.boxes], rotation === 'advance' ? ['INCR', keys.rotation] : ['GET', keys.rotation]];
      });
      const replies = await pipelined(this.redis, groups);
      const byUid = new Map(
        distinct.map((uid, i) => {
          const [preferences, library, boxes, counter] = replies[i]! as [string | null, string[], string[], string | number | null];
          const snapshot: PartySnapshot = {
            identity: uid,
            preferences: parsePreferences(preferences),
            library: library.map((raw) => JSON.parse(raw) as LibraryEntry),
            boxes: boxes.map((raw) => JSON.parse(raw) as Box),
            rotation: Number(counter ?? 0) + (rotation === 'advance' ? 0 : 1),
          };
          return [uid, snapshot];
        }),
      );
      return uids.map((uid) => byUid.get(uid)!) as { [K in keyof T]: PartySnapshot };
    });
  }

  /** The catalog resources and boxes named by `needs` (absent ones left out), in one round trip. */
  catalog(needs: ReadonlyArray<{ resourceIds: readonly string[]; boxIds: readonly string[] }>): Promise<CatalogView> {
    const resourceIds = [...new Set(needs.flatMap((n) => n.resourceIds))];
    const boxIds = [...new Set(needs.flatMap((n) => n.boxIds))];
    if (resourceIds.length === 0 && boxIds.length === 0) return Promise.resolve({ resources: new Map(), boxes: new Map() });
    return storeCall(async () => {
      const commands: RedisCommand[] = [];
      if (resourceIds.length > 0) commands.push(['HMGET', this.keys.resources, ...resourceIds]);
      if (boxIds.length > 0) commands.push(['HMGET', this.keys.catalogBoxes, ...boxIds]);
      const [replies] = (await pipelined(this.redis, [commands])) as [Array<Array<string | null>>];
      // One reply per HMGET sent, in order: an empty id list sent none.
      let next = 0;
      const found = (ids: readonly string[]) => (ids.length === 0 ? [] : replies[next++]!);
      return { resources: byId<Resource>(found(resourceIds)), boxes: byId<Box>(found(boxIds)) };
    });
  }
}

function byId<T extends { id: string }>(raws: ReadonlyArray<string | null>): Map<string, T> {
  return new Map(raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as T).map((doc) => [doc.id, doc]));
}
