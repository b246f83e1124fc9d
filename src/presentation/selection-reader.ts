/**
 * Reads what selection needs for a whole call:
 * 1. for each party, in one pipeline: the party's data version and the rotation counter (moved on
 *    by one per call, so sequential boxes rotate with no extra write), and — unless this instance
 *    holds the party's data at that version — its preferences, library and personal boxes;
 * 2. the catalog resources and boxes the candidates name (`catalogNeeds`): two HMGETs in the
 *    catalog's slot. When this instance holds both parties' data, these go in the first round
 *    trip (see `forCall`): one round trip in all.
 * A party whose data changed since this instance read it costs one more round trip.
 *
 * A party's data is kept in the process (parsed, a bounded number of users) under its
 * `dataVersion` (see `kept-by-version.ts`); so a call never selects from data older than the last
 * write it could see.
 *
 * The catalog is read from Redis on every call rather than cached in the process: a withdrawn
 * resource must stop being presented at once on every instance, and one HMGET costs less than
 * keeping a cache coherent across instances.
 */
import type { Identity } from '../domain/identity.js';
import type { Box, LibraryEntry, Resource } from '../domain/types.js';
import type { Keys } from '../store/keys.js';
import { KeptByVersion } from '../store/kept-by-version.js';
import { pipelined, type RedisCommand } from '../store/pipelines.js';
import { storeCall, type RedisClient } from '../store/redis.js';
import { parsePreferences } from '../store/user-store.js';
import type { CatalogView, OwnerData } from './select.js';

export interface PartySnapshot extends OwnerData {
  /** Rotation position of the party's sequential boxes for this selection. */
  rotation: number;
}

export type Rotation = 'advance' | 'peek';

export interface SelectionReaderOptions {
  /** How many users' data this instance keeps between calls (0: read it on every call). */
  cachedParties: number;
}

export class SelectionReader {
  private readonly kept: KeptByVersion<OwnerData>;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    options: SelectionReaderOptions = { cachedParties: 0 },
  ) {
    this.kept = new KeptByVersion(options.cachedParties);
  }

  /**
   * Each party's data, in the order asked. `advance` moves each counter on (a call); `peek`
   * reads the position the next call would get (a preview) and changes nothing.
   */
  parties<T extends readonly Identity[]>(uids: T, rotation: Rotation): Promise<{ [K in keyof T]: PartySnapshot }> {
    return storeCall(async () => (await this.read(uids, rotation, null)).parties as { [K in keyof T]: PartySnapshot });
  }

  /**
   * A call's parties (counters moved on) and the catalog entries `needsOf` names for them. When
   * this instance holds every party's data, what its candidates need is known before anything is
   * read: the catalog goes in the same round trip as the versions, and is used if none moved.
   * A whole call start then reads in one round trip.
   */
  forCall(uids: readonly Identity[], needsOf: NeedsOf): Promise<{ parties: PartySnapshot[]; catalog: CatalogView }> {
    return storeCall(async () => {
      const { parties, catalog } = await this.read(uids, 'advance', needsOf);
      return { parties, catalog: catalog ?? (await this.catalogNow(needsOf(parties))) };
    });
  }

  /** The parties, and the catalog when `needsOf` could name it from kept data that proved current. */
  private async read(uids: readonly Identity[], rotation: Rotation, needsOf: NeedsOf | null): Promise<{ parties: PartySnapshot[]; catalog: CatalogView | null }> {
    const distinct = [...new Set(uids)];
    const kept = distinct.map((uid) => this.kept.get(uid));
    const keptData = kept.every((k) => k !== undefined) ? uids.map((uid) => kept[distinct.indexOf(uid)]!.value) : null;
    const early = needsOf && keptData ? catalogQuery(this.keys, needsOf(keptData)) : null;
    const groups = distinct.map((uid, i): RedisCommand[] => {
      const keys = this.keys.user(uid);
      const counter: RedisCommand = rotation === 'advance' ? ['INCR', keys.rotation] : ['GET', keys.rotation];
      return [counter, ...this.dataCommands(uid, kept[i] ? 'version' : 'all')];
    });
    const first = await pipelined(this.redis, early ? [...groups, early.commands] : groups);
    const data = distinct.map((uid, i) => {
      const [, ...replies] = first[i]!;
      const known = kept[i];
      if (!known) return this.keep(uid, replies);
      return known.version === (replies[0] as string | null) ? known.value : null;
    });
    const changed = distinct.filter((_, i) => data[i] === null);
    if (changed.length > 0) {
      const again = await pipelined(this.redis, changed.map((uid) => this.dataCommands(uid, 'all')));
      changed.forEach((uid, j) => (data[distinct.indexOf(uid)] = this.keep(uid, again[j]!)));
    }
    const byUid = new Map(
      distinct.map((uid, i) => {
        const counter = first[i]![0] as string | number | null;
        return [uid, { ...data[i]!, rotation: Number(counter ?? 0) + (rotation === 'advance' ? 0 : 1) }];
      }),
    );
    const parties = uids.map((uid) => byUid.get(uid)!);
    return { parties, catalog: early && changed.length === 0 ? early.view(first[distinct.length] ?? []) : null };
  }

  /** The version alone, or the version followed by the data (read after it, so a write in between only makes the copy newer than its version). */
  private dataCommands(uid: Identity, what: 'version' | 'all'): RedisCommand[] {
    const keys = this.keys.user(uid);
    const version: RedisCommand = ['GET', keys.dataVersion];
    return what === 'version' ? [version] : [version, ['GET', keys.preferences], ['HVALS', keys.library], ['HVALS', keys.boxes]];
  }

  private keep(uid: Identity, [version, preferences, library, boxes]: unknown[]): OwnerData {
    const data: OwnerData = {
      identity: uid,
      preferences: parsePreferences(preferences as string | null),
      library: (library as string[]).map((raw) => JSON.parse(raw) as LibraryEntry),
      boxes: (boxes as string[]).map((raw) => JSON.parse(raw) as Box),
    };
    this.kept.set(uid, version as string | null, data);
    return data;
  }

  /** The catalog resources and boxes named by `needs` (absent ones left out), in one round trip. */
  catalog(needs: readonly CatalogNeeds[]): Promise<CatalogView> {
    return storeCall(() => this.catalogNow(needs));
  }

  private async catalogNow(needs: readonly CatalogNeeds[]): Promise<CatalogView> {
    const query = catalogQuery(this.keys, needs);
    if (query.commands.length === 0) return query.view([]);
    const [replies] = await pipelined(this.redis, [query.commands]);
    return query.view(replies!);
  }
}

/** What the candidates of some selections name in the catalog. */
export interface CatalogNeeds {
  resourceIds: readonly string[];
  boxIds: readonly string[];
}

/** Names each party's catalog needs, given the parties' data in the order of the call's identities. */
export type NeedsOf = (parties: readonly OwnerData[]) => CatalogNeeds[];

/** The HMGETs (in the catalog's slot) that read `needs`, and how their replies make the view. */
function catalogQuery(keys: Keys, needs: readonly CatalogNeeds[]): { commands: RedisCommand[]; view: (replies: unknown[]) => CatalogView } {
  const resourceIds = [...new Set(needs.flatMap((n) => n.resourceIds))];
  const boxIds = [...new Set(needs.flatMap((n) => n.boxIds))];
  const commands: RedisCommand[] = [];
  if (resourceIds.length > 0) commands.push(['HMGET', keys.resources, ...resourceIds]);
  if (boxIds.length > 0) commands.push(['HMGET', keys.catalogBoxes, ...boxIds]);
  return {
    commands,
    view: (replies) => {
      // One reply per HMGET sent, in order: an empty id list sent none.
      let next = 0;
      const found = (ids: readonly string[]) => (ids.length === 0 ? [] : (replies[next++] as Array<string | null>));
      return { resources: byId<Resource>(found(resourceIds)), boxes: byId<Box>(found(boxIds)) };
    },
  };
}

function byId<T extends { id: string }>(raws: ReadonlyArray<string | null>): Map<string, T> {
  return new Map(raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as T).map((doc) => [doc.id, doc]));
}
