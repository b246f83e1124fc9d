/**
 * The Redis connection: one node, or a Redis Cluster when the URL says so.
 * Commands fail fast while disconnected (no offline queue) so callers can fail open (calls)
 * or answer 503 (management), instead of piling up work behind a dead link.
 * Commands are auto-pipelined: those issued in the same event-loop turn (by one request or by
 * many at once) leave in one socket write, rather than one write (a system call) each.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { StoreUnavailableError } from '../domain/errors.js';

export type RedisClient = Redis | Cluster;

export function connectRedis(config: Config['redis'], logger: Logger): RedisClient {
  const common: RedisOptions = {
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: config.commandTimeoutMs,
    connectTimeout: 2000,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  };
  const client: RedisClient =
    config.target.mode === 'single'
      ? new Redis(config.target.url, common)
      : new Cluster(config.target.nodes, {
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          lazyConnect: true,
          redisOptions: { ...common, ...(config.target.password ? { password: config.target.password } : {}) },
          clusterRetryStrategy: (times) => Math.min(times * 100, 2000),
          slotsRefreshTimeout: 2000,
        });
  let lastState = '';
  const note = (state: string, err?: Error) => {
    if (state === lastState) return;
    lastState = state;
    if (err) logger.warn({ event: 'redis', state, err: err.message }, 'redis connection');
    else logger.info({ event: 'redis', state }, 'redis connection');
  };
  client.on('ready', () => note('ready'));
  client.on('end', () => note('closed'));
  client.on('error', (err: Error) => note('error', err));
  return client;
}

/** Opens the connection; resolves when ready or rejects after the connect timeout. */
export async function openRedis(client: RedisClient): Promise<void> {
  if (client.status === 'ready') return;
  await client.connect();
}

export async function closeRedis(client: RedisClient): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** Runs a store operation, turning connection failures and timeouts into `StoreUnavailableError`. */
export async function storeCall<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw isRedisFailure(err) ? new StoreUnavailableError(err) : err;
  }
}

export function isRedisFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof StoreUnavailableError) return true;
  const name = err.name;
  const message = err.message;
  return (
    name === 'MaxRetriesPerRequestError' ||
    name === 'ClusterAllFailedError' ||
    /Connection is closed|Stream isn't writeable|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|LOADING|CLUSTERDOWN|TRYAGAIN|MASTERDOWN|Failed to refresh slots|None of startup nodes is available|enableOfflineQueue|Cluster isn't ready/i.test(
      message,
    )
  );
}
