/**
 * HTTP load with autocannon, in this process, against a server listening on loopback. Latency
 * percentiles are autocannon's (HdrHistogram of every 2xx response, whole milliseconds).
 */
import autocannon from 'autocannon';
import { round } from './stats.js';

export interface HttpLoadResult {
  requests: number;
  /** 2xx answers. */
  ok: number;
  /** Non-2xx answers and connection errors or timeouts. */
  failed: number;
  /** 2xx answers per second over the run. */
  perSec: number;
  latencyMs: { p50: number; p99: number };
  /** Status codes of the answers (for a run with failures: why). */
  statusCodes: Record<string, number>;
}

export async function httpLoad(options: autocannon.Options): Promise<HttpLoadResult> {
  const result = await autocannon({ timeout: 10, ...options });
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]));
  return {
    requests: result.requests.total,
    ok: result['2xx'],
    failed: result.non2xx + result.errors,
    perSec: round(result['2xx'] / result.duration, 1),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    statusCodes,
  };
}
