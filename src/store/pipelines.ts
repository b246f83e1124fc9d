/**
 * Commands on several keys in as few round trips as the deployment allows. Commands come in
 * groups whose keys share one hash slot (one user's keys, one call's key, the catalog). On a
 * single node every group goes in one pipeline. A Cluster pipeline must stay on one node, so
 * there each group is its own pipeline and all are sent at once: still about one round trip.
 */
import { Cluster } from 'ioredis';
import type { RedisClient } from './redis.js';

export type RedisCommand = [name: string, ...args: Array<string | number>];

/** Runs the groups; answers each group's replies in order, or rejects with the first error. */
export async function pipelined(redis: RedisClient, groups: readonly RedisCommand[][]): Promise<unknown[][]> {
  if (redis instanceof Cluster) return Promise.all(groups.map((group) => execute(redis, group)));
  const replies = await execute(redis, groups.flat());
  let offset = 0;
  return groups.map((group) => replies.slice(offset, (offset += group.length)));
}

async function execute(redis: RedisClient, commands: readonly RedisCommand[]): Promise<unknown[]> {
  if (commands.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const [name, ...args] of commands) pipeline.call(name, args);
  const results = await pipeline.exec();
  if (results === null) throw new Error('Redis pipeline was discarded');
  return results.map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
}
