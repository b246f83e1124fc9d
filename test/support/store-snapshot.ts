/**
 * Everything a test namespace holds in Redis, key by key, to show that a request changed nothing:
 * take a snapshot before and after and compare. Values are read in a canonical form (a hash's
 * fields sorted, and so on), not serialized with DUMP: a large hash is rehashed in the background,
 * which reorders DUMP's output though nothing changed.
 */
import type { Redis } from 'ioredis';
import type { RedisClient } from '../../src/store/redis.js';
import { storeNodes } from './context.js';

export type StoreSnapshot = Map<string, string>;

export async function snapshotOf(redis: RedisClient, namespace: string): Promise<StoreSnapshot> {
  const snapshot: StoreSnapshot = new Map();
  for (const node of storeNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
      cursor = next;
      for (const [key, value] of await canonicalValues(node, keys)) snapshot.set(key, value);
    } while (cursor !== '0');
  }
  return snapshot;
}

async function canonicalValues(node: Redis, keys: string[]): Promise<Array<[string, string]>> {
  if (keys.length === 0) return [];
  const types = (await node.pipeline(keys.map((key) => ['type', key])).exec()) ?? [];
  const reads = keys.map((key, i) => {
    const type = String(types[i]?.[1]);
    switch (type) {
      case 'hash':
        return ['hgetall', key];
      case 'set':
        return ['smembers', key];
      case 'zset':
        return ['zrange', key, '0', '-1', 'WITHSCORES'];
      case 'list':
        return ['lrange', key, '0', '-1'];
      case 'stream':
        return ['xrange', key, '-', '+'];
      default:
        return ['get', key];
    }
  });
  const values = (await node.pipeline(reads).exec()) ?? [];
  return keys.flatMap((key, i): Array<[string, string]> => {
    const [err, value] = values[i] ?? [];
    if (err || value === null || value === undefined) return []; // gone meanwhile (expired)
    const type = String(types[i]?.[1]);
    const canonical =
      type === 'hash' ? Object.entries(value as Record<string, string>).sort(([a], [b]) => (a < b ? -1 : 1)) : type === 'set' ? [...(value as string[])].sort() : value;
    return [[key, `${type} ${JSON.stringify(canonical)}`]];
  });
}

/** Keys added, removed or changed between two snapshots. */
export function changesBetween(before: StoreSnapshot, after: StoreSnapshot): string[] {
  const changes: string[] = [];
  for (const [key, value] of after) {
    if (!before.has(key)) changes.push(`added ${key}`);
    else if (before.get(key) !== value) changes.push(`changed ${key}`);
  }
  for (const key of before.keys()) if (!after.has(key)) changes.push(`removed ${key}`);
  return changes;
}
