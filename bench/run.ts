/** What every part of a run shares: the server's environment, progress lines, and interruption. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { BenchOptions } from './options.js';
import { loadConfig } from '../src/config/config.js';

/** Progress lines go to stderr; stdout carries only the table. */
export type Progress = (line: string) => void;

/** Every Redis namespace of this run starts with this. */
const RUN_PREFIX = `bench-${randomUUID().slice(0, 8)}`;
let instances = 0;

/**
 * The environment of each server instance a part starts: the Redis of the run under a fresh
 * `bench-…` namespace (deleted when the instance closes), the chosen log level, and a rate limit
 * high enough that the REST load measures the server rather than its limiter.
 */
export function benchEnv(options: BenchOptions, extra: Record<string, string> = {}): Record<string, string> {
  instances += 1;
  return {
    CMR_REDIS_URL: options.redisUrl,
    CMR_REDIS_NAMESPACE: `${RUN_PREFIX}-${instances}`,
    CMR_LOG_LEVEL: options.logLevel,
    CMR_HTTP_RATE_LIMIT: '1000000',
    // The product's own selection budget, not the generous one the SIP test harness sets.
    CMR_SELECT_BUDGET_MS: String(loadConfig({}).sip.selectBudgetMs),
    ...extra,
  };
}

const onInterrupt = new Set<() => void>();

/** Runs `stop` if the run is interrupted while `work` is under way (a child process to end). */
export async function stoppedOnInterrupt<T>(stop: () => void, work: Promise<T>): Promise<T> {
  onInterrupt.add(stop);
  try {
    return await work;
  } finally {
    onInterrupt.delete(stop);
  }
}

/**
 * On SIGINT or SIGTERM: ends the child processes under way and deletes this run's Redis keys
 * (the server instances cannot close themselves then), and exits 130.
 */
export function cleanUpOnInterrupt(redisUrl: string, progress: Progress): void {
  const interrupted = async () => {
    progress("interrupted: stopping sipp and deleting this run's Redis keys");
    for (const stop of onInterrupt) stop();
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${RUN_PREFIX}-*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
      process.exit(130);
    }
  };
  process.once('SIGINT', () => void interrupted());
  process.once('SIGTERM', () => void interrupted());
}
