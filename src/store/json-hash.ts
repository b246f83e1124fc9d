/** A Redis hash of JSON documents keyed by id: the shape of most collections here. */
import type { RedisClient } from './redis.js';
import { storeCall } from './redis.js';

export class JsonHash<T extends { id: string }> {
  /** With `versionKey`, every write also moves that counter on, in the same transaction. */
  constructor(
    private readonly redis: RedisClient,
    readonly key: string,
    private readonly versionKey?: string,
  ) {}

  get(id: string): Promise<T | null> {
    return storeCall(async () => {
      const raw = await this.redis.hget(this.key, id);
      return raw === null ? null : (JSON.parse(raw) as T);
    });
  }

  /** Documents for `ids`, in order, `null` where absent. */
  getMany(ids: readonly string[]): Promise<Array<T | null>> {
    if (ids.length === 0) return Promise.resolve([]);
    return storeCall(async () => {
      const raws = await this.redis.hmget(this.key, ...ids);
      return raws.map((raw) => (raw === null ? null : (JSON.parse(raw) as T)));
    });
  }

  all(): Promise<T[]> {
    return storeCall(async () => {
      const raws = await this.redis.hvals(this.key);
      return raws.map((raw) => JSON.parse(raw) as T);
    });
  }

  /** Stores `doc` only if its id is new; false when it already exists. */
  create(doc: T): Promise<boolean> {
    return storeCall(async () => (await this.write(['hsetnx', this.key, doc.id, JSON.stringify(doc)])) === 1);
  }

  put(doc: T): Promise<void> {
    return storeCall(async () => {
      await this.write(['hset', this.key, doc.id, JSON.stringify(doc)]);
    });
  }

  remove(id: string): Promise<boolean> {
    return storeCall(async () => (await this.write(['hdel', this.key, id])) === 1);
  }

  /** Runs one write, with the version counter moved on in the same transaction; its reply. */
  private async write([name, ...args]: [string, ...string[]]): Promise<unknown> {
    if (!this.versionKey) return this.redis.call(name, args);
    const results = await this.redis.multi().call(name, args).incr(this.versionKey).exec();
    if (!results) throw new Error(`Redis transaction on ${this.key} was discarded`);
    const [err, reply] = results[0]!;
    if (err) throw err;
    return reply;
  }
}
