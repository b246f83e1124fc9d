/** What every part of a run shares: the server's environment and a progress line writer. */
import { randomUUID } from 'node:crypto';
import type { BenchOptions } from './options.js';

/** Progress lines go to stderr; stdout carries only the table. */
export type Progress = (line: string) => void;

/**
 * The environment of each server instance a part starts: the Redis of the run under a fresh
 * `bench-…` namespace (deleted when the instance closes), the chosen log level, and a rate limit
 * high enough that the REST load measures the server rather than its limiter.
 */
export function benchEnv(options: BenchOptions, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CMR_REDIS_URL: options.redisUrl,
    CMR_REDIS_NAMESPACE: `bench-${randomUUID().slice(0, 8)}`,
    CMR_LOG_LEVEL: options.logLevel,
    CMR_HTTP_RATE_LIMIT: '1000000',
    ...extra,
  };
}
