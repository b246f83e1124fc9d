/**
 * A separate connection for blocking reads (XREAD/XREADGROUP … BLOCK): the shared connection's
 * command timeout would cut every blocking read short, and a blocked shared connection would
 * stall everyone else. A dead link is still noticed: a blocking read may run at most its BLOCK
 * time plus a grace period. Nothing is auto-pipelined here: a command queued behind a blocked
 * read would wait for it.
 */
import { Cluster } from 'ioredis';
import { whenReady } from './ready.js';
import { storeCall, type RedisClient } from './redis.js';

export async function openBlockingConnection(redis: RedisClient): Promise<RedisClient> {
  const blocking = { commandTimeout: undefined, blockingTimeout: 30_000, blockingTimeoutGrace: 2_000 };
  const connection: RedisClient =
    redis instanceof Cluster
      ? redis.duplicate(undefined, { enableAutoPipelining: false, redisOptions: { ...redis.options.redisOptions, ...blocking } })
      : redis.duplicate({ ...blocking, enableAutoPipelining: false });
  connection.on('error', () => undefined);
  try {
    await storeCall(() => whenReady(connection));
  } catch (err) {
    connection.disconnect();
    throw err;
  }
  return connection;
}
